"""Counts a text's tokens with a real BPE encoder that works offline (bpe-openai's bundled o200k_base), each distinct
text once: an agent re-sends the same instructions, tools and history every turn."""

import functools
import glob
import importlib.machinery
import importlib.util
import os
from collections import OrderedDict
from collections.abc import Callable

ENCODING = "o200k_base"  # OpenAI's current models'; for other vendors' models an estimate all the same
TEXTS_KEPT = 1 << 15  # distinct texts whose counts are remembered
CHARACTERS_KEPT = 1 << 26  # and their characters, at most: memory stays bounded whatever a capture holds


@functools.cache  # loaded once a process: the live viewer loads it before the first exchange arrives
def rust_counter(encoding: str) -> Callable[[str], int] | None:
    """bpe-openai's Rust tokenizer, loaded on its own. Importing the package decodes the rank tables of three
    encodings in Python to build a table of models (1.6 s, once per process), which counting does not use; the
    Rust tokenizer alone loads in 0.08 s and counts without building a list of tokens. None if it cannot be
    loaded that way (another layout of the package): the package's own API is used then."""
    spec = importlib.util.find_spec("bpe_openai")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    found = glob.glob(os.path.join(spec.submodule_search_locations[0], "_bindings*.so"))
    if len(found) != 1:
        return None
    try:
        loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", found[0])
        module = importlib.util.module_from_spec(
            importlib.util.spec_from_file_location("bpe_openai._bindings", found[0], loader=loader)
        )
        loader.exec_module(module)
        return module.tokenizer_for_encoding(encoding).count
    except (ImportError, AttributeError, OSError, ValueError):
        return None


def package_counter(encoding: str) -> Callable[[str], int]:
    """The package's public API: the same tokenizer, slower to load."""
    import bpe_openai

    encode = bpe_openai.get_encoding(encoding).encode_ordinary
    piece = 40_000  # characters per call: encode_ordinary refuses more than 200,000 tokens at once
    return lambda text: sum(len(encode(text[start : start + piece])) for start in range(0, len(text), piece))


class TokenCounter:
    """Counts with one encoding, remembering the counts of the texts it met last."""

    def __init__(self, encoding: str = ENCODING, fast: bool = True):
        self.encoding, self.fast = encoding, fast
        self.counted = (rust_counter(encoding) if fast else None) or package_counter(encoding)
        self.known: OrderedDict[str, int] = OrderedDict()
        self.characters = 0  # characters encoded, each distinct text counted once
        self.kept = 0  # characters of the texts remembered

    def __getstate__(self) -> dict:
        # The tokenizer is a native object: a counter saved with an analysis (probe.analysis.resume) loads it again.
        return {name: value for name, value in self.__dict__.items() if name != "counted"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.counted = (rust_counter(self.encoding) if self.fast else None) or package_counter(self.encoding)

    def count(self, text: str) -> int:
        if not text:
            return 0
        found = self.known.get(text)
        if found is not None:
            self.known.move_to_end(text)
            return found
        try:
            found = self.counted(text)
        except UnicodeEncodeError:  # a lone surrogate, which JSON allows and UTF-8 does not
            found = self.counted(text.encode("utf-8", "replace").decode("utf-8"))
        self.characters += len(text)
        self.known[text] = found
        self.kept += len(text)
        while len(self.known) > TEXTS_KEPT or self.kept > CHARACTERS_KEPT:
            self.kept -= len(self.known.popitem(last=False)[0])
        return found
