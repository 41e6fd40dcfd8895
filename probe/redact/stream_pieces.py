"""Secrets that a stream delivers in pieces: a model that repeats a `.env` file streams each key over several
deltas, each too short to look like one. The string values at one place of consecutive events (an SSE stream's
`data:` lines, a WebSocket's frames, a JSON array of chunks) are joined, searched with the text rules, and each
piece of a secret is masked in the event that carries it: the first piece becomes the secret's fingerprint and the
others are emptied, so the events still join to the masked text."""

import bisect
import itertools
import re
from typing import Any

from probe.redact.replacing import (
    FINGERPRINT,
    REDACTED_PREFIX,
    fingerprint,
    joined_spans,
    outside_fingerprints,
    unescaped,
)
from probe.redact.shapes import secret_spans

Path = tuple  # keys and list positions from an event's root to one of its strings
GLUED = re.compile(FINGERPRINT.pattern + r"([A-Za-z0-9_-]+)")


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


def piece_changes(leaves_by_event: list[list[tuple[Path, str]]]) -> dict[int, Change]:
    """What masking the secrets that cross from one event's string to the next at the same place changes, by event:
    each place's strings joined, searched, and the pieces of each secret masked where they are."""
    places: dict[Path, list[tuple[int, str]]] = {}
    for index, leaves in enumerate(leaves_by_event):
        for path, piece in leaves:
            found = places.get(path)
            if found is None:
                places[path] = [(index, piece)]
            else:
                found.append((index, piece))
    changes: dict[int, Change] = {}
    for path, pieces in places.items():
        if len(pieces) < 2 or all(piece == pieces[0][1] for _, piece in pieces):
            continue  # an id or a type repeated in every event: nothing is streamed there
        masked = masked_pieces([piece for _, piece in pieces])
        if masked is None:
            continue
        for (index, old), new, starts in zip(pieces, *masked, strict=True):
            if new != old:
                changes.setdefault(index, {})[path] = (new, starts)
    return changes


def mask_pieces(events: list[Any]) -> tuple[int, set[int]]:
    """Mask, in place, the secrets that cross from one event's string to the next at the same place; return how
    many were masked and which events changed."""
    changes = piece_changes([event_leaves(event) for event in events])
    for index, change in changes.items():
        for path, (new, _) in change.items():
            put(events[index], path, new)
    return sum(starts for change in changes.values() for _, starts in change.values()), set(changes)


def masked_pieces(pieces: list[str]) -> tuple[list[str], list[int]] | None:
    """The pieces with every secret their joined text shows masked, and how many secrets start in each (each
    becomes its fingerprint there), or None if it shows none but those masked already and those each piece shows
    alone (its event's own masking finds them). A secret inside one piece is masked here when that piece alone
    shows none: its name may be in the piece before (`DB_PASSWORD=`, then the value in a delta of its own)."""
    joined = "".join(pieces)
    # The rest of a secret whose first piece, long enough to look like one alone, was masked in its own event (a
    # WebSocket frame, a chunk of a JSON array): what is glued to a fingerprint was part of it.
    glued = [found.span(1) for found in GLUED.finditer(joined)] if REDACTED_PREFIX in joined else []
    found = outside_fingerprints(joined, joined_spans(secret_spans(joined) + glued), False)
    piece_starts = list(itertools.accumulate((len(piece) for piece in pieces[:-1]), initial=0))
    found = [span for span in found if not shown_alone(pieces, piece_starts, span)]
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


def shown_alone(pieces: list[str], piece_starts: list[int], span: tuple[int, int]) -> bool:
    """Whether the secret at `span` of the joined pieces is inside one piece that shows it alone."""
    index = bisect.bisect_right(piece_starts, span[0]) - 1
    start, end = span[0] - piece_starts[index], span[1] - piece_starts[index]
    if end > len(pieces[index]):
        return False  # it crosses from this piece to the next
    return any(first <= start and end <= last for first, last in joined_spans(secret_spans(pieces[index])))


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
