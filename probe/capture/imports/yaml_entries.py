"""The items of a YAML cassette's top-level `interactions` list, built one at a time from libyaml's events: plain
data only (a tag that would construct an object refuses its item), memory held to one item, an alias weighed as
all it stands for (a billion-laughs file refuses its item instead of growing)."""

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml import events
from yaml.constructor import SafeConstructor

from probe.capture.imports.expansion import left, megabytes
from probe.capture.imports.formats import Skipped
from probe.runs.targets import SAFE_LOADER

# One item may hold this many characters of text (and no more than the import's bound leaves: expansion.left),
# aliases counted as what they expand to, and this many values, nested no deeper than DEPTH_LIMIT: past any of them
# the item is left out, read no further than its end, and an alias is weighed, never expanded, to find it out.
TEXT_LIMIT = 64 * 1024 * 1024
# What a value costs at least once written as JSON beside its text: a string's quotes and comma, a list's brackets.
SCALAR_COST, COLLECTION_COST = 3, 2
VALUE_LIMIT = 2_000_000
DEPTH_LIMIT = 500
ANCHOR_LIMIT = 10_000  # anchors remembered for later aliases; past it an alias to a newer one refuses its item
PLAIN = "tag:yaml.org,2002:"
# The tags of plain data. Any other (!!python/object, !!python/name, a local !tag) is refused, never constructed.
SCALAR_TAGS = {f"{PLAIN}{name}" for name in ("str", "int", "float", "bool", "null", "binary", "timestamp", "merge")}
COLLECTION_TAGS = {f"{PLAIN}map", f"{PLAIN}seq", f"{PLAIN}omap", f"{PLAIN}set", f"{PLAIN}pairs"}
CONSTRUCTOR = SafeConstructor()  # for plain scalars only (int, float, bool, null): it keeps no state for them
TOP_KEY = re.compile(rb"(?m)^(interactions|version)\s*:")
# VCR.py's JSON serializer: {"version": 1, "interactions": [...]} (YAML's flow style, which libyaml parses too).
JSON_CASSETTE = re.compile(rb'^\s*\{\s*(?:"version"\s*:\s*\d+\s*,\s*)?"interactions"\s*:\s*\[')
# Blank or comment lines, directives and a document start, then one of the two keys at the top level.
YAML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:[ \t]*(?:#[^\n]*)?\r?\n|%[^\n]*\n|---[^\n]*\n)*(?:interactions|version)\s*:"
)


@dataclass(frozen=True)
class Refused:
    """An item that is not plain data, or too big: why, in one line."""

    why: str
    ends: bool = False  # past the import's bound, not only this item's limit


@dataclass(frozen=True)
class Damaged:
    """The file cannot be read past here: where (a line) and why."""

    where: str
    why: str


def top_keys(head: bytes) -> list[bytes]:
    """The cassette's top-level keys `interactions` and `version` in the order the head of the file gives them,
    where it starts as a YAML mapping (or VCR.py's JSON cassette); empty otherwise."""
    if JSON_CASSETTE.match(head):
        return [b"interactions"]
    if not YAML_START.match(head):
        return []
    return [match.group(1) for match in TOP_KEY.finditer(head)]


# A request field written at the depth an interaction's request holds it: VCR.py's `uri` and `parsed_body`, and
# go-vcr's own fields, which tell the two apart when the top-level keys' order does not.
VCR_FIELD = re.compile(rb"(?m)^    (?:uri|parsed_body)\s*:")
GO_FIELD = re.compile(rb"(?m)^    (?:url|form|proto_major|content_length|request_uri)\s*:")


def kind(head: bytes) -> str | None:
    """ "vcr" or "go" for a cassette's head, None for anything else. VCR.py writes its keys sorted (`interactions`
    before `version`), go-vcr `version` first; a request field of either settles a head that says both."""
    keys = top_keys(head)
    if not keys:
        return None
    vcr, go = bool(VCR_FIELD.search(head)), bool(GO_FIELD.search(head))
    if vcr != go:
        return "vcr" if vcr else "go"
    return "vcr" if keys[0] == b"interactions" else "go"


