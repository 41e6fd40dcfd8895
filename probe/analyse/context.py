"""What filled each turn's context window: tokens per instruction block, per tool (and namespace or MCP server),
and per kind of history, new this turn or carried from the turn before.

The split is an estimate. Each piece of the request is counted with a real BPE encoder (probe.analyse.token_count),
then every count is scaled so that together they make the input tokens the API reported for the turn, which
include the API's own framing (roles, tool syntax) that no encoder sees. Anthropic's and Google's tokenizers are
not public: their models are counted with OpenAI's o200k_base, which the scaling corrects in sum, not in detail.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson

from probe.analyse.token_count import TokenCounter
from probe.analyse.token_sums import spends
from probe.read.conversation import Item, Part, Tool, Turn

INSTRUCTIONS, TOOLS, HISTORY = "instructions", "tools", "history"
# An image or a file costs the model tokens by its size in pixels or pages, which its base64 text does not tell:
# each counts as this many before scaling (about a 1,000 × 1,000 image on the big APIs).
MEDIA_TOKENS = 1_500
NAMED_KEPT = 64  # instruction blocks and tools named one by one per turn; the rest are summed as one
ITEMS_KEPT = 1 << 15  # items whose counts are remembered: a re-sent item is the same object, counted once
SUMS_KEPT = 1024  # categories summed over the run one by one; a hostile capture's others are summed as one
SPLITS_KEPT = 500  # turns' splits kept whole for a report's table; every split is written as its turn passes
TURNS_KEPT = 256  # turns whose totals a continuation by response id may need
TEXT_BY_ROLE = {"user": "user text", "assistant": "assistant text", "model": "assistant text"}  # Gemini's "model"
SYSTEM_ROLES = {"system", "developer"}  # a message of these roles carries instructions, wherever it stands
# A system or developer message's text that the API's reader did not take as an instruction block (a system message
# amid Anthropic's messages): counted as instructions, under this name, so that instructions are counted once.
IN_HISTORY = "instructions in the history"
MCP_PREFIX = "mcp__"  # Claude Code names an MCP server's tools mcp__<server>__<tool>
NOT_READ = "items not read (by their size)"  # a history too long to read whole: the items left out between its ends
DECLARES_TOOLS = "declares_tools"  # an item's note of the tools it declares (probe.apis), counted as tools
BYTES_PER_TOKEN = 4  # of JSON, near enough, where no item was read to tell


@dataclass
class Category:
    """One part of a turn's context: its kind (instructions, tools, history), its name, and its tokens."""

    kind: str
    name: str
    tokens: int  # scaled, when the turn reported its input tokens
    counted: int  # as the encoder counted it, before scaling
    new: bool = True  # false for history carried from the turn before (or kept by the server)
    group: str | None = None  # a tool's namespace or MCP server

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "tokens": self.tokens, "counted": self.counted,
                "new": self.new, "group": self.group}  # fmt: skip


@dataclass
class Composition:
    """A turn's context, split; `scaled_to` is the reported input it adds up to (None: not reported)."""

    number: int
    encoding: str
    counted: int
    scaled_to: int | None
    categories: list[Category] = field(default_factory=list)

    def total(self, kind: str, new: bool | None = None) -> int:
        return sum(c.tokens for c in self.categories if c.kind == kind and (new is None or c.new == new))

    def prefix(self, blocks: int | None = None, history: bool = False) -> int:
        """Tokens of a prefix in the order a cache reads them: the tools, the first `blocks` instruction parts (all
        of them if None), and, if `history`, the history carried from the turn before."""
        instructions = [c.tokens for c in self.categories if c.kind == INSTRUCTIONS]
        kept = self.total(HISTORY, new=False) if history else 0
        return self.total(TOOLS) + sum(instructions if blocks is None else instructions[:blocks]) + kept

    def to_json(self) -> dict:
        return {"encoding": self.encoding, "counted": self.counted, "scaled_to": self.scaled_to,
                "categories": [category.to_json() for category in self.categories]}  # fmt: skip


@dataclass
class HistoryTotals:
    """What a turn's history came to, by kind, for a later turn that re-sends it whole."""

    length: int
    first: Item | None
    last: Item | None
    totals: dict[str, int]  # tokens by kind of history, over every item
    names: dict[str, str]  # the tool of each call id

    def holds(self, items: list[Item], carried: int) -> bool:
        """Whether `items` start with this history's own items, all of them, within the `carried` ones (which may
        go on with the answer that followed them, re-sent)."""
        return (0 < self.length <= carried <= len(items) and items[0] is self.first
                and items[self.length - 1] is self.last)  # fmt: skip


