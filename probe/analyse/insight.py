"""The answers a run's capture holds, derived once from the conversation model as the run streams past: which agent
made each request, what filled its context, what each turn cost, the prompt cache and its breaks, and every tool
call; every output reads them from here."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probe.analyse.account.wire import WireCalls
from probe.analyse.agents import WAIT_TOOLS, Agent, AgentTree, agent_ids_in
from probe.analyse.context import Composition, ContextFilling
from probe.analyse.cost import Costs, TurnCost, rewrite_cost
from probe.analyse.hooks import HooksJoin, join_hooks
from probe.analyse.hosts.totals import OtherHosts
from probe.analyse.mcp.offers import McpTurns
from probe.analyse.prices import price_book
from probe.analyse.prompt_cache import CacheTurn, PromptCache, conversation_key
from probe.analyse.setup import SetUp
from probe.analyse.time.model import TimeModel
from probe.analyse.tool_calls import ToolCall, ToolTimeline
from probe.analyse.window.compactions import Compactions
from probe.analyse.window.fill import TurnWindow, Windows
from probe.read.conversation import Turn

SCHEMA = 1  # of insight.jsonl; raised when a field changes meaning or goes away (new fields keep it)


@dataclass
class TurnInsight:
    """What one turn adds: the agent that made it, its use of the prompt cache, and its cost."""

    number: int
    agent: str
    cache: CacheTurn | None
    cost: TurnCost | None = None
    context: Composition | None = None
    window: TurnWindow | None = None  # its model's context window, and the share of it its input took


@dataclass
class Insight:
    """Fed each turn, with its request headers, in the order the run recorded them."""

    agents: AgentTree = field(default_factory=AgentTree)
    cache: PromptCache = field(default_factory=PromptCache)
    tools: ToolTimeline = field(default_factory=ToolTimeline)
    context: ContextFilling = field(default_factory=ContextFilling)
    setup: SetUp = field(default_factory=SetUp)  # the memory files and MCP tools the agent sent
    # Priced with the price file --prices or $PROBE_PRICES names, if any (probe.analyse.prices).
    costs: Costs = field(default_factory=lambda: Costs(price_book()))
    finished: list[Agent] | None = None
    hosts: OtherHosts = field(default_factory=OtherHosts)  # what went to other hosts, never a turn
    wire: WireCalls = field(default_factory=WireCalls)  # the model exchanges, as the account's join needs them
    # The agent's own account joined to them once the run is read (probe.analyse.account.join.AccountJoin: not
    # imported here, which would make every importer of the insight import the account's readers too).
    account: Any = None
    hooks: HooksJoin | None = None  # the agent's hook events joined to them, once the run is read
    # Where the run's time went, agent by agent.
    time: TimeModel = field(default_factory=lambda: TimeModel(wait_tools=WAIT_TOOLS))
    windows: Windows = field(init=False)  # each turn's context window, from the price book the costs use
    compactions: Compactions = field(default_factory=Compactions)  # each against its window, once finished
    mcp: McpTurns = field(default_factory=McpTurns)  # the MCP tools each request offered, and the model's calls of them
    # The run's mcp.jsonl joined to them once the run is read (probe.analyse.mcp.facts.McpFacts, or None: no server).
    mcp_facts: Any = None

    def __post_init__(self) -> None:
        self.windows = Windows(self.costs.book)

    def add_other(self, exchange) -> dict:
        """An exchange that is no turn: counted by host, and read for the model windows an agent's model list gives
        and the explicit caches it made; returns its host's record."""
        self.windows.note_other(exchange)
        self.cache.note_other(exchange)
        return self.hosts.add(exchange)

    def add(self, turn: Turn, headers: list[tuple[str, str]]) -> tuple[TurnInsight, list[ToolCall]]:
        """This turn's facts, and the tool calls it answered (each once, in the order answered)."""
        agent = self.agents.add(turn, headers)
        split = self.context.add(turn)  # before the cache, which weighs a shared prefix by it
        cache = self.cache.add(turn, headers, split)
        if cache is not None and cache.rewritten is not None:
            cache.rewritten_usd = rewrite_cost(self.costs.book, turn, cache.rewritten)
        self.setup.add(turn)
        found = TurnInsight(turn.number, agent, cache, self.costs.add(turn, agent), split)
        found.window = self.windows.add(turn, headers, agent)
        self.compactions.add(turn, conversation_key(turn, headers), agent, found.window)
        answered = self.tools.add(turn, agent)
        cost_usd = None if found.cost is None or found.cost.usd is None else str(found.cost.usd)
        named = [(call, agent_ids_in(call.result) if call.result else []) for call in answered]
        self.time.add(turn, agent, cache is not None and cache.cause is not None, cost_usd, named)
        self.mcp.add(turn, agent, split, answered)  # before the results are let go: the join compares them
        for call in answered:
            self.agents.note_spawn(call)
            call.result = call.parsed = None  # read: no need to hold them until the run ends
        return found, answered

    def time_so_far(self, manifest: dict | None, most: int) -> list[dict] | None:
        """The time model's records as `finish` would make them if the run ended now, with nothing gathered changed
        (the live page's timeline); None past `most` intervals."""
        model = self.time.preview(self.agents.preview(), self.tools.unanswered(), interactive_session(manifest), most)
        return None if model is None else model.records(SCHEMA)

    def finish(self, manifest: dict | None = None, folder: Path | None = None) -> tuple[list[Agent], list[ToolCall]]:
        """The agent tree, and the tool calls no request answered; `manifest` says whether the run was an
        interactive session (where the time before a typed prompt is the user's). The hook events of the run
        `folder`, if given, are joined to its exchanges (probe.analyse.hooks); its MCP servers' record is joined after
        this (probe.analyse.run_files_joined)."""
        self.hooks = join_hooks(folder, self.wire) if folder is not None else None
        self.time.interactive = interactive_session(manifest)
        left = self.tools.finish()
        for call in left:
            self.mcp.take(call)
        self.finished = self.agents.finish()
        self.time.finish(self.finished, left, self.account)
        self.compactions.finish(self.account)
        return self.finished, left


def interactive_session(manifest: dict | None) -> bool:
    return isinstance(manifest, dict) and manifest.get("session") == "interactive"
