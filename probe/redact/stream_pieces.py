"""Secrets that a stream delivers in pieces: a model that repeats a `.env` file streams each key over several
deltas, each too short to look like one. The string values at one place of consecutive events (an SSE stream's
`data:` lines, a WebSocket's frames, a JSON array of chunks) are joined, searched with the text rules, and each
piece of a secret is masked in the event that carries it: the first piece becomes the secret's fingerprint and the
others are emptied, so the events still join to the masked text.

An SSE body is masked so as it is given (EventStream): whole, or in segments as a large body streams to its file.
The last events are held back until enough of what follows them has come, and the events already written are kept
as they came for a while, so that a secret streamed across the cut between two segments is found whole and masked as
it is in the same body given whole. Only the standard library is imported (orjson where installed): the capture
addon loads this under any mitmdump."""

import bisect
import json
import re
from collections import deque
from typing import Any

# Optional (the capture addon runs under any mitmdump): parsing every event of a long stream is most of this work.
try:
    import orjson
except ImportError:
    orjson = None

from probe.redact.replacing import (
    FINGERPRINT,
    fingerprint,
    fingerprints_of,
    joined_spans,
    outside_fingerprints,
    trimmed,
    unescaped,
)
from probe.redact.shapes import secret_spans

Path = tuple  # keys and list positions from an event's root to one of its strings
Fresh = set | frozenset  # fingerprints that masking each event alone has just made


def event_leaves(event: Any) -> list[tuple[Path, str]]:
    """Each string of one event, with its place. (A loop, not a recursive generator: a long stream has hundreds of
    thousands of events, each walked once.)"""
    leaves: list[tuple[Path, str]] = []
    if not isinstance(event, (dict, list)):
        return leaves
    stack = [((), event)]
    while stack:
        path, item = stack.pop()
        items = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in items:
            if isinstance(child, str):
                leaves.append(((*path, key), child))
            elif isinstance(child, (dict, list)):
                stack.append(((*path, key), child))
    return leaves


Change = dict  # an event's place -> (its string masked, how many fingerprints it now starts)


def piece_changes(leaves_by_event: list[list[tuple[Path, str]]], fresh: Fresh = frozenset()) -> dict[int, Change]:
    """What masking the secrets that cross from one event's string to the next at the same place changes, by event:
    each place's strings joined, searched, and the pieces of each secret masked where they are. `fresh`: the
    fingerprints that masking each event alone has just made (masked_pieces)."""
    places: dict[Path, list[tuple[int, str]]] = {}
    for index, leaves in enumerate(leaves_by_event):
        for path, piece in leaves:
            found = places.get(path)
            if found is None:
                places[path] = [(index, piece)]
            else:
                found.append((index, piece))
    return changes_at(places, fresh)


def collect_leaves(value: Any, index: int, places: dict) -> None:
    """Each string of one event, appended as (event, string) to the list of its place: event_leaves and the first
    step of piece_changes in one walk, for a body given whole."""
    stack = [((), value)]
    while stack:
        path, item = stack.pop()
        items = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in items:
            if isinstance(child, str):
                found = places.get((*path, key))
                if found is None:
                    places[(*path, key)] = [(index, child)]
                else:
                    found.append((index, child))
            elif isinstance(child, (dict, list)):
                stack.append(((*path, key), child))


def changes_at(places: dict[Path, list[tuple[int, str]]], fresh: Fresh) -> dict[int, Change]:
    changes: dict[int, Change] = {}
    for path, pieces in places.items():
        if len(pieces) < 2 or all(piece == pieces[0][1] for _, piece in pieces):
            continue  # an id or a type repeated in every event: nothing is streamed there
        masked = masked_pieces([piece for _, piece in pieces], fresh)
        if masked is None:
            continue
        for (index, old), new, starts in zip(pieces, *masked, strict=True):
            if new != old:
                changes.setdefault(index, {})[path] = (new, starts)
    return changes


