"""The run's time model: each agent's lane of intervals, nested under its spawner, the time each agent and the run
spent by part, and the critical path; as the `span` and `time` records every output reads."""

from copy import copy
from dataclasses import dataclass, field
from typing import Any

from probe.analyse.time.critical import critical_path, stretches
from probe.analyse.time.gaps import endings, holes
from probe.analyse.time.lanes import Lanes
from probe.analyse.time.parts import Split, split
from probe.analyse.time.spans import PARTS, SUB_AGENT, TOOL, USER, Span
from probe.common.long_names import bounded
from probe.common.tree import depth_first
from probe.read.conversation import Turn

RUN = "run"


@dataclass
class LaneTime:
    """One agent's lane and its time by part."""

    agent: str
    name: str
    parent: str | None
    depth: int
    spans: list[Span]
    split: Split


@dataclass
class TimeModel:
    """Fed each turn and the tool calls it answered as the run streams past; `finish` builds the lanes. The agents
    and calls are probe.analyse.agents' and probe.analyse.tool_calls', not imported (the insight that feeds this
    does), which keeps the levels of imports shallow."""

    wait_tools: tuple[str, ...] = ()  # tools an agent calls to wait for its sub-agents (probe.analyse.agents)

    lanes: Lanes = field(default_factory=Lanes)
    interactive: bool = False  # the run was an interactive session: a gap before a typed prompt is the user's
    agents: list[LaneTime] = field(default_factory=list)  # in tree order, once finished
    run: Split | None = None
    path: list[Span] = field(default_factory=list)
    stretches: list[tuple[float, float]] = field(default_factory=list)  # the run's stretch each step stands for
    spans: list[Span] = field(default_factory=list)  # every interval, by id, once finished

    def add(self, turn: Turn, agent: str, cache_break: bool, cost_usd: str | None, answered: list) -> None:
        """A turn, and each call it answered with the agents its result names."""
        self.lanes.add_turn(turn, agent, cache_break, cost_usd)
        for call, named in answered:
            self.lanes.add_call(call, named)

    def finish(self, agents: list, unanswered: list, account: Any = None) -> None:
        """Build the lanes from what was gathered, the agent tree, and the agent's own account where it was joined."""
        spans = self.lanes.spans
        run_end = max((span.end for span in spans), default=None)
        if run_end is None:
            return
        for call in unanswered:
            self.lanes.add_open_call(call, run_end)
        by_id = {agent.id: agent for agent in agents}
        label_of = {agent.label: agent.id for agent in agents if agent.label}
        mark_sub_agents(spans, self.lanes.agent_ids, agents, by_id, label_of, run_end, self.wait_tools)
        mark_account(spans, account)
        spans.extend(endings(spans))
        own: dict[str, list[Span]] = {}
        for span in spans:
            own.setdefault(span.agent, []).append(span)
        user_before = self.typed_prompts(account) if self.interactive else {}
        order = tree_order(agents, own)
        for agent_id, depth in order:
            lane = sorted(own.get(agent_id, []), key=lambda span: (span.start, span.end))
            agent = by_id.get(agent_id)
            spawned_at = agent.spawn.asked_at if agent is not None and agent.spawn is not None else None
            start = min([lane[0].start] + ([spawned_at] if spawned_at is not None else [])) if lane else 0.0
            root = agent is None or agent.parent is None
            lane += holes(lane, start, user_before if root else {})
            lane.sort(key=lambda span: (span.start, span.end))
            own[agent_id] = lane
            end = max((span.end for span in lane), default=start)
            pieces = [(begin, finish, part, span.name if span.kind == TOOL else None)
                      for span in lane for begin, finish, part in span.pieces()]  # fmt: skip
            name = agent.name if agent is not None and agent.name else agent_id
            parent = agent.parent if agent is not None else None
            self.agents.append(LaneTime(agent_id, name, parent, depth, lane, split(pieces, start, end)))
        self.run = run_split(self.agents)
        parents = {lane.agent: lane.parent for lane in self.agents}
        self.path = critical_path({lane.agent: lane.spans for lane in self.agents}, parents)
        self.stretches = stretches(self.path, self.run.start, self.run.end) if self.run is not None else []
        for span in self.path:
            span.critical = True
        rank = {lane.agent: index for index, lane in enumerate(self.agents)}
        self.spans = sorted((span for lane in self.agents for span in lane.spans),
                            key=lambda span: (span.start, rank[span.agent], span.end))  # fmt: skip
        for number, span in enumerate(self.spans, 1):
            span.id = number

    def preview(self, agents: list, unanswered: list, interactive: bool, most: int) -> "TimeModel | None":
        """The model `finish` would build if the run ended now (a call not answered yet waits to the last moment
        read), made on copies of the intervals gathered so far, which stay as they are; None past `most` of them,
        where it would cost more than the page could hold."""
        if len(self.lanes.spans) > most:
            return None
        lanes = Lanes(spans=[copy(span) for span in self.lanes.spans], prompted=set(self.lanes.prompted),
                      agent_ids=dict(self.lanes.agent_ids), left_out=self.lanes.left_out)  # fmt: skip
        model = TimeModel(self.wait_tools, lanes, interactive)
        model.finish(agents, unanswered)
        return model

    def typed_prompts(self, account: Any) -> dict[int, float | None]:
        """The exchanges a typed prompt led to, each with when the account says it was submitted."""
        found: dict[int, float | None] = dict.fromkeys(self.lanes.prompted)
        for beside in getattr(account, "prompts", None) or []:
            if beside.numbers and beside.numbers[0] in found and beside.event.time is not None:
                found[beside.numbers[0]] = beside.event.time
        return found

    def records(self, schema: int) -> list[dict]:
        """The `span` records, then a `time` record per agent and the run's (docs/formats.md)."""
        # (a call's id bounded here, where it is written, not on the span: it joins the agent that call spawned)
        found = [span.to_json(schema) | {"call_id": bounded(span.call_id)} for span in self.spans]
        found += [time_record(schema, lane.split, lane.agent, lane.name, lane.parent, lane.depth, len(lane.spans))
                  for lane in self.agents]  # fmt: skip
        run = self.run_record(schema)
        return found + ([run] if run is not None else [])

    def run_record(self, schema: int) -> dict | None:
        if self.run is None:
            return None
        record = time_record(schema, self.run, None, RUN, None, 0, len(self.spans))
        # Each step's stretch by part: what of it the step's interval covers, the rest the agent's own time.
        path_parts = dict.fromkeys(PARTS, 0.0)
        for span, (begin, end) in zip(self.path, self.stretches, strict=True):
            for part, seconds in split([(*piece, None) for piece in span.pieces()], begin, end).parts.items():
                path_parts[part] += seconds
        path_parts = {part: round(seconds, 6) for part, seconds in path_parts.items()}
        steps = [round(end - begin, 6) for begin, end in self.stretches]
        record.update(critical_path=[span.id for span in self.path], critical_s=path_parts, critical_steps_s=steps,
                      spans_left_out=self.lanes.left_out)  # fmt: skip
        return record


