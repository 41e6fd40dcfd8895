"""One level of JSON's string escapes taken off a text, and the way back: a secret found in the decoded text is
masked where it stands in the text as written, so that the JSON around it still parses to the same structure.

A tool call's `arguments` is JSON inside a JSON string: in a request body its quotes are written `\\"` and a quote
inside one of its strings `\\\\\\"`. Free-text rules read `NAME="value"` with one level of escaping at most; each
decoded view takes one more level off, until none is left. Only the standard library is imported: the capture
addon loads this under any mitmdump.
"""

import re

# The escapes JSON has, but `\\uXXXX` (decoded apart), each with the character it stands for.
SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# In bytes only `\\u00XX` below 0x80 is decoded (one byte, as the character it stands for is): a secret is ASCII,
# and a character past it is left as written, where it cannot be taken for part of one.
ESCAPE = {
    False: re.compile(r'\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt])'),
    True: re.compile(rb'\\(?:u00[0-7][0-9a-fA-F]|["\\/bfnrt])'),
}
UNICODE = {False: re.compile(r"\\u([0-9a-fA-F]{4})"), True: re.compile(rb"\\u(00[0-7][0-9a-fA-F])")}
# A character that stands in for `\\\\` while the other escapes are replaced (each replace runs in C, at memory
# speed): tried in order, the first the text does not hold.
STAND_INS = {False: ("\x00", "\x01"), True: (b"\x00", b"\x01")}


def decoded(text):
    """`text` (str or bytes) with each JSON escape replaced by what it stands for; the same object if it has none.
    A backslash before anything else stays as written."""
    is_bytes = isinstance(text, bytes)
    backslash = b"\\" if is_bytes else "\\"
    if backslash not in text:
        return text
    stand_in = next((each for each in STAND_INS[is_bytes] if usable(each, text)), None)
    if stand_in is None:
        return ESCAPE[is_bytes].sub(lambda found: character(found.group(), is_bytes), text)
    # Pairs first, left to right, as a JSON reader pairs them: every backslash left after that starts an escape.
    view = text.replace(backslash + backslash, stand_in)
    for letter, meaning in SIMPLE.items():
        if letter != "\\":
            escape = backslash + spelled(letter, is_bytes)
            if escape in view:
                view = view.replace(escape, spelled(meaning, is_bytes))
    if backslash + spelled("u", is_bytes) in view:
        view = UNICODE[is_bytes].sub(lambda found: spelled(chr(int(found.group(1), 16)), is_bytes), view)
    return view.replace(stand_in, backslash)


def usable(stand_in, text) -> bool:
    """Whether `stand_in` can stand for `\\\\` in `text`: the text holds it neither as it is nor as an escape."""
    return stand_in not in text and spelled(f"\\u{ord(stand_in):04x}", isinstance(text, bytes)) not in text


def spelled(text: str, as_bytes: bool):
    return text.encode("latin-1") if as_bytes else text


def character(escape, is_bytes: bool):
    """What one escape (as ESCAPE finds it) stands for."""
    letter = escape[1:2].decode("latin-1") if is_bytes else escape[1:2]
    if letter == "u":
        return spelled(chr(int(escape[2:6], 16)), is_bytes)
    return spelled(SIMPLE[letter], is_bytes)


def to_written(text, view_spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of `decoded(text)` as spans of `text`: each escape inside one is inside its span whole. One pass over
    the escapes before the last span's end."""
    if not view_spans:
        return []
    places = sorted({place for span in view_spans for place in span})
    written, shift, index = {}, 0, 0  # shift: how many characters of `text` the escapes so far took off
    for escape in ESCAPE[isinstance(text, bytes)].finditer(text):
        at = escape.start() - shift  # where the escape's character is in the view
        while index < len(places) and places[index] <= at:
            written[places[index]] = places[index] + shift
            index += 1
        if index == len(places):
            break
        shift += escape.end() - escape.start() - 1
    for place in places[index:]:
        written[place] = place + shift
    return [(written[start], written[end]) for start, end in view_spans]


# What the rules cannot read through as written. They read one level of `\\"` and `\\n` (a quote or a line end in a
# JSON string); a doubled backslash is a second level, and `\\t`, `\\/`, `\\u…` stand for characters a rule needs.
UNREADABLE = r"\\[\\/tbfu]"
# Such escapes no more than GAP characters apart, as one cluster; a region is a cluster with MARGIN characters on
# each side (a secret's name, and the secret, stand near the escaped quotes around them), widened to a word's end.
GAP, MARGIN, WIDEST = 1024, 512, 256
CLUSTER_PATTERN = f"{UNREADABLE}(?:(?s:.){{0,{GAP}}}?{UNREADABLE})*"
CLUSTER = {False: re.compile(CLUSTER_PATTERN), True: re.compile(CLUSTER_PATTERN.encode())}
UNREADABLE_FOUND = re.compile(UNREADABLE.encode())  # in a text written as JSON
EDGES = {False: frozenset(" \t\r\n\"'"), True: frozenset(b" \t\r\n\"'")}


def regions(text) -> list[tuple[int, int]]:
    """The parts of `text` that hold escapes the rules cannot read through, with what stands around them: all a
    rule reading them decoded needs to see. Each starts and ends beside white space or a quote where one is near,
    so that no token is cut in two at its edge."""
    edges, found = EDGES[isinstance(text, bytes)], []
    for cluster in CLUSTER[isinstance(text, bytes)].finditer(text):
        start, end = max(cluster.start() - MARGIN, 0), min(cluster.end() + MARGIN, len(text))
        start = next((place for place in range(start, max(start - WIDEST, 0), -1) if text[place - 1] in edges), start)
        end = next((place for place in range(end, min(end + WIDEST, len(text))) if text[place] in edges), end)
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


# The maintained rules are written for source code: they take a space where a quote or a line end may be. In their
# view of a text, each one-character escape's backslash is a space, and `\\n` a space and a line end.


def spaced(text):
    """`text` as the maintained rules read it: each backslash a space, and `\\n` a space and a line end. Every other
    character keeps its place, so what a rule finds in it is where it is in `text`. (Two passes in C: this reads
    every body. A doubled backslash, a second level, is read no better than as written: escaped_spans decodes it.)"""
    is_bytes = isinstance(text, bytes)
    backslash = b"\\" if is_bytes else "\\"
    if backslash not in text:
        return text
    view = text.replace(backslash + spelled("n", is_bytes), spelled(" \n", is_bytes))
    # `replace`, not `translate`: the same result, but `str.translate` looks up every character of a text that is
    # not ASCII one by one (~40 times slower on a body of megabytes).
    return view.replace(backslash, spelled(" ", is_bytes))
