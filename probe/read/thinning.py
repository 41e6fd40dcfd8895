"""Lists too long to read whole, read at their ends: past a budget of elements in one body, a list keeps its first
and last elements, and what lay between is counted and digested (probe.read.conversation.LeftOut).

A hostile request of 100,000 tiny items is a few megabytes of JSON, but every item read becomes objects in every
output (items and parts, keys, digests, numbers, counts), tens of times its size: memory would follow the number of
items rather than the bytes. No agent sends that many (a long session re-sends a few thousand items), so nothing an
agent sends is cut, and a request that does is said to have been, in one line of the report.
"""

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from probe.common.counting import counted
from probe.common.fastjson import encoded
from probe.read.conversation import EVENT_KINDS_KEPT, NOTED_KEPT, OTHER_KINDS, LeftOut, Noted, Turn
from probe.read.ends import LIST_READ, ends
from probe.redact.shapes import mask_bytes

Exchange = Any  # probe.read.traffic.Exchange (not imported: readers import this module, and levels add up)

# Elements of all the lists of one body read whole, taken in order from the outermost lists in: the items of a
# history before the parts of each item. Past it, a list is read at its ends only, ENDS elements of it.
BODY_READ = 20_000
ENDS = 2
# How deep lists are looked for: a history's items' parts, a tool result's blocks, a namespace's tools. Deeper lists
# (a tool call's arguments) are read as they were sent, as one value: no object is made for each of their elements.
DEPTH = 5


class Thinned(list):
    """A list of which only the ends were read: its first `left_out.first` elements, then its last `left_out.last`.
    A reader reads it as any list; `left_out` says what lay between."""

    left_out: LeftOut


def thinned(value: Any, where: str) -> tuple[Any, list[LeftOut]]:
    """`value` (parsed JSON) with every list past the budgets read at its ends only, the objects and lists holding
    one copied (the value given is left as it was), and what was left out of each (`where` the value is, e.g.
    `request`, begins their names); `value` itself, and no list, when nothing was."""
    if within_budgets(value):
        return value, []
    plan = budgeted(value)
    if not plan:
        return value, []
    found: list[LeftOut] = []
    return rebuilt(value, plan, where, "", found), found


def within_budgets(value: Any) -> bool:
    """Whether no list of `value` can be past the budgets, told from its JSON text without walking it (walking a
    re-sent history to count its lists' elements cost more than parsing it): a list of n elements holds n - 1
    commas after its opening bracket, so the text's commas and opening brackets (those inside strings too) are at
    least the elements of all its lists together. False when that bound says nothing: then `budgeted` walks it.
    (Holding the text costs no more than measuring the body did: probe.common.body_sizes writes it out too.)"""
    if type(value) is not dict and type(value) is not list:
        return True
    try:
        text = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, integers past 64 bits, nested past orjson
        return False
    return text.count(b",") + text.count(b"[") <= min(BODY_READ, LIST_READ)


def budgeted(value: Any) -> dict[int, int]:
    """How many elements each list to thin keeps, by its id: lists taken breadth first (the outermost first, in
    order) down to DEPTH, each given what is left of BODY_READ, at most LIST_READ and at least ENDS. Lists inside
    elements left out are not walked: they are gone."""
    plan: dict[int, int] = {}
    left = BODY_READ
    level = [value] if isinstance(value, (dict, list)) else []  # a body may be JSON's null, a number or a string
    for _ in range(DEPTH + 1):
        below = []
        push = below.append
        for node in level:
            if type(node) is dict:
                children = node.values()
            else:
                allowed = min(LIST_READ, max(ENDS, left))
                children = node
                if len(node) > allowed:
                    plan[id(node)] = allowed
                    head, tail = ends(allowed)
                    children = node[:head] + node[len(node) - tail :]
                left -= len(children)
            for child in children:
                kind = type(child)
                if kind is dict or kind is list:
                    push(child)
        level = below
    return plan


def rebuilt(node: Any, plan: dict[int, int], where: str, path: str, found: list[LeftOut], depth: int = 0) -> Any:
    """`node` (at `depth` in the value) with the lists of `plan` thinned, copying only what holds one, depth first
    (so `found` is in document order)."""
    if depth > DEPTH:
        return node
    if type(node) is dict:
        copied = None
        for key, child in node.items():
            if type(child) is dict or type(child) is list:
                new = rebuilt(child, plan, where, f"{path}.{key}" if path else str(key), found, depth + 1)
                if new is not child:
                    copied = copied if copied is not None else dict(node)
                    copied[key] = new
        return node if copied is None else copied
    if type(node) is not list:
        return node
    keep = plan.get(id(node))
    if keep is None:
        elements, positions, result = node, range(len(node)), None
    else:
        head, tail = ends(keep)
        # Digested with the secrets its text holds masked: the digest of a few items would tell one that was guessed.
        text = mask_bytes(encoded(node[head : len(node) - tail]))[0]
        left_out = LeftOut(f"{where} {path}" if path else where, len(node), head, tail, len(text),
                           hashlib.sha256(text).hexdigest())  # fmt: skip
        del text
        found.append(left_out)
        elements = node[:head] + node[len(node) - tail :]
        positions = [*range(head), *range(len(node) - tail, len(node))]
        result = Thinned(elements)
        result.left_out = left_out
    for at, (position, child) in enumerate(zip(positions, elements, strict=True)):
        if type(child) is dict or type(child) is list:
            new = rebuilt(child, plan, where, f"{path}[{position}]", found, depth + 1)
            if new is not child:
                result = result if result is not None else list(node)
                result[at] = new
    return node if result is None else result