def mark_sub_agents(spans, named, agents, by_id, label_of, run_end, wait_tools) -> None:
    """A tool call that spawned an agent, or whose result names one (a wait for it), is a sub-agent span: the
    parent's wait. A spawning call answered before its sub-agent finished (a launch acknowledged at once) lasts
    until the sub-agent's last answer, unless a later call of the parent waited for it (codex's wait_agent)."""
    spawned = {agent.spawn.call_id: agent for agent in agents if agent.spawn is not None and agent.spawn.call_id}
    spawns: list[Span] = []
    waited: set[tuple[str, str]] = set()  # (parent, child) of the waits that are calls of their own
    for index, span in enumerate(spans):
        if span.kind != TOOL:
            continue
        child = spawned.get(span.call_id) if span.call_id else None
        if child is not None:
            spawns.append(span)
        else:
            ids = [by_id.get(name) or by_id.get(label_of.get(name, "")) for name in named.get(index, [])]
            child = next((agent for agent in ids if agent is not None and agent.id != span.agent), None)
            if child is None and (span.name or "").rsplit(".", 1)[-1] in wait_tools:
                child = waited_for(span, by_id)
            if child is not None:
                waited.add((span.agent, child.id))
        if child is not None:
            span.kind, span.child, span.name = SUB_AGENT, child.id, child.name or child.id
    for span in spawns:
        child = by_id[span.child]
        if (span.agent, child.id) not in waited and child.end is not None and child.end > span.end and not span.open:
            span.end = min(child.end, run_end)


