"""Secrets that a stream delivers in pieces: a model that repeats a `.env` file streams each key over several
deltas, each too short to look like one. The string values at one place of consecutive events (an SSE stream's
`data:` lines, a WebSocket's frames, a JSON array of chunks) are joined, searched with the text rules, and each
piece of a secret is masked in the event that carries it: the first piece becomes the secret's fingerprint and the
others are emptied, so the events still join to the masked text."""

import json
from typing import Any

# Optional (the capture addon runs under any mitmdump): parsing every event of a long stream is most of this work.
try:
    import orjson
except ImportError:
    orjson = None

from probe.redact.replacing import fingerprint, joined_spans, outside_fingerprints, unescaped
from probe.redact.shapes import secret_spans

Path = tuple  # keys and list positions from an event's root to one of its strings


def collect_leaves(value: Any, index: int, places: dict) -> None:
    """Each string of one event, appended as (event, string) to the list of its place. (A loop, not a recursive
    generator: a long stream has hundreds of thousands of events, each walked once.)"""
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


def mask_pieces(events: list[Any]) -> tuple[int, set[int]]:
    """Mask, in place, the secrets that cross from one event's string to the next at the same place; return how
    many were masked and which events changed."""
    places: dict[Path, list[tuple[int, str]]] = {}
    for index, event in enumerate(events):
        if isinstance(event, (dict, list)):
            collect_leaves(event, index, places)
    count, changed = 0, set()
    for path, pieces in places.items():
        if len(pieces) < 2 or all(piece == pieces[0][1] for _, piece in pieces):
            continue  # an id or a type repeated in every event: nothing is streamed there
        masked = masked_pieces([piece for _, piece in pieces])
        if masked is None:
            continue
        new_pieces, found = masked
        count += found
        for (index, old), new in zip(pieces, new_pieces, strict=True):
            if new != old:
                put(events[index], path, new)
                changed.add(index)
    return count, changed


def masked_pieces(pieces: list[str]) -> tuple[list[str], int] | None:
    """The pieces with every secret their joined text shows masked, or None if it shows none but those masked
    already. A secret inside one piece is masked too: its name may be in the piece before (`DB_PASSWORD=`, then
    the value in a delta of its own), where the piece alone shows none."""
    joined = "".join(pieces)
    found = outside_fingerprints(joined, joined_spans(secret_spans(joined)), False)
    if not found:
        return None
    new_pieces, piece_start = [], 0
    for piece in pieces:
        new_pieces.append(remasked(joined, found, piece_start, piece_start + len(piece)))
        piece_start += len(piece)
    return new_pieces, len(found)


def remasked(joined: str, secrets: list[tuple[int, int]], start: int, end: int) -> str:
    """The part of the masked text that the piece (start, end) of `joined` becomes: a secret goes whole to the
    piece where it starts, as its fingerprint."""
    out, cursor = [], start
    for secret_start, secret_end in secrets:
        if secret_end <= start or secret_start >= end:
            continue
        if secret_start >= start:
            out += [joined[cursor:secret_start], fingerprint(unescaped(joined[secret_start:secret_end]))]
        cursor = min(secret_end, end)
    out.append(joined[cursor:end])
    return "".join(out)


def put(value: Any, path: Path, new: str) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


def mask_event_stream(data: bytes) -> tuple[bytes, int]:
    """An SSE body's `data:` lines, each JSON, with the secrets that cross events masked; lines that change are
    written back compact."""
    lines = data.split(b"\n")
    events, where = [], []
    for number, line in enumerate(lines):
        if line.startswith(b"data:"):
            try:
                events.append(parsed(line[5:]))
                where.append(number)
            except ValueError:
                continue  # not JSON (`[DONE]`), or cut off: its own masking has seen it
    if len(events) < 2:
        return data, 0
    count, changed = mask_pieces(events)
    if not count:
        return data, 0
    for index in changed:
        line = lines[where[index]]
        prefix = b"data: " if line.startswith(b"data: ") else b"data:"
        written = json.dumps(events[index], ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        lines[where[index]] = prefix + written + (b"\r" if line.endswith(b"\r") else b"")
    return b"\n".join(lines), count


def parsed(data: bytes):
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # an integer past 64 bits, say: the standard library reads it
    return json.loads(data)