def mask_pieces(events: list[Any], fresh: Fresh = frozenset()) -> tuple[int, set[int]]:
    """Mask, in place, the secrets that cross from one event's string to the next at the same place; return how
    many were masked and which events changed."""
    changes = piece_changes([event_leaves(event) for event in events], fresh)
    for index, change in changes.items():
        for path, (new, _) in change.items():
            put(events[index], path, new)
    return sum(starts for change in changes.values() for _, starts in change.values()), set(changes)


def masked_pieces(pieces: list[str], fresh: Fresh = frozenset()) -> tuple[list[str], list[int]] | None:
    """The pieces with every secret their joined text shows masked, and how many secrets start in each (each
    becomes its fingerprint there), or None if it shows none but those masked already. A secret inside one piece
    is masked too: its name may be in the piece before (`DB_PASSWORD=`, then the value in a delta of its own), where
    the piece alone, as its event was masked, shows none."""
    joined = "".join(pieces)
    cut, cut_masks = cut_off(pieces, fresh) if fresh else ([], [])
    spans = read_on(joined, secret_spans(joined), cut_masks) if cut_masks else secret_spans(joined)
    found = outside_fingerprints(joined, joined_spans(spans + cut), False)
    if not found:
        return None
    new_pieces, starts, piece_start = [], [], 0
    secret_starts, secret_ends = [start for start, _ in found], [end for _, end in found]
    for piece in pieces:
        piece_end = piece_start + len(piece)
        new_pieces.append(remasked(joined, found, secret_ends, piece_start, piece_end))
        starts.append(bisect.bisect_left(secret_starts, piece_end) - bisect.bisect_left(secret_starts, piece_start))
        piece_start = piece_end
    return new_pieces, starts


# A fingerprint at the very end of a piece, and token characters at the very start of the next.
ENDS_MASKED = re.compile(FINGERPRINT.pattern + r"\Z")
TAIL = re.compile(r"[A-Za-z0-9_.+/=-]*[A-Za-z0-9][A-Za-z0-9_.+/=-]*")