def exchanges(path: Path, convert: Callable[[object, int], dict]) -> Iterator[dict | Skipped]:
    """Each interaction converted into its line, or a Skipped saying why not."""
    for number, item in interactions(path):
        if isinstance(item, Damaged):
            yield Skipped(item.where, item.why)
        elif isinstance(item, Refused):
            yield Skipped(f"interaction {number}", f"left out: {item.why}", item.ends)
        else:
            try:
                yield convert(item, number)
            except (TypeError, ValueError, KeyError) as error:
                yield Skipped(f"interaction {number}", f"not an exchange ({error})"[:300])


def interactions(path: Path) -> Iterator[tuple[int, object]]:
    """Each item of the file's top-level `interactions` as (number from 1, plain data or Refused), then a Damaged
    where the file ends early or breaks."""
    with path.open("rb") as file:
        loader = SAFE_LOADER(file)
        try:
            yield from walk(loader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "the file"
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            yield 0, Damaged(where, f"the file ends or is damaged here: {problem}")
        finally:
            loader.dispose()


def walk(loader) -> Iterator[tuple[int, object]]:
    loader.get_event()  # the stream's start
    if loader.check_event(events.StreamEndEvent):
        yield 0, Damaged("the file", "it is empty")
        return
    loader.get_event()  # the first document's start; a cassette is one document
    if not loader.check_event(events.MappingStartEvent):
        yield 0, Damaged("the file", "its top level is not a mapping holding `interactions`")
        return
    loader.get_event()
    found = False
    while not loader.check_event(events.MappingEndEvent):
        key = loader.get_event()
        if (
            isinstance(key, events.ScalarEvent)
            and key.value == "interactions"
            and loader.check_event(events.SequenceStartEvent)
        ):
            found = True
            loader.get_event()
            yield from items(loader)
        else:
            skip(loader)
    if not found:
        yield 0, Damaged("the file", "it holds no list of `interactions`")


def items(loader) -> Iterator[tuple[int, object]]:
    anchors: dict[str, tuple[object, int]] = {}
    resolved: dict[str, str] = {}
    number = 0
    while not loader.check_event(events.SequenceEndEvent):
        number += 1
        yield number, Builder(anchors, loader, resolved).build()
    loader.get_event()


def skip(loader) -> None:
    """Pass over one value without building it."""
    depth = 0
    while True:
        event = loader.get_event()
        if isinstance(event, events.CollectionStartEvent):
            depth += 1
        elif isinstance(event, events.CollectionEndEvent):
            depth -= 1
        if depth == 0:
            return


class Builder:
    """Plain data from the events of one value, bounded; the document's anchors are shared between items."""

    def __init__(self, anchors: dict[str, tuple[object, int]], loader, resolved: dict[str, str]) -> None:
        self.anchors = anchors
        self.loader = loader
        self.resolved = resolved  # a plain scalar's tag by its text, shared between items
        self.text = 0
        self.values = 0
        bound = left()
        self.text_limit = TEXT_LIMIT if bound is None else min(TEXT_LIMIT, bound)
        self.past_bound = False  # refused for the import's bound, which is less than TEXT_LIMIT

    def build(self) -> object:
        loader = self.loader
        # An explicit stack, not recursion: a value nested 100,000 deep is refused, not a RecursionError.
        stack: list[list] = []  # [container, pending key (mappings), anchor, text at its start]
        refusal: str | None = None
        depth = 0
        while True:
            event = loader.get_event()
            if refusal is not None:
                depth += isinstance(event, events.CollectionStartEvent)
                depth -= isinstance(event, events.CollectionEndEvent)
                if depth <= 0:
                    return Refused(refusal, self.past_bound)
                continue
            try:
                done, value = self.take(event, stack)
            except ValueError as problem:
                refusal = str(problem)
                depth = len(stack) + isinstance(event, events.CollectionStartEvent)
                if depth == 0:
                    return Refused(refusal, self.past_bound)
                continue
            if done:
                return value

    def take(self, event, stack: list[list]) -> tuple[bool, object]:
        """Fold one event into the value being built; (True, value) once the whole value is built."""
        kind = type(event)  # the commonest first: a cassette is mostly scalars
        if kind is events.ScalarEvent:
            value = self.scalar(event)
            weight = len(event.value) + SCALAR_COST  # an empty string aliased a billion times is not free
            self.count(weight)
            if event.anchor is not None:
                self.remember(event.anchor, value, weight)
            return self.place(value, stack)
        if kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
            if event.tag not in (None, "!", *COLLECTION_TAGS):
                raise ValueError(f"it carries the tag {event.tag[:80]!r}, which would construct an object")
            if len(stack) >= DEPTH_LIMIT:
                raise ValueError(f"it is nested deeper than {DEPTH_LIMIT} levels")
            stack.append([{} if kind is events.MappingStartEvent else [], None, event.anchor, self.text])
            self.count(COLLECTION_COST)
            return False, None
        if kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
            container, _, anchor, text_before = stack.pop()
            self.remember(anchor, container, self.text - text_before)
            return self.place(container, stack)
        if kind is events.AliasEvent:
            if event.anchor not in self.anchors:
                raise ValueError(f"an alias to an anchor not kept (*{event.anchor[:40]})")
            value, weight = self.anchors[event.anchor]
            self.count(weight)
            return self.place(value, stack)
        raise ValueError(f"unexpected {kind.__name__}")

    def place(self, value, stack: list[list]) -> tuple[bool, object]:
        if not stack:
            return True, value
        frame = stack[-1]
        if isinstance(frame[0], list):
            frame[0].append(value)
        elif frame[1] is None:
            if isinstance(value, dict | list):
                raise ValueError("a mapping key that is not text")
            frame[1] = (str(value) if not isinstance(value, str) else value,)
        else:
            frame[0][frame[1][0]] = value
            frame[1] = None
        return False, None

    def scalar(self, event: events.ScalarEvent):
        tag = event.tag
        if tag in (None, "!") or event.implicit[0]:
            if event.style or tag == "!":  # quoted or a block (libyaml gives a plain one the style ""): text
                return event.value
            tag = self.resolved.get(event.value)
            if tag is None:
                tag = self.loader.resolve(yaml.ScalarNode, event.value, (True, False))
                if len(event.value) <= 64 and len(self.resolved) < 4096:  # the same keys and values again and again
                    self.resolved[event.value] = tag
        if tag not in SCALAR_TAGS:
            raise ValueError(f"it carries the tag {tag[:80]!r}, which would construct an object")
        name = tag.removeprefix(PLAIN)
        if name == "binary":
            try:
                return base64.b64decode("".join(event.value.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("a !!binary value that is not base64") from None
        if name in ("str", "timestamp", "merge"):
            return event.value
        try:
            return CONSTRUCTOR.yaml_constructors[tag](CONSTRUCTOR, yaml.ScalarNode(tag, event.value))
        except (ValueError, TypeError, OverflowError):
            return event.value

    def count(self, weight: int) -> None:
        self.text += weight
        self.values += 1
        if self.text > self.text_limit:
            self.past_bound = self.text_limit < TEXT_LIMIT
            raise ValueError(f"it holds over {megabytes(self.text_limit)} of text, its aliases expanded")
        if self.values > VALUE_LIMIT:
            raise ValueError(f"it holds over {VALUE_LIMIT:,} values")

    def remember(self, anchor: str | None, value, weight: int) -> None:
        if anchor is not None and (anchor in self.anchors or len(self.anchors) < ANCHOR_LIMIT):
            self.anchors[anchor] = (value, weight)
