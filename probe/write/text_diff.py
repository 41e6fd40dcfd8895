"""Differences between two texts, line by line and word by word, with unchanged stretches cut short."""

import difflib
import re

# A word, or one other character, with the spaces before it (so that a space never matches on its own), or the
# spaces that end a text.
TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")
MAX_WORD_PAIRS = 4_000_000  # tokens of one side × the other's: beyond, the lines are shown whole
CONTEXT = 40  # characters of an unchanged stretch kept on each side of a change


def text_diff(old: str, new: str, context: int) -> str:
    """The lines that differ, in hunks with `context` unchanged lines around them (as difflib's unified_diff
    groups them), each changed line marked at the words that changed, as `git diff --word-diff=plain` marks them:
    `[-removed-]{+added+}`. Long unchanged stretches are cut to their ends with an ellipsis."""
    a, b = old.splitlines(), new.splitlines()
    lines = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        lines.append(f"@@ -{line_range(i1, i2)} +{line_range(j1, j2)} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [shortened(line, "both") for line in a[i1:i2]]
            else:
                lines += word_diff(a[i1:i2], b[j1:j2])
    if not lines and old != new:
        return "(the same lines: the texts differ only in their line breaks)"
    return "\n".join(lines)


def line_range(start: int, end: int) -> str:
    """A hunk's lines as a unified diff names them: `first,count`, `first` for one line."""
    length = end - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def word_diff(old_lines: list[str], new_lines: list[str]) -> list[str]:
    """Lines replaced by others, marked at the words that changed."""
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    if not old_lines or not new_lines or len(a) * len(b) > MAX_WORD_PAIRS:
        return [f"[-{line}-]" for line in old_lines] + [f"{{+{line}+}}" for line in new_lines]
    pieces = []  # (kind, text): "=" unchanged, "-" removed, "+" added
    for tag, i1, i2, j1, j2 in merged(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), a, b):
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            pieces.append(("=", removed))
            continue
        # Spaces (or a line break) both sides start with are no change: outside the marks, as git shows them.
        lead = 0
        while lead < min(len(removed), len(added)) and removed[lead] == added[lead] and removed[lead].isspace():
            lead += 1
        pieces += [("=", removed[:lead]), ("-", removed[lead:]), ("+", added[lead:])]
    return [marked(line) for line in split_lines(pieces)]


def merged(opcodes: list, a: list[str], b: list[str]) -> list:
    """The opcodes with each unchanged stretch that is small beside the changes on either side of it (a quarter of
    the smaller one, on one line) made part of the change: a sentence rewritten reads as one change, not as a
    mosaic of the little words both versions keep."""
    result: list[tuple] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal" and 0 < index < len(opcodes) - 1:
            kept = "".join(a[i1:i2])
            around = min(change_size(result[-1], a, b), change_size(opcodes[index + 1], a, b))
            if "\n" not in kept and 4 * len(kept.strip()) < around:
                tag = "replace"
        if result and tag != "equal" and result[-1][0] != "equal":
            _, i1, _, j1, _ = result.pop()
            tag = "replace"
        result.append((tag, i1, i2, j1, j2))
    return result


def change_size(opcode: tuple, a: list[str], b: list[str]) -> int:
    _, i1, i2, j1, j2 = opcode
    return max(len("".join(a[i1:i2]).strip()), len("".join(b[j1:j2]).strip()))


def split_lines(pieces: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The pieces cut at line ends: a mark never spans two lines (each line's part is marked on its own)."""
    lines: list[list[tuple[str, str]]] = [[]]
    for kind, text in pieces:
        for position, part in enumerate(text.split("\n")):
            if position:
                lines.append([])
            if part:
                lines[-1].append((kind, part))
    return lines


def marked(line: list[tuple[str, str]]) -> str:
    if all(kind == "=" for kind, _ in line):
        return shortened("".join(text for _, text in line), "both")
    shown = []
    for index, (kind, text) in enumerate(line):
        if kind == "-":
            shown.append(f"[-{text}-]")
        elif kind == "+":
            shown.append(f"{{+{text}+}}")
        else:
            where = "start" if index == 0 else "end" if index == len(line) - 1 else "middle"
            shown.append(shortened(text, where))
    return "".join(shown)


def shortened(text: str, where: str) -> str:
    """An unchanged stretch, cut to about CONTEXT characters beside the change (at a space, where there is one
    near): at a line's start, its end (and the line's first words); at a line's end, its start; between two
    changes, both ends; a whole unchanged line keeps its start."""
    if where == "both":
        return text if len(text) <= 2 * CONTEXT + 1 else head(text, 2 * CONTEXT) + "…"
    if where == "start":  # the line's first words too, which tell which line it is
        return (
            text
            if len(text) <= 2 * CONTEXT + 3
            else head(text, CONTEXT // 2).rstrip() + " … " + tail(text, CONTEXT).lstrip()
        )
    if where == "end":
        return text if len(text) <= CONTEXT + 1 else head(text, CONTEXT) + "…"
    if len(text) <= 2 * CONTEXT + 3:
        return text
    return head(text, CONTEXT).rstrip() + " … " + tail(text, CONTEXT).lstrip()


def head(text: str, size: int) -> str:
    space = text.rfind(" ", size - CONTEXT // 3, size)
    return text[: space + 1] if space > 0 else text[:size]


def tail(text: str, size: int) -> str:
    space = text.find(" ", len(text) - size, len(text) - size + CONTEXT // 3)
    return text[space:] if space >= 0 else text[-size:]