def cut_off(pieces: list[str], fresh: Fresh) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The rest of a secret whose first piece, long enough to look like one alone, was masked in its own event (its
    fingerprint is `fresh`, made just now): the token characters that open the next piece after a piece that ends in
    that fingerprint; and where those fingerprints stand in the joined text. (A value that merely starts with a word
    after one that ends in a secret is masked too: a stream's pieces say nothing of where values end.)"""
    spans, masks, start, previous = [], [], 0, ""
    for piece in pieces:
        ending = ENDS_MASKED.search(previous) if piece and previous else None
        if ending and ending.group() in fresh:
            masks.append((start - len(ending.group()), start))
            tail = TAIL.match(piece)
            if tail:
                spans.append((start, start + tail.end()))
        if piece:
            previous = piece
        start += len(piece)
    return spans, masks


def read_on(joined: str, spans: list[tuple[int, int]], masks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans, each that a rule read from inside one of `masks` on into the next piece cut to what follows that
    mask: a line read whole (`Cookie: sessionid=` masked in its own event, its value in the next) took the mask made
    just now for the start of its value, and what it read on is the rest of that value, not text after a mask made
    before."""
    read, mask_starts = [], [mask_start for mask_start, _ in masks]  # (in order, apart)
    for start, end in spans:
        index = bisect.bisect_right(mask_starts, start) - 1
        if index < 0 or start >= masks[index][1]:
            read.append((start, end))
        else:  # (`; theme=dark` after the mask: the separators around it are no part of a secret)
            read += trimmed(joined, masks[index][1], end)
    return read


def remasked(joined: str, secrets: list[tuple[int, int]], ends: list[int], start: int, end: int) -> str:
    """The part of the masked text that the piece (start, end) of `joined` becomes: a secret goes whole to the
    piece where it starts, as its fingerprint. (`secrets` are in order and apart; `ends` are their ends.)"""
    out, cursor, index = [], start, bisect.bisect_right(ends, start)
    while index < len(secrets) and secrets[index][0] < end:
        secret_start, secret_end = secrets[index]
        if secret_start >= start:
            out += [joined[cursor:secret_start], fingerprint(unescaped(joined[secret_start:secret_end]))]
        cursor, index = min(secret_end, end), index + 1
    out.append(joined[cursor:end])
    return "".join(out)


def put(value: Any, path: Path, new: str) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


# An SSE body given in segments -------------------------------------------------------------------------

# Bytes of events held back before they are written, and kept after, around each cut: a secret streamed over no
# more than this (a 2048-bit private key in one-character deltas is about 200 KB of events) is masked as in the
# whole body.
HOLD = CONTEXT = 256 << 10
WRITE_AT_LEAST = 1 << 20  # events gathered before the held ones are searched again (each search reads them all)
LONGEST_LINE = 8 << 20  # a line without its end past this is passed on as it is: it is masked line by line only
FRESH_KEPT = 1 << 16  # fingerprints made line by line, remembered before those no longer searched are forgotten


# A held piece of the body: its bytes (masked line by line, a view of them), and, for an event (a `data:` line
# holding JSON), its strings by place; None for any other text, which nothing changes.
Held = tuple[bytes | memoryview, list | None]


def data_lines(data: bytes, cut: int):
    """Where the `data:` lines of data[:cut] start and end (after their line end), found with `find`."""
    position = data.find(b"data:", 0, cut)
    while position >= 0:
        end = data.find(b"\n", position, cut) + 1
        if not end:
            return
        if position == 0 or data[position - 1] == 10:  # (at a line's start)
            yield position, end
        position = data.find(b"data:", end, cut)


def event_of(line: bytes | memoryview) -> Held:
    """A `data:` line, with its JSON's strings; as text if it holds none (`[DONE]`, cut off: its own masking saw it)."""
    try:
        leaves = event_leaves(parsed(line[5:]))
    except (ValueError, RecursionError):
        return line, None
    return line, leaves or None


class EventStream:
    """Feed it a body's text in order (`feed`, then `finish`); it gives back the same text with the secrets that cross
    events masked, as soon as what follows each event is known; `whole` holds everything until `finish`."""

    def __init__(self, whole: bool = False) -> None:
        self.hold, self.context_limit = None if whole else HOLD, CONTEXT
        self.context: deque[Held] = deque()  # events written already, kept as they came
        self.context_size = 0
        self.held: list[Held] = []
        self.held_size = 0
        self.partial = b""  # the start of a line whose end has not come
        self.in_long_line = False  # passing a line longer than LONGEST_LINE on as it comes
        self.count = 0  # secrets masked in what was written
        self.fresh: set[str] = set()  # fingerprints made by the masking line by line (stream_pieces.cut_off)

    def feed(self, data: bytes, fresh: set[str] | frozenset = frozenset()) -> bytes:
        """`data`, masked line by line, and the fingerprints that masking made (`fresh`)."""
        self.fresh |= fresh
        if self.in_long_line:
            end = data.find(b"\n") + 1
            self.add((data if not end else data[:end], None))
            self.in_long_line, data = not end, data[end:] if end else b""
        data = self.partial + data if self.partial else data
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        # (Views of `data`, not copies: each byte is copied once, when it is written.)
        position, held, view = 0, self.held, memoryview(data)
        for start, end in data_lines(data, cut):
            if start > position:
                held.append((view[position:start], None))
            held.append(event_of(view[start:end]))
            position = end
        if position < cut:
            held.append((view[position:cut], None))
        self.held_size += cut
        if len(self.partial) > LONGEST_LINE:
            self.add((self.partial, None))
            self.partial, self.in_long_line = b"", True
        ready = self.unchanging()
        if self.hold is not None and self.held_size >= self.hold + WRITE_AT_LEAST:
            return ready + self.write(keep=self.hold)
        return ready

    def unchanging(self) -> bytes:
        """The held text before the first event: nothing changes it (a body with no events is held not at all)."""
        first = next((index for index, (_, leaves) in enumerate(self.held) if leaves), len(self.held))
        if not first:
            return b""
        ready = b"".join(data for data, _ in self.held[:first])
        del self.held[:first]
        self.held_size -= len(ready)
        return ready

    def finish(self) -> bytes:
        if self.partial:
            last = self.partial
            self.add(event_of(last) if last.startswith(b"data:") else (last, None))
            self.partial = b""
        return self.write(keep=0)

    def add(self, held: Held) -> None:
        self.held.append(held)
        self.held_size += len(held[0])

    def write(self, keep: int) -> bytes:
        """The held text but the last `keep` bytes of it, masked: searched with the events before it and all held."""
        window = [*self.context, *self.held]
        leaves = [found or () for _, found in window]
        changes = piece_changes(leaves, self.fresh) if any(leaves) else {}
        written, size = 0, self.held_size
        while written < len(self.held) and size > keep:
            size -= len(self.held[written][0])
            written += 1
        out, first = [data for data, _ in self.held[:written]], len(self.context)
        for index, change in changes.items():
            if first <= index < first + written:
                out[index - first] = changed(out[index - first], change)
                self.count += sum(starts for _, starts in change.values())
        if keep:  # (more is to come: the events written are kept, as they came, for the next search)
            for data, found in self.held[:written]:
                if found:  # (only an event's strings can join a secret's next pieces)
                    self.context.append((data, found))
                    self.context_size += len(data)
        while self.context and self.context_size - len(self.context[0][0]) >= self.context_limit:
            self.context_size -= len(self.context.popleft()[0])
        del self.held[:written]
        self.held_size = size
        if len(self.fresh) > FRESH_KEPT:  # memory stays bounded: only those in text still searched can matter
            self.fresh &= fingerprints_of(b"".join(data for data, _ in (*self.context, *self.held)))
        return b"".join(out)


def changed(data: bytes | memoryview, change: dict) -> bytes:
    """A `data:` line with the strings of `change` put in, written back compact, its line end kept."""
    data = bytes(data)
    body, ending = (data[:-1], b"\n") if data.endswith(b"\n") else (data, b"")
    body, ending = (body[:-1], b"\r" + ending) if body.endswith(b"\r") else (body, ending)
    event = parsed(body[5:])
    for path, (new, _) in change.items():
        put(event, path, new)
    prefix = b"data: " if body.startswith(b"data: ") else b"data:"
    written = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return prefix + written + ending


def mask_event_stream(data: bytes, fresh: set[str] | frozenset = frozenset()) -> tuple[bytes, int]:
    """A whole SSE body's `data:` lines, each JSON, with the secrets that cross events masked; lines that change are
    written back compact. `fresh`: the fingerprints that masking it line by line has just made. (What EventStream
    gives of the body fed whole, in one walk of each event.)"""
    lines = data.split(b"\n")
    places: dict[Path, list[tuple[int, str]]] = {}
    where = []
    for number, line in enumerate(lines):
        if line.startswith(b"data:"):
            try:
                event = parsed(line[5:])
            except (ValueError, RecursionError):
                continue  # not JSON (`[DONE]`), or cut off: its own masking has seen it
            if isinstance(event, (dict, list)):
                collect_leaves(event, len(where), places)
                where.append(number)
    changes = changes_at(places, fresh) if len(where) > 1 else {}
    if not changes:
        return data, 0
    for index, change in changes.items():
        lines[where[index]] = changed(lines[where[index]], change)
    return b"\n".join(lines), sum(starts for change in changes.values() for _, starts in change.values())


def parsed(data: bytes | memoryview):
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # an integer past 64 bits, say: the standard library reads it
    return json.loads(bytes(data))
