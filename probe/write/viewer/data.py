"""Gathers what the viewer shows, exchange by exchange, with every repeated value stored once.

A session re-sends its whole history with every request, so the page would grow with the square of the
turns. Items, tools, instructions and header sets are interned in one table of values instead, and a turn
holds their numbers: a history re-sent 200 times is stored once, plus 200 lists of numbers.
"""

import hashlib
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson

from probe.analyse.cache_lifetime import lifetime
from probe.analyse.run_figures import record_parts
from probe.apis.turn_markdown import ITEMS_SHOWN, history_gap
from probe.common import fastjson
from probe.common.fastjson import encoded
from probe.common.lookup import fill_misses
from probe.read.conversation import Turn
from probe.read.sse import StreamEvents
from probe.read.traffic import Body, Exchange
from probe.read.turn_lines import Listed, StringMemo, runs, shallow_record
from probe.redact.json_values import mask_json
from probe.redact.masking import may_mask
from probe.redact.secrets import redact_header
from probe.write.cut_json import MemberMasks, mask_cut_json
from probe.write.viewer.inert import header_json
from probe.write.viewer.not_understood import NotUnderstood
from probe.write.viewer.page_budget import chosen, left_out_note, room_for_data, write_chosen
from probe.write.viewer.refs import named, renumbered
from probe.write.viewer.spool import Spool

RAW_LIMIT = 256 * 1024  # bytes of one raw body kept as JSON; beyond, its first RAW_LIMIT bytes as text
UNKNOWN_LIMIT = 16 * 1024  # bytes of one payload not understood (the raw view shows the whole body anyway)
# Bytes of raw bodies and payloads not understood in one page: a 1 GB capture, or one no reader understands,
# still makes a page that opens, and they leave most of the page's limit (page_budget.PAGE_LIMIT) to its turns.
RAW_BUDGET = 8 * 1024 * 1024
TEXT_LIMIT = 1024 * 1024  # characters of one captured string; the rest is in report.md and traffic.jsonl
TOO_DEEP = {"format": "json", "size": 0, "kept": "omitted", "bytes": 0}  # a body nested deeper than a walk goes
UNKNOWN_KEPT = 8  # payloads not understood, per turn: the report lists them all
KNOWN_OBJECTS = 1 << 12  # objects remembered by identity before starting over: memory stays flat
VALUES_KNOWN = 1 << 17  # values known by their digest before starting over (a page holds far fewer: PAGE_LIMIT)


class Values:
    """A table of JSON values, each distinct value stored once and named by its position."""

    def __init__(self) -> None:
        self.values = Spool()
        self.by_content: dict[bytes, int] = {}
        self.by_identity: dict[int, tuple[Any, int]] = {}  # the same object re-sent: no need to serialise it again

    def known(self, values: list, digests: list) -> list[int]:
        """The numbers of `values`, looked up in C by their digests (blake2b of their JSON, as add hashes them);
        those not stored yet are added."""
        return fill_misses(list(map(self.by_content.get, digests)), lambda at: self.add(values[at]))

    def add(self, value: Any) -> int:
        known = self.by_identity.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = encoded(value)
        key = hashlib.blake2b(text, digest_size=16).digest()
        index = self.by_content.get(key)
        if index is None:
            if len(self.by_content) >= VALUES_KNOWN:  # a value met again after this is stored again
                self.by_content.clear()
            index = self.by_content[key] = self.values.count
            self.values.append(text if len(text) <= TEXT_LIMIT else encoded(clipped(value)))  # no string is longer
        if isinstance(value, (dict, list)):
            if len(self.by_identity) >= KNOWN_OBJECTS:
                self.by_identity.clear()
            self.by_identity[id(value)] = (value, index)
        return index


def clipped(value: Any) -> Any:
    """A value with every string longer than TEXT_LIMIT cut, saying how much was left out."""
    if isinstance(value, str):
        if len(value) <= TEXT_LIMIT:
            return value
        return value[:TEXT_LIMIT] + f"\n… [{len(value) - TEXT_LIMIT:,} more characters: see report.md]"
    if isinstance(value, dict):
        return {key: clipped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clipped(item) for item in value]
    return value


def raw_event(event: Any) -> Any:
    """An event as the raw view shows it: its payload, with its name where the stream gave one."""
    return {"event": event.name, "data": event.data} if event.name else event.data


def api_errors(errors: list) -> list:
    """The errors the API sent: a connection's own error is the exchange's `error`, shown with its state."""
    return [error for error in errors if not (isinstance(error, dict) and set(error) == {"connection"})]


