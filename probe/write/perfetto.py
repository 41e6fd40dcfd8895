"""Writes a run's time model (insight.jsonl's agent, span and time records) as a Chrome Trace Event JSON file, which
Perfetto, chrome://tracing and speedscope open: a process per agent, a named track per kind of interval."""

import re
from collections import Counter
from typing import BinaryIO

import orjson

from probe.common.counting import counted
from probe.common.lines import BoundedLines
from probe.common.tree import depth_first
from probe.write.perfetto_lanes import LANES_PER_TRACK, TRACKS, Lanes
from probe.write.perfetto_mcp import MAX_CALLS, McpLanes
from probe.write.perfetto_slices import cut, micros, plain, seconds, span_slices

LINE_LIMIT = 1024 * 1024  # bytes of one insight.jsonl line read; a turn's record can be long, a span's is not
# The records the trace is made of, as a line starts (probe.write.insight_lines writes `record` first).
READ_KINDS = re.compile(rb'^\s*\{\s*"record"\s*:\s*"(agent|span|time|mcp_server|mcp_call)"')
MAX_AGENTS = 2_000  # processes; the spans of agents past this are left out
MAX_SPANS = 200_000  # intervals drawn; past this the trace ends, and says so


class Trace:
    """The trace as it is written: events go out one at a time; only the agents, the lanes' ends and the flows
    still waiting for a sub-agent's first interval are held."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.first = out, True
        self.agents: dict[str, dict] = {}  # id → {pid, name, parent}
        self.lanes = Lanes(self.name_track)
        self.agents_start: float | None = None  # the earliest agent's first request
        self.origin: float | None = None  # the run's start, in epoch seconds: the trace's zero
        self.flows: dict[str, int] = {}  # child agent id → the flow id of the call that spawned it
        self.started: set[str] = set()  # agents with an interval drawn already
        self.flow_ids = 0
        self.spans = self.left_out = self.unreadable = 0
        self.too_long: Counter = Counter()  # records the trace reads, by kind, on lines over LINE_LIMIT (unread)
        self.run_time: dict | None = None
        self.mcp = McpLanes()  # the MCP servers' calls, drawn at the end on a process per server
        out.write(b'{"traceEvents":[\n')

    def emit(self, event: dict) -> None:
        self.out.write((b"" if self.first else b",\n") + orjson.dumps(event))
        self.first = False

    def name_track(self, pid: int, tid: int, name: str) -> None:
        self.emit({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}})
        self.emit({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": tid}})

    def add_agent(self, record: dict) -> None:
        agent_id = record.get("id")
        if not isinstance(agent_id, str) or agent_id in self.agents or len(self.agents) >= MAX_AGENTS:
            return
        parent = record.get("parent") if isinstance(record.get("parent"), str) else None
        self.agents[agent_id] = {"pid": len(self.agents) + 1, "name": cut(record.get("name") or agent_id),
                                 "parent": parent}  # fmt: skip
        start = seconds(record.get("start"))
        if start is not None and (self.agents_start is None or start < self.agents_start):
            self.agents_start = start

    def name_processes(self) -> None:
        """Each agent's process, named, sorted in tree order (children under their parent), labelled by parent."""
        ids = list(self.agents)
        order = [ids[index] for index, _ in depth_first(ids, [agent["parent"] for agent in self.agents.values()])]
        for index, agent_id in enumerate(order):
            agent = self.agents[agent_id]
            pid = agent["pid"]
            self.emit({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": agent["name"]}})
            self.emit({"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": index}})
            parent = self.agents.get(agent["parent"] or "")
            if parent is not None:
                self.emit({"ph": "M", "name": "process_labels", "pid": pid,
                           "args": {"labels": f"spawned by {parent['name']}"}})  # fmt: skip

    def add_span(self, span: dict) -> None:
        kind, agent = span.get("kind"), self.agents.get(span.get("agent"))
        start, end = seconds(span.get("start")), seconds(span.get("end"))
        if kind not in TRACKS or agent is None or start is None or end is None or end < start:
            self.unreadable += 1
            return
        if self.spans >= MAX_SPANS:
            self.left_out += 1
            return
        if self.origin is None:  # spans come in order of start: the first is the earliest (but MCP calls', read before)
            self.origin = min(time for time in (start, self.agents_start, self.mcp.earliest) if time is not None)
        first_byte = seconds(span.get("first_byte"))
        first_byte = first_byte if first_byte is not None and start <= first_byte <= end else None
        times = (micros(start, self.origin), micros(end, self.origin),
                 None if first_byte is None else micros(first_byte, self.origin))  # fmt: skip
        tid = self.lanes.place(agent["pid"], kind, times[0], times[1])
        if tid is None:
            self.left_out += 1
            return
        self.spans += 1
        for event in span_slices(span, kind, agent["pid"], tid, times):
            self.emit(event)
        self.link(span, kind, agent["pid"], tid, times[0])

    def link(self, span: dict, kind: str, pid: int, tid: int, ts: int) -> None:
        """Flow arrows (v1 flow events, bound to the slices around them) from a spawning call to the first
        interval of the agent it spawned."""
        agent_id = span["agent"]
        if agent_id in self.flows:
            flow = self.flows.pop(agent_id)
            self.emit({"ph": "f", "bp": "e", "cat": "spawn", "name": "spawn", "id": flow, "pid": pid, "tid": tid,
                       "ts": ts})  # fmt: skip
        self.started.add(agent_id)
        child = span.get("child")
        if kind == "sub_agent" and child in self.agents and child not in self.started and child not in self.flows:
            self.flow_ids += 1
            flow = self.flows[child] = self.flow_ids
            self.emit({"ph": "s", "cat": "spawn", "name": "spawn", "id": flow, "pid": pid, "tid": tid, "ts": ts})

    def finish(self, warnings: list[str]) -> int:
        """Close the file with its metadata (what was left out, the run's time by part); the slices drawn."""
        mcp = self.mcp
        origin = self.origin if self.origin is not None else mcp.earliest
        if origin is not None:
            for event in mcp.events(len(self.agents) + 1, len(self.agents), origin):
                self.emit(event)
        notes = {}
        if mcp.left_out:
            notes["mcp_left_out"] = f"{counted(mcp.left_out, 'MCP call')} left out: a trace holds at most {MAX_CALLS}"
            warnings.append(f"perfetto: {notes['mcp_left_out']}")
        if mcp.unreadable:
            notes["mcp_unreadable"] = f"{counted(mcp.unreadable, 'mcp_call record')} without a server or times"
            warnings.append(f"perfetto: {notes['mcp_unreadable']}, left out")
        if self.left_out:
            notes["left_out"] = f"{self.left_out} intervals left out: a trace holds at most {MAX_SPANS} intervals"
            notes["left_out"] += f" and {LANES_PER_TRACK} parallel ones of a kind per agent"
            warnings.append(f"perfetto: {notes['left_out']}")
        if self.too_long:  # (an agent's left out leaves its intervals without a known agent)
            kinds = ", ".join(counted(count, f"{kind} record") for kind, count in sorted(self.too_long.items()))
            notes["too_long"] = f"{kinds} of insight.jsonl left unread: each on a line over {LINE_LIMIT:,} bytes"
            warnings.append(f"perfetto: {notes['too_long']}")
        if self.unreadable:
            notes["unreadable"] = f"{counted(self.unreadable, 'span record')} without a known agent, kind or times"
            warnings.append(f"perfetto: {notes['unreadable']}, left out")
        if not (self.spans or self.left_out or self.unreadable or self.too_long):
            warnings.append(
                "perfetto: insight.jsonl holds no intervals (span records): the trace names the agents only"
            )
        metadata = {"source": "agent-probe insight.jsonl", "agents": len(self.agents), "intervals": self.spans,
                    "mcp_servers": len(mcp.servers), "mcp_calls": len(mcp.calls), **notes,
                    "run_time": self.run_time}  # fmt: skip
        self.out.write(b"\n],\n" + orjson.dumps({"displayTimeUnit": "ms", "otherData": metadata})[1:] + b"\n")
        return self.spans


def write_trace(insight, out: BinaryIO, warnings: list[str]) -> int:
    """Write the trace of the run whose insight.jsonl is at `insight` to `out`; return the intervals drawn."""
    trace = Trace(out)
    named = False
    with open(insight, "rb") as file:
        lines = BoundedLines(file, LINE_LIMIT)
        for _number, line, _size in lines:
            if line is None:  # (a turn's record may be that long, and the trace reads none)
                kind = READ_KINDS.search(lines.head)
                if kind is not None:
                    trace.too_long[kind.group(1).decode()] += 1
                continue
            record = read_record(line)
            kind = record.get("record")
            if kind == "agent":
                trace.add_agent(record)
            elif kind in ("span", "time") and not named:
                trace.name_processes()
                named = True
            if kind == "span":
                trace.add_span(record)
            elif kind == "mcp_server":
                trace.mcp.add_server(record)
            elif kind == "mcp_call":
                trace.mcp.add_call(record)
            elif kind == "time" and record.get("agent") is None:
                trace.run_time = {key: plain(record.get(key)) for key in ("wall_s", "parts", "tools", "critical_s")}
    if not named:
        trace.name_processes()
    return trace.finish(warnings)


def read_record(line: bytes) -> dict:
    """One line of insight.jsonl as a dict; an empty one where it is not a JSON object."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return record if isinstance(record, dict) else {}