@dataclass
class ContextFilling:
    """Fed each turn; remembers what it counted, so that what is re-sent is never counted again."""

    counter: TokenCounter | None = None  # made at the first turn to split: a run without usage needs none
    items: OrderedDict = field(default_factory=OrderedDict)  # id(item) -> (item, [(name, counted)])
    totals: OrderedDict = field(default_factory=OrderedDict)  # turn number -> its input and output, as reported
    histories: OrderedDict = field(default_factory=OrderedDict)  # turn number -> its HistoryTotals
    reuse: bool = True  # take a re-sent history's sums from the turn that sent it (False: walk every item)
    turns: int = 0
    latest: Composition | None = None  # the split of the turn added last, if it spent anything
    largest: Composition | None = None  # the split of the turn with the most input tokens reported
    kept: list[Composition] = field(default_factory=list)  # the first SPLITS_KEPT splits, which a report lists
    more: int = 0  # splits made after those
    sums: dict[tuple[str, str, bool], int] = field(default_factory=dict)  # (kind, name, new) -> tokens, run-long

    def __setstate__(self, state: dict) -> None:
        # Loaded again (probe.analysis.resume): the items are the same objects, but the ids were another process's.
        self.__dict__.update(state)
        self.items = OrderedDict((id(found[0]), found) for found in self.items.values())

    def add(self, turn: Turn) -> Composition | None:
        """The turn's context split, or None if it spent nothing (a token count, a failed request)."""
        self.latest = None
        if not spends(turn):
            return None
        counter = self.counter = self.counter or TokenCounter()
        # The texts the reader took from a system or developer message as instruction blocks: the same string
        # objects (a top-level field's text that reads the same as a message is another object, sent twice).
        lifted = {id(block.text) for block in turn.system}
        pieces = self.instructions(turn, counter) + self.tools(turn, counter) + self.history(turn, counter, lifted)
        reported = turn.usage.input
        self.remember(turn)
        split = Composition(turn.number, counter.encoding, sum(piece.counted for piece in pieces), reported, pieces)
        scale(split)
        self.turns += 1
        self.latest = split
        if reported is not None and (self.largest is None or reported > (self.largest.scaled_to or 0)):
            self.largest = split
        if len(self.kept) < SPLITS_KEPT:
            self.kept.append(split)
        else:
            self.more += 1
        for piece in pieces:
            key = (piece.kind, piece.name, piece.new)
            if key not in self.sums and len(self.sums) >= SUMS_KEPT:
                key = (piece.kind, "(others)", piece.new)
            self.sums[key] = self.sums.get(key, 0) + piece.tokens
        return split

    def instructions(self, turn: Turn, counter: TokenCounter) -> list[Category]:
        found = [Category(INSTRUCTIONS, f"{block.role} block {index}", 0, counter.count(block.text))
                 for index, block in enumerate(turn.system, 1)]  # fmt: skip
        return capped(found, INSTRUCTIONS, "other instruction blocks")

    def tools(self, turn: Turn, counter: TokenCounter) -> list[Category]:
        found = []
        for tool in turn.tools:
            if tool.type == "namespace":  # a namespace's own description; its tools are listed apart
                description = counter.count(tool.description)
                found.append(Category(TOOLS, f"{tool.name} (namespace)", 0, description, group=tool.name))
                continue
            group = tool.namespace or mcp_server(tool.name)
            name = f"{tool.namespace}.{tool.name}" if tool.namespace else tool.name
            found.append(Category(TOOLS, name, 0, counter.count(tool_text(tool)), group=group or None))
        return capped(found, TOOLS, "other tools")

    def history(self, turn: Turn, counter: TokenCounter, lifted: set[int]) -> list[Category]:
        """The history by kind, new or carried; a system or developer message's text that is an instruction block
        already (`lifted`) is not counted again, and one that is not counts as instructions."""
        items = turn.input
        carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
        earlier = self.histories.get(turn.carried.source) if self.reuse and carried else None
        start, totals, names = 0, {}, {}
        if earlier is not None and earlier.holds(items, carried):
            # The turn re-sends the whole history of the one it continues, the same items: their sums are known,
            # and only what is new is walked (a long session re-sends thousands of items a turn).
            start, totals, names = earlier.length, dict(earlier.totals), dict(earlier.names)
        names.update(tool_names(items[start:]))
        sums = {(name, False): tokens for name, tokens in totals.items()}
        for index in range(start, len(items)):
            for name, tokens in self.item_counts(items[index], names, counter, lifted):
                key = (name, index >= carried)
                sums[key] = sums.get(key, 0) + tokens
                totals[name] = totals.get(name, 0) + tokens
        self.histories[turn.number] = HistoryTotals(len(items), items[0] if items else None,
                                                    items[-1] if items else None, totals, names)  # fmt: skip
        while len(self.histories) > TURNS_KEPT:
            self.histories.popitem(last=False)
        left = turn.history_left_out
        if left is not None:
            # A history too long to read whole (probe.read.thinning): the items not read count by their bytes, at
            # the tokens per byte of those read (near four bytes a token where nothing was read).
            read_bytes = sum(item.size or 0 for item in items)
            per_byte = sum(totals.values()) / read_bytes if read_bytes and totals else BYTES_PER_TOKEN**-1
            sums[(NOT_READ, True)] = round(left.bytes * per_byte)
        if turn.carried is not None and turn.carried.by == "previous_response_id":
            # The server kept the context this request continues: what the turn it continues read and wrote.
            kept = self.totals.get(turn.carried.source)
            if kept is not None:
                sums[("kept by the server", False)] = kept
        found = [Category(HISTORY, name, 0, tokens, new=new)
                 for (name, new), tokens in sums.items() if name != IN_HISTORY]  # fmt: skip
        instructions = sum(tokens for (name, _), tokens in sums.items() if name == IN_HISTORY)
        if instructions:  # instructions are one part, neither new nor carried
            found.insert(0, Category(INSTRUCTIONS, IN_HISTORY, 0, instructions))
        return found

    def item_counts(
        self, item: Item, names: dict[str, str], counter: TokenCounter, lifted: set[int]
    ) -> list[tuple[str, int]]:
        """The item's tokens by kind of history, counted once per item object: a re-sent item is the same (and so is
        whether its reader took its text as instruction blocks)."""
        found = self.items.get(id(item))
        if found is not None and found[0] is item:
            self.items.move_to_end(id(item))
            return found[1]
        counts: dict[str, int] = {}
        for part in item.parts:
            if item.role in SYSTEM_ROLES and part.kind == "text" and id(part.text) in lifted:
                continue  # an instruction block: counted there
            name, tokens = part_count(item, part, names, counter)
            counts[name] = counts.get(name, 0) + tokens
        # An item that declares tools (a reader notes how many) holds what the tools part counts: the rest of it only.
        metadata = {key: value for key, value in item.metadata.items() if key != DECLARES_TOOLS}
        if not item.parts and metadata:
            counts["other"] = counter.count(json_text(metadata))
        result = list(counts.items())
        self.items[id(item)] = (item, result)
        if len(self.items) > ITEMS_KEPT:
            self.items.popitem(last=False)
        return result

    def remember(self, turn: Turn) -> None:
        self.totals[turn.number] = (turn.usage.input or 0) + (turn.usage.output or 0)
        while len(self.totals) > TURNS_KEPT:
            self.totals.popitem(last=False)