class ViewerData:
    """The page's data: one entry per exchange, built from its turn (as written to turns.jsonl) and the
    exchange itself (headers and raw bodies, masked here like the report masks them)."""

    def __init__(self, redact: bool, extra_secrets: frozenset[str], masked_at_capture: bool = False) -> None:
        self.redact, self.extra_secrets = redact, extra_secrets
        # Raw bodies are shown as captured: masked when they were recorded (with the rules in force now), they
        # need no second pass, which would cost more than the rest of the page.
        self.mask_raw = redact and not masked_at_capture
        self.values = Values()
        self.turns = Spool()
        self.unrecognised = NotUnderstood()  # what the turns held that was not understood, and where
        self.raw_bytes = 0
        self.strings = StringMemo()  # masked strings, for mask_json's memo
        self.members = MemberMasks(self.strings)
        # turns.jsonl's numbers for the values its lines define, and their numbers here: a re-sent history is
        # looked up, not encoded and hashed again. Emptied when turns.jsonl's table starts over (its generation).
        self.numbered: dict[int, int] = {}
        self.lists: dict[tuple[int, ...], int] = {}  # a list of such values (the system blocks), by their numbers
        self.generation = 0
        self.compare = None  # a fork's page gathers its figures here (probe.analysis.compare_view)

    def add(
        self,
        exchange: Exchange,
        turn: Turn,
        record: dict,
        history_field: str | None = None,
        facts: dict | None = None,
        digests: Callable[[list], list | None] | None = None,
    ) -> None:
        """One exchange: `record` is its turn as turns.jsonl has it (masked there); `history_field` names the
        request field that holds the history its API re-sends (left out of the raw view when carried); `facts` is
        its record of insight.jsonl (its agent, its prompt cache); `digests` gives the digests of a history as read
        (probe.read.history_reads), by which its items as sent are looked up here rather than encoded again."""
        try:
            entry = self.entry(exchange, turn, record, history_field, digests=digests)
        except RecursionError:  # nested deeper than a walk can go: where and what it was, as turns.jsonl keeps it
            entry = self.entry(exchange, turn, shallow_record(turn), history_field, with_bodies=False)
        entry["insight"] = {key: value for key, value in (facts or {}).items() if key not in ("record", "schema")}
        compare = getattr(self, "compare", None)  # (a reading saved by an older analysis has none)
        if compare is not None:
            compare.turn(*record_parts(record))
        self.turns.append(encoded(entry))
        self.unrecognised.add(entry["n"], entry["unrecognised"])

    def shown(self, listed: Any, positions: slice | None = None) -> list[int]:
        """The numbers here of a listed field's values (those at `positions`, else all), each interned the first
        time it is shown: a re-sent history is looked up by its numbers in turns.jsonl, in C, not walked."""
        if not isinstance(listed, Listed):
            return []
        if listed.generation != self.generation:  # turns.jsonl's table started over: its numbers name new values
            self.numbered, self.lists, self.generation = {}, {}, listed.generation
        numbers = listed.numbers if positions is None else listed.numbers[positions]
        places = range(len(listed.numbers)) if positions is None else range(len(listed.numbers))[positions]

        def interned(at: int) -> int:
            index = self.numbered[numbers[at]] = self.values.add(listed.convert(listed.objects[places[at]]))
            return index

        return fill_misses(list(map(self.numbered.get, numbers)), interned)

    def system_index(self, listed: Any) -> int:
        """The system blocks, as one value: what the page compares from turn to turn."""
        if not isinstance(listed, Listed):
            return self.values.add([])
        numbers = tuple(listed.numbers)
        index = self.lists.get(numbers) if listed.generation == self.generation else None
        if index is None:
            if len(self.lists) >= KNOWN_OBJECTS:
                self.lists.clear()
            index = self.lists[numbers] = self.values.add([listed.convert(block) for block in listed.objects])
        return index

    def entry(
        self,
        exchange: Exchange,
        turn: Turn,
        record: dict,
        history_field: str | None,
        with_bodies: bool = True,
        digests: Callable[[list], list | None] | None = None,
    ) -> dict:
        intern = self.values.add
        errors = api_errors(record.get("errors") or [])
        return {
            "n": turn.number,
            "line": turn.line,
            "kind": turn.kind,
            "proxy": turn.proxy,
            "method": turn.method,
            "path": record.get("path", turn.path),
            "url": self.masked(exchange.url),
            "status": turn.status,
            "complete": turn.complete,
            "error": self.masked(exchange.error),
            "api": turn.api,
            "provider": turn.provider,
            "model": record.get("model"),
            "timing": record.get("timing") or {},
            "request_bytes": turn.request_bytes,
            "response_bytes": turn.response_bytes,
            "frames": len(exchange.frames),
            "stop_reason": record.get("stop_reason"),
            # How long this turn's request keeps its prefix cached (insight.jsonl's turn gives the lifetime of the
            # turn before, against which it was measured): a live page counts the last turn's down.
            "cache_lifetime": self.values.add(vars(lifetime(turn))),
            "response_id": record.get("response_id"),
            "response_metadata": record.get("response_metadata") or {},
            "previous_response_id": record.get("previous_response_id"),
            "carried": record.get("carried"),
            "usage": record.get("usage"),
            "events": record.get("events") or {},
            "errors": [self.kept(error, UNKNOWN_LIMIT) for error in errors],
            "unrecognised": record.get("unrecognised") or [],
            "unknown": [
                {"where": str(entry.get("where")), "raw": self.kept(entry.get("raw"), UNKNOWN_LIMIT)}
                for entry in (record.get("unknown") or [])[:UNKNOWN_KEPT]
                if isinstance(entry, dict)
            ],
            "config": intern(record.get("config") or {}),
            "system": self.system_index(record.get("system")),
            "tools": self.shown(record.get("tools")),
            **self.item_refs("input", record.get("input"), history_gap(turn)),
            **self.item_refs("output", record.get("output")),
            "request_headers": intern(self.headers(exchange.request_headers)),
            "response_headers": intern(self.headers(exchange.response_headers)),
            "raw_request": self.raw_request(exchange, turn, history_field, digests) if with_bodies else TOO_DEEP,
            "raw_response": self.raw_response(exchange) if with_bodies else TOO_DEEP,
            # Lists too long to read whole, read at their ends (probe.read.thinning): only where there were.
            **({"left_out": record["left_out"]} if record.get("left_out") else {}),
        }

    def item_refs(self, name: str, listed: Any, gap: tuple[int, int] | None = None) -> dict:
        """`name`: the refs of the items the page shows, all of them up to ITEMS_SHOWN, else the first and last
        halves of that many; and `<name>_left_out`: where the rest were and how many (turns.jsonl has them all, but
        for `not_read` of them: `gap`, where items of a history too long to read whole were left out)."""
        count = len(listed.numbers) if isinstance(listed, Listed) else 0
        at, not_read = gap if gap is not None else (count, 0)
        sent = count + not_read
        if sent <= ITEMS_SHOWN:
            refs = {name: self.shown(listed)}
            return refs | (
                {f"{name}_left_out": {"at": at, "count": not_read, "not_read": not_read}} if not_read else {}
            )
        half = ITEMS_SHOWN // 2

        def first_at(position: int) -> int:  # the first item read that stood at `position` or after, as sent
            return position if position <= at else max(at, position - not_read)

        head, tail = first_at(half), first_at(sent - half)
        shown = self.shown(listed, slice(None, head)) + self.shown(listed, slice(tail, None))
        left_out = {"at": head, "count": sent - head - (count - tail)}
        unread = max(0, min(sent - half, at + not_read) - max(half, at))
        return {name: shown, f"{name}_left_out": left_out | ({"not_read": unread} if unread else {})}

    def masked(self, text: str | None) -> str | None:
        if text is None or not self.redact:
            return text
        return mask_json(text, memo=self.strings)[0]

    def headers(self, pairs: list[tuple[str, str]]) -> list[list[str]]:
        # Secret headers are always fingerprinted, as in the report, --no-redact or not.
        return [[name, redact_header(name, value, self.extra_secrets)] for name, value in pairs]

    def raw_request(
        self, exchange: Exchange, turn: Turn, field: str | None, digests: Callable[[list], list | None] | None
    ) -> dict | None:
        if exchange.kind == "websocket":
            return self.raw_frames(exchange, from_client=True)
        body = exchange.request_body.value
        left_out = None
        carried = turn.carried
        if (
            field
            and carried is not None
            and carried.by == "prefix"
            and isinstance(body, dict)
            and isinstance(body.get(field), list)
        ):
            # The history an earlier request already held is named, not repeated: the page stays linear. Its items,
            # as sent, are interned values (each distinct one stored once), so a copy of the request is still whole.
            history = body[field][: carried.items]
            known = digests(body[field]) if digests is not None and not self.mask_raw else None
            body = {**body, field: body[field][carried.items :]}
            if known is not None:
                refs = self.values.known(history, known[: carried.items])
            else:
                refs = [self.values.add(self.members.mask(item) if self.mask_raw else item) for item in history]
            left_out = {"field": field, "items": carried.items, "source": carried.source, "runs": runs(refs)}
        return self.raw(exchange.request_body, body) | {"left_out": left_out}

    def raw_response(self, exchange: Exchange) -> dict | None:
        if exchange.kind == "websocket":
            return self.raw_frames(exchange, from_client=False)
        events = exchange.stream_events()
        if isinstance(events, StreamEvents):
            return self.raw_stream(exchange.response_body, events) | {"format": "events"}
        if events is not None:
            value = [raw_event(event) for event in events]
            return self.raw(exchange.response_body, value) | {"format": "events"}
        return self.raw(exchange.response_body, exchange.response_body.value)

    def raw_stream(self, body: Body, events: StreamEvents) -> dict:
        """A long stream's events as `raw` keeps the list of them, each written in turn: the head of that list's JSON
        is kept, the rest only measured (the list of a million events was gigabytes)."""
        head, size = bytearray(b"["), 1
        for index, event in enumerate(events):
            text = encoded(raw_event(event))
            size += len(text) + (1 if index else 0)
            if len(head) <= RAW_LIMIT:
                head += b"," + text if index else text
        head, size = head + b"]", size + 1
        return self.kept_text(bytes(head), size, RAW_LIMIT, lambda: fastjson.loads(bytes(head))) | {
            "format": body.format,
            "size": body.size,
        }

    def raw_frames(self, exchange: Exchange, from_client: bool) -> dict:
        frames = [frame.body.value for frame in exchange.frames if frame.from_client == from_client]
        size = sum(frame.body.size for frame in exchange.frames if frame.from_client == from_client)
        return self.raw(Body(frames, "json", size), frames) | {"format": "frames"}

    def raw(self, body: Body, value: Any) -> dict:
        """A body for the raw view, masked unless --no-redact (see `kept`)."""
        if body.format == "empty":
            return {"format": "empty", "size": 0}
        if body.format == "base64":
            return {"format": "binary", "size": body.size}
        return self.kept(value, RAW_LIMIT) | {"format": body.format, "size": body.size}

    def kept(self, value: Any, limit: int) -> dict:
        """A captured value for a collapsed view: whole while its JSON is under `limit` bytes, else the head of
        that JSON as text (`head`), and nothing (`omitted`) once the page holds RAW_BUDGET bytes of such values."""
        text = encoded(value)
        return self.kept_text(text, len(text), limit, lambda: value)

    def kept_text(self, text: bytes, size: int, limit: int, value: Callable[[], Any]) -> dict:
        """`kept` for a value of `size` bytes of JSON whose text starts with `text` (all of it, while `size` is
        within `limit`); `value()` gives the value itself."""
        if self.raw_bytes + min(size, limit) > RAW_BUDGET:
            return {"kept": "omitted", "bytes": size}
        if size > limit:
            self.raw_bytes += limit
            head = text[:limit].decode("utf-8", "replace")
            return {
                "kept": "head",
                "bytes": size,
                "value": mask_cut_json(head, self.strings) if self.mask_raw else head,
            }
        self.raw_bytes += size
        whole = value()
        if self.mask_raw:
            whole = self.members.mask(whole) if may_mask(whole, text) else whole
        return {"kept": "whole", "bytes": size, "value": whole if size <= TEXT_LIMIT else clipped(whole)}

    def write_data(self, out: BinaryIO, header: dict, frame: int = 0) -> None:
        """The page's data as inert JSON: {"schema", "header", "values", "turns"}, written compactly in that order
        (each value and turn as encoded when it was added). A page that would pass PAGE_LIMIT (with `frame`, the
        bytes of the page around its data) keeps its first and last turns only, and its header says so."""
        text = header_json(header)
        values, turns = self.values.values, self.turns
        choice = chosen(values, turns, room_for_data(frame, len(text)), named)
        if choice is not None:
            note = left_out_note(choice, turns.count, lambda index: orjson.loads(turns.element(index))["n"])
            text = header_json(header | {"warnings": [*header.get("warnings", []), note], "run_turns": turns.count})
        out.write(b'{"schema":1,"header":' + text + b",")
        if choice is None:
            out.write(b'"values":')
            values.write_to(out)
            out.write(b',"turns":')
            turns.write_to(out)
        else:
            write_chosen(out, values, turns, choice, renumbered)
        out.write(b"}")

    def counts(self) -> tuple[int, int]:
        """How many values and turns the data holds: every value those turns name is among those values."""
        turns = self.turns.count  # first: a turn is added after the values it names
        return self.values.values.count, turns

    def write_part(self, out: BinaryIO, header: bytes, since: tuple[int, int], upto: tuple[int, int]) -> None:
        """The values and turns added after the counts `since` up to the counts `upto` (from `counts`), written as
        write_data writes them all, without encoding anything again; `header` is already JSON (header_json)."""
        out.write(b'{"schema":1,"header":' + header + b',"values":')
        self.values.values.copy_elements(out, since[0], upto[0])
        out.write(b',"turns":')
        self.turns.copy_elements(out, since[1], upto[1])
        out.write(b"}")