def waited_for(span: Span, by_id: dict) -> Any:
    """The sub-agent a wait that names none waited for: of the caller's children running during it, the one that
    finished last before it ended."""
    caller = by_id.get(span.agent)
    running = [by_id[child] for child in (caller.children if caller else []) if child in by_id]
    running = [agent for agent in running if agent.end is not None and agent.start is not None
               and agent.start < span.end and agent.end > span.start]  # fmt: skip
    ended = [agent for agent in running if agent.end <= span.end + 0.001]
    return max(ended or running, key=lambda agent: agent.end, default=None)


def mark_account(spans: list[Span], account: Any) -> None:
    """What the agent's own account adds: the user's wait on a permission prompt before a tool ran (the tool's
    interval then starts at the decision), and the requests that summarised the history (compactions)."""
    if account is None:
        return
    compacted = {number for beside in account.compactions for number in beside.numbers}
    decided = {beside.event.call_id: beside.event.time for beside in account.tools
               if beside.event.kind == "tool decision" and beside.event.call_id and beside.event.time is not None
               and (beside.event.decided_by or "").startswith("user")}  # fmt: skip
    for span in list(spans):
        if span.kind == "model" and span.exchanges[0] in compacted:
            span.compaction = True
        elif span.kind == TOOL and span.call_id in decided and span.start < decided[span.call_id] < span.end:
            moment = decided[span.call_id]
            spans.append(Span(span.agent, USER, "permission", span.start, moment, span.exchanges[:1],
                              call_id=span.call_id))  # fmt: skip
            span.start = moment


def tree_order(agents: list, own: dict[str, list[Span]]) -> list[tuple[str, int]]:
    """Each agent with a lane, depth first from the main agents, children in the order they first made a request;
    an agent the tree does not know (its lane holds intervals only) comes last."""
    walk = depth_first([agent.id for agent in agents], [agent.parent for agent in agents])
    found = [(agents[index].id, depth) for index, depth in walk if agents[index].id in own]
    known = {agent.id for agent in agents}
    return found + [(agent_id, 0) for agent_id in own if agent_id not in known]


def run_split(lanes: list[LaneTime]) -> Split | None:
    """The run's time: the main agents' intervals by their parts, a sub-agent's as the sub-agents part."""
    if not lanes:
        return None
    pieces = []
    for lane in lanes:
        for span in lane.spans:
            for begin, end, part in span.pieces():
                sub = lane.parent is not None
                pieces.append((begin, end, "sub_agents" if sub else part, None if sub else tool_label(span)))
    start = min(lane.split.start for lane in lanes)
    end = max(lane.split.end for lane in lanes)
    return split(pieces, start, end)


def tool_label(span: Span) -> str | None:
    return span.name if span.kind == TOOL else None


def time_record(schema, found: Split, agent, name, parent, depth, spans) -> dict:
    return {
        "record": "time", "schema": schema, "agent": agent, "name": name, "parent": parent, "depth": depth,
        "start": found.start, "end": found.end, "wall_s": round(found.wall, 6),
        "parts": {part: round(found.parts[part], 6) for part in PARTS},
        "tools": {tool: round(seconds, 6) for tool, seconds in sorted(found.tools.items(), key=lambda kv: -kv[1])},
        "spans": spans, "critical_path": None, "critical_s": None, "critical_steps_s": None,
    }  # fmt: skip
