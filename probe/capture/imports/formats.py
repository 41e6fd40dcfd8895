"""The formats of recordings made elsewhere, how a file's format is found, and what a format's reader yields.

In: a file of any of the formats below, untrusted. Out: traffic.jsonl lines (schema 1, before masking) and a
`Skipped` for each entry that could not be read. `probe.import_capture` masks the lines, writes the run folder and
analyses it.

Each format is one module of probe.capture.imports, exposing:
- `NAME: str`, the format's name as the manifest and messages give it;
- `LOST: tuple[str, ...]`, what a file of this format never keeps ("timing", "chunking", "websocket frames", ...),
  written into the manifest's `imported.lost` and the report; what only some files lose, `read` yields as `Lost`
  where it happens, so that a file that kept it is not said to have lost it;
- `sniff(head: bytes) -> bool`, whether a file is of this format, decided from its first 64 KiB (`HEAD_BYTES`) and
  never from its name;
- `read(path: Path) -> Iterator[dict | Skipped | Lost | Noted]`, the file's exchanges as traffic.jsonl lines, a
  `Skipped` for an entry that is not one, a `Lost` where an entry did not keep something, and a `Noted` for what the
  file gets wrong throughout (once each). Memory stays bounded whatever the file holds, and what it expands to within
  the import's bound (probe.capture.imports.expansion: bodies are decoded within it); a time the file does not give
  is null, never 0 or made up; nothing the file names is opened, imported or run.

`FORMATS` lists the modules in the order they are tried: a format that could pass for another is sniffed first.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from probe.common.errors import RunError
from probe.common.paths import display
from probe.redact.secrets import mask_tokens_and_urls

HEAD_BYTES = 64 * 1024  # what sniffing reads of a file

# The format modules of probe.capture.imports, in sniffing order. A fixed list: no module is ever named by a file.
FORMATS = (
    "har",
    "mitmproxy_flow",
    "vcr_cassette",
    "go_vcr",
    "claude_tap",
    "claude_tap_session",
    "traffic_jsonl",
    "original_jsonl",
)


@dataclass(frozen=True)
class Noted:
    """Something the whole file gets wrong that the import worked around (warned of, and kept in the manifest)."""

    where: str
    what: str


@dataclass(frozen=True)
class Skipped:
    """An entry of the file that is not an exchange: where in the file, and why (one line each)."""

    where: str
    why: str
    ends: bool = False  # it would expand past the import's bound (probe.capture.imports.expansion): the import stops

    def said(self) -> str:
        """The warning, with what the file held in it masked (a reason quotes what it could not read)."""
        return f"{self.where}: skipped: {mask_tokens_and_urls(self.why)}"


@dataclass(frozen=True)
class Lost:
    """Something an entry of the file did not keep, which others of its format may (said once per file)."""

    what: str


def format_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__package__}.{name}") for name in FORMATS]


def detect(path: Path) -> ModuleType:
    """The format module whose `sniff` takes the file's first 64 KiB; a file none takes is a one-line error that
    names the formats tried."""
    try:
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
    except OSError as error:
        raise RunError(f"cannot read {display(path)}: {error.strerror}") from None
    tried = format_modules()
    for module in tried:
        if module.sniff(head):
            return module
    names = ", ".join(module.NAME for module in tried)
    raise RunError(f"{display(path)}: not a recording this can import (tried: {names})")