def positions(elements: list) -> range | list[int]:
    """Where each element of a list read stood in the list as sent: its index, unless the list was thinned."""
    left_out = getattr(elements, "left_out", None)
    if left_out is None:
        return range(len(elements))
    return [left_out.position(index) for index in range(len(elements))]


def thinned_exchanges(exchanges: Iterable[Exchange]) -> Iterator[Exchange]:
    """Each exchange thinned (thin_exchange) as it is read."""
    for exchange in exchanges:
        thin_exchange(exchange)
        yield exchange
        del exchange  # before the next one is read: memory holds one exchange at a time


def thin_exchange(exchange: Exchange) -> list[LeftOut]:
    """Thin the JSON bodies of an exchange in place, once: its request and response, or its WebSocket messages,
    each on its own budget; what was left out of them, in order, is its `left_out`. Thinned before it is masked, the
    masking of what is left out costs nothing. A body nested too deeply to walk is left as it is (it is read as far
    as its reader can)."""
    if exchange.left_out is not None:
        return exchange.left_out
    found: list[LeftOut] = []
    exchange.left_out = found

    def thin(body: Any, where: str) -> None:
        if body.format != "json":
            return
        try:
            body.value, left_out = thinned(body.value, where)
        except RecursionError:
            return
        found.extend(left_out)

    if exchange.kind == "websocket":
        sent = {True: 0, False: 0}
        for frame in exchange.frames:
            sent[frame.from_client] += 1
            thin(frame.body, f"{'client' if frame.from_client else 'server'} message {sent[frame.from_client]}")
    else:
        thin(exchange.request_body, "request")
        thin(exchange.response_body, "response")
    return found


def noted_note(turn: Turn) -> str | None:
    """The report's line for a turn whose reader noted more than it keeps (conversation.NOTED_KEPT of each list,
    EVENT_KINDS_KEPT kinds of events), or None."""
    lists = [("errors", turn.errors), ("kinds not understood", turn.unrecognised), ("payloads", turn.unknown)]
    lists += [(f"pieces of {entry['where']}", entry["raw"]) for entry in turn.unknown if isinstance(entry, dict)
              and isinstance(entry.get("raw"), Noted)]  # fmt: skip
    said = [f"{len(kept) + kept.more:,} {what}" for what, kept in lists if getattr(kept, "more", 0)]
    if OTHER_KINDS in turn.events:
        said.append(
            f"more than {EVENT_KINDS_KEPT:,} kinds of events "
            f"({counted(turn.events[OTHER_KINDS], 'event')} of the others)"
        )
    if not said:
        return None
    return f"exchange #{turn.number}: {', '.join(said)}; the first {NOTED_KEPT:,} of each are kept, the others counted"


def note(number: int, left_out: list[LeftOut]) -> str:
    """The report's line for an exchange with lists too long to read whole."""
    first, more = left_out[0], len(left_out) - 1
    noun = "input items" if first.history else "elements"
    where = "" if first.history else f" in {first.where}"
    said = (
        f"exchange #{number}: {first.count:,} {noun}{where}; the first {first.first:,} and last {first.last:,} are "
        f"shown, the other {first.left:,} counted ({first.bytes:,} bytes) and digested (sha256 {first.sha256[:16]})"
    )
    if more:
        said += f"; and {more:,} more list{'s' if more > 1 else ''} too long to read whole (turns.jsonl's left_out)"
    return said


def marked_like(thinned_value: Any, masked: Any) -> Any:
    """`masked` (a thinned value as masking wrote it anew) with its lists thinned where `thinned_value`'s were, as
    Thinned again: a reader tells a history read at its ends by it."""
    if type(masked) is dict and isinstance(thinned_value, dict):
        for key, child in masked.items():
            if isinstance(child, (dict, list)) and key in thinned_value:
                masked[key] = marked_like(thinned_value[key], child)
        return masked
    if not isinstance(masked, list) or not isinstance(thinned_value, list) or len(masked) != len(thinned_value):
        return masked
    for at, (before, child) in enumerate(zip(thinned_value, masked, strict=True)):
        if isinstance(child, (dict, list)):
            masked[at] = marked_like(before, child)
    left_out = getattr(thinned_value, "left_out", None)
    if left_out is None or type(masked) is Thinned:
        return masked
    marked = Thinned(masked)
    marked.left_out = left_out
    return marked
