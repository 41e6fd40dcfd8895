"""Fed each turn as the run streams past: the MCP tools each request offered the model, by server, with the tokens
of their definitions and their share of the request's input, the turns where an agent's MCP tools changed, and the
model's calls of MCP tools with the results the agent sent back: what the join needs once the run is read."""

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from probe.analyse.mcp.model import ToolsChange
from probe.analyse.mcp.names import called_tool
from probe.analyse.mcp.results import SentText, sent_text
from probe.analyse.setup import mcp_tool, tool_text
from probe.analyse.token_count import TokenCounter
from probe.apis.agent_setup import DEFERRED_SHAPES
from probe.read.conversation import Turn, json_size

SERVERS_KEPT = 64  # servers summed; a capture offering more is hostile
NAMES_KEPT = 256  # tool names kept per server
AGENTS_KEPT = 1024  # agents whose last offer is remembered, to tell when it changed
CHANGES_KEPT = 256
CALLS_KEPT = 16384  # model tool calls kept for the join; past it they are counted
COUNTS_KEPT = 4096  # tool definitions whose tokens are remembered: re-sent every turn, counted once
ARGUMENTS_KEPT = 64 * 1024  # bytes of a call's arguments kept to compare; past it, the call matches by name and time
TEXT_BUDGET = 64 * 1024 * 1024  # characters of sent results kept whole, over the run
OTHERS_TEXT_BUDGET = 16 * 1024 * 1024  # of them, while results of tools that name no MCP tool may be kept


@dataclass
class ServerOffer:
    """One server's tools over the run's requests."""

    names: list[str] = field(default_factory=list)
    most_tools: int = 0
    most_counted: int = 0  # encoder tokens of its definitions, in the first request that had the most
    tokens: int = 0  # those, scaled as the context split scales them to the input reported
    share: float | None = None  # of that request's input
    requests: int = 0


@dataclass(slots=True)
class ModelCall:
    """A model's tool call, and the result the agent sent back for it."""

    server: str  # the MCP server its name names; "" for a tool of the agent's own
    tool: str
    model_tool: str
    call_id: str | None
    agent: str
    arguments: Any
    arguments_known: bool  # false: too big to keep, matched by name and time
    asked_in: int
    asked_from: float | None  # when the answer that asked started (an agent may start a tool while it streams)
    asked_at: float | None  # when that answer ended
    answered_in: int | None = None
    answered_at: float | None = None
    sent: SentText | None = None
    sent_size: int | None = None
    is_error: bool | None = None