def part_count(item: Item, part: Part, names: dict[str, str], counter: TokenCounter) -> tuple[str, int]:
    if part.kind == "text":
        role = item.role or "user"
        name = IN_HISTORY if role in SYSTEM_ROLES else TEXT_BY_ROLE.get(role, "other")
        return name, counter.count(part.text or "")
    if part.kind == "reasoning":
        return "reasoning", counter.count(part.text or "") or counter.count(json_text(part.raw))
    if part.kind == "tool_call":
        return "tool calls", counter.count(f"{part.name or ''} {json_text(part.arguments)}")
    if part.kind == "tool_result":
        tool = names.get(part.call_id or "", "a tool")
        return f"tool results: {tool}", counter.count(part.text if part.text is not None else json_text(part.raw))
    if part.kind == "image" or any(word in part.type for word in ("image", "file", "document", "audio")):
        return "images and files", MEDIA_TOKENS
    return "other", counter.count(part.text or json_text(part.raw))


def tool_names(items: list[Item]) -> dict[str, str]:
    """Each call id's tool, from the calls in the history: a result names only the call it answers."""
    return {part.call_id: part.name or "a tool" for item in items for part in item.parts
            if part.kind == "tool_call" and part.call_id}  # fmt: skip


def mcp_server(name: str) -> str | None:
    if name.startswith(MCP_PREFIX) and "__" in name[len(MCP_PREFIX) :]:
        return "mcp " + name[len(MCP_PREFIX) :].split("__", 1)[0]
    return None


def tool_text(tool: Tool) -> str:
    return f"{tool.name}\n{tool.description}\n{json_text(tool.schema) if tool.schema is not None else ''}"


def json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, default=str).decode()
    except (orjson.JSONEncodeError, TypeError):  # nested too deeply, lone surrogates: near enough
        return str(value)[:100_000]


def capped(found: list[Category], kind: str, rest: str) -> list[Category]:
    """The first NAMED_KEPT one by one, the rest summed as one: a hostile request may declare 100,000 tools."""
    if len(found) <= NAMED_KEPT:
        return found
    others = Category(kind, rest, 0, sum(category.counted for category in found[NAMED_KEPT:]))
    return found[:NAMED_KEPT] + [others]


def scale(split: Composition) -> None:
    """Scale the counts to the reported input, rounded so that they add up to it exactly (largest remainders)."""
    if split.scaled_to is None or split.counted <= 0:
        for category in split.categories:
            category.tokens = category.counted
        if split.scaled_to and split.counted <= 0:  # input reported, nothing countable: say so, not zero
            split.categories.append(Category(HISTORY, "not attributed", split.scaled_to, 0, new=True))
        return
    exact = [category.counted * split.scaled_to / split.counted for category in split.categories]
    for category, share in zip(split.categories, exact, strict=True):
        category.tokens = int(share)
    left = split.scaled_to - sum(category.tokens for category in split.categories)
    by_remainder = sorted(range(len(exact)), key=lambda index: exact[index] - int(exact[index]), reverse=True)
    for index in by_remainder[:left]:
        split.categories[index].tokens += 1
