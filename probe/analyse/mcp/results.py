"""What became of a server's result on its way to the model: the text the agent sent, kept bounded, against the
ways an agent writes a server's result out (its texts joined, or its JSON)."""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from probe.analyse.mcp.model import CHANGED, CUT, SAME

TEXT_KEPT = 1 << 20  # characters of a sent result kept whole; past it its start, its length and its digest
HEAD_KEPT = 4096
NOTE_ALLOWED = 300  # characters an agent may add after a cut result (its note of what it left out)


@dataclass(slots=True)
class SentText:
    """The text an agent sent the model as a tool's result: whole, or its start, its length and its digest."""

    length: int
    digest: str
    text: str  # whole when length <= TEXT_KEPT, else its first HEAD_KEPT characters

    @property
    def whole(self) -> bool:
        return len(self.text) == self.length


def sent_text(text: str) -> SentText:
    kept = text if len(text) <= TEXT_KEPT else text[:HEAD_KEPT]
    return SentText(len(text), digest(text), kept)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def renderings(result: Any, error: dict | None) -> list[str]:
    """The texts an agent may send for a server's answer: its text contents joined (as Claude Code and the others
    join them), the JSON of its content or of the whole result, or an error's message."""
    if error is not None:
        message = error.get("message")
        return [message] if isinstance(message, str) else []
    if not isinstance(result, dict):
        return []
    content = result.get("content")
    blocks = content if isinstance(content, list) else []
    texts = [block["text"] for block in blocks if isinstance(block, dict) and isinstance(block.get("text"), str)]
    found = [joiner.join(texts) for joiner in ("\n\n", "\n", "")] if texts else []
    for value in (content, result, result.get("structuredContent")):
        if value is not None:
            found.append(orjson.dumps(value, default=str).decode())
    return found


def compare(result: Any, error: dict | None, sent: SentText) -> str:
    """same: the agent sent one of the answer's renderings as it was; cut: the start of one, shorter (and perhaps
    a note of its own after it); changed: anything else."""
    found = renderings(result, error)
    if any(len(text) == sent.length and digest(text) == sent.digest for text in found):
        return SAME
    if any(is_cut(text, sent) for text in found):
        return CUT
    return CHANGED


def compare_within(result: Any, error: dict | None, sent: SentText) -> str | None:
    """The same for a result an agent's own tool passed on inside its output (codex's exec script prints it, its
    output around): same where a rendering (or each of its text contents) is found whole in that output; cut where
    one's start is, and the output ends within a note's length after what it holds of it; changed where none is
    found whole (the script printed it otherwise, or not at all); None where the output was kept only in part and
    held none whole."""
    found = [text for text in renderings(result, error) if text]
    content = result.get("content") if isinstance(result, dict) else None
    texts = [block.get("text") for block in content if isinstance(block, dict)] if isinstance(content, list) else []
    texts = [text for text in texts if isinstance(text, str) and text]
    if any(text in sent.text for text in found) or (texts and all(text in sent.text for text in texts)):
        return SAME
    if not sent.whole:
        return None
    for text in [*found, *texts]:
        start = sent.text.find(text[: max(min(len(text) // 2, 64), 1)])
        if start >= 0:
            held = common_prefix(text, sent.text[start:])
            return CUT if len(sent.text) - start - held <= NOTE_ALLOWED else CHANGED
    return CHANGED


def is_cut(text: str, sent: SentText) -> bool:
    if sent.length >= len(text) or not sent.text:
        return False
    if not sent.whole:
        return text.startswith(sent.text)
    shared = common_prefix(text, sent.text)
    return shared > 0 and shared >= sent.length - NOTE_ALLOWED and shared >= min(sent.length, 64) // 2


def common_prefix(first: str, second: str) -> int:
    """Characters `first` and `second` start with alike, found by halving (strings compare in C)."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