@dataclass
class McpTurns:
    counter: TokenCounter | None = None
    counts: OrderedDict = field(default_factory=OrderedDict)  # (namespace, name, hash) -> tokens
    requests: int = 0  # requests whose context was split
    servers: dict[str, ServerOffer] = field(default_factory=dict)
    offered: OrderedDict = field(default_factory=OrderedDict)  # agent -> ({server: tool names}, turn, its start)
    changes: list[ToolsChange] = field(default_factory=list)
    more_changes: int = 0
    starts: OrderedDict = field(default_factory=OrderedDict)  # turn -> when its answer started, for turns asking
    calls: list[ModelCall] = field(default_factory=list)
    more_calls: int = 0
    text_kept: int = 0
    # Servers the requests only named, their tools left for the model to list (codex's deferred tool namespaces):
    # server -> (tokens of the line naming it, the first turn that sent it).
    named: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, turn: Turn, agent: str, split: Any, answered: list) -> None:
        """A turn's offer, and the tool calls it answered (probe.analyse.tool_calls, results still held)."""
        self.offer(turn, agent, split)
        if any(part.kind == "tool_call" for item in turn.output for part in item.parts):
            self.starts[turn.number] = turn.timing.start
            while len(self.starts) > CALLS_KEPT:
                self.starts.popitem(last=False)
        texts = block_texts(turn) if answered else {}
        for call in answered:
            self.take(call, texts.get(call.call_id) if call.result is None else None)

    def offer(self, turn: Turn, agent: str, split: Any) -> None:
        self.read_naming(turn)
        by_server: dict[str, tuple[set[str], int]] = {}
        for tool in turn.tools:
            named = mcp_tool(tool)
            if named is None:
                continue
            names, counted = by_server.setdefault(named[0], (set(), 0))
            names.add(named[1])
            by_server[named[0]] = (names, counted + self.count(tool))
        if split is not None:
            self.requests += 1
        for server, (names, counted) in by_server.items():
            found = self.servers.get(server)
            if found is None:
                if len(self.servers) >= SERVERS_KEPT:
                    continue
                found = self.servers[server] = ServerOffer()
            found.requests += split is not None
            for name in sorted(names - set(found.names))[: max(NAMES_KEPT - len(found.names), 0)]:
                found.names.append(name)
            found.most_tools = max(found.most_tools, len(names))
            if split is not None and (counted > found.most_counted or found.share is None):
                found.most_counted = counted
                scaled_to = split.scaled_to
                found.tokens = round(counted * scaled_to / split.counted) if scaled_to and split.counted else counted
                found.share = counted / split.counted if split.counted else None
        self.note_change(turn, agent, {server: frozenset(names) for server, (names, _) in by_server.items()})

    def note_change(self, turn: Turn, agent: str, now: dict[str, frozenset]) -> None:
        """The servers whose tools this request offered otherwise than the agent's request before it."""
        before, previous, previous_at = self.offered.pop(agent, (None, None, None))
        self.offered[agent] = (now, turn.number, turn.timing.start)
        if len(self.offered) > AGENTS_KEPT:
            self.offered.popitem(last=False)
        if before is None:
            return
        for server in sorted(set(before) | set(now)):
            old, new = before.get(server, frozenset()), now.get(server, frozenset())
            if old == new:
                continue
            if len(self.changes) >= CHANGES_KEPT:
                self.more_changes += 1
                continue
            change = ToolsChange(turn.number, server, sorted(new - old)[:NAMES_KEPT], sorted(old - new)[:NAMES_KEPT])
            change.turn_at, change.previous, change.previous_at = turn.timing.start, previous, previous_at
            self.changes.append(change)

    def read_naming(self, turn: Turn) -> None:
        """The servers this request named without their tools, in the agents' shapes of such a list."""
        carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
        texts = [block.text for block in turn.system]
        texts += [part.text for item in turn.input[carried:] for part in item.parts if part.kind == "text"]
        for text in texts:
            for server, line in naming_lines(text or ""):
                if server not in self.named and len(self.named) < SERVERS_KEPT:
                    self.counter = self.counter or TokenCounter()
                    self.named[server] = (self.counter.count(line), turn.number)

    def count(self, tool) -> int:
        key = (tool.namespace, tool.name, tool.hash)
        found = self.counts.get(key)
        if found is None:
            counter = self.counter = self.counter or TokenCounter()
            found = self.counts[key] = counter.count(tool_text(tool))
            if len(self.counts) > COUNTS_KEPT:
                self.counts.popitem(last=False)
        return found

    def take(self, call, blocks: str | None = None) -> None:
        """A model's tool call (probe.analyse.tool_calls.ToolCall). One that names no MCP tool is kept too (server
        ""): an agent may call MCP tools from a tool of its own (codex's exec script), joined then by time. `blocks`:
        the text of a result sent as a list of text blocks, which the call does not hold."""
        named = called_tool(call.tool) or ("", "")
        if len(self.calls) >= CALLS_KEPT:
            self.more_calls += 1
            return
        arguments, known = call.parsed, True
        if json_size(arguments) > ARGUMENTS_KEPT:
            arguments, known = None, False
        found = ModelCall(named[0], named[1], call.tool, call.call_id, call.agent, arguments, known,
                          call.asked_in, self.starts.get(call.asked_in), call.asked_at,
                          call.answered_in, call.answered_at)  # fmt: skip
        if call.answered_in is not None:
            found.sent_size, found.is_error = call.result_size, call.is_error
            budget = TEXT_BUDGET if named[0] else OTHERS_TEXT_BUDGET
            result = call.result if call.result is not None else blocks
            if result is not None and self.text_kept < budget:
                found.sent = sent_text(result)
                self.text_kept += len(found.sent.text)
        self.calls.append(found)


def block_texts(turn: Turn) -> dict[str, str]:
    """The results of this turn's request sent as a list of text blocks (codex's exec output: input_text parts), by
    call id: their texts joined by a line, read from the blocks as sent."""
    found = {}
    carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
    for item in turn.input[carried:]:
        for part in item.parts:
            if part.kind != "tool_result" or part.text is not None or not part.call_id:
                continue
            blocks = part.raw if isinstance(part.raw, list) else []
            texts = [block.get("text") for block in blocks if isinstance(block, dict)]
            texts = [text for text in texts if isinstance(text, str)]
            if texts and sum(map(len, texts)) <= TEXT_BUDGET:
                found[part.call_id] = "\n".join(texts)
    return found


def naming_lines(text: str) -> list[tuple[str, str]]:
    """Each server a list of servers named without their tools names in `text` (probe.apis.agent_setup's shapes
    whose lines name a server), with its line as sent."""
    found = []
    for shape in DEFERRED_SHAPES:
        if "server" not in shape.line.groupindex or shape.heading not in text:
            continue
        start = text.find(shape.heading) + len(shape.heading)
        end = text.find("\n\n", start)  # the list ends at a blank line, as probe.analyse.setup reads it
        for line in text[start : end if end >= 0 else len(text)].split("\n")[:SERVERS_KEPT]:
            match = shape.line.match(line)
            if match is not None:
                found.append((match.group("server"), line))
    return found
