"""The report's agents and tool calls: the tree of agents with what each spent and did, and every tool's calls
with the time the agent took over them."""

from probe.analyse.agents import Agent
from probe.analyse.cost import Costs, Spend, dollars
from probe.analyse.mcp.model import JoinedCall
from probe.analyse.tool_calls import ToolTimeline
from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.tree import depth_first

INDENT = md.TREE_INDENT


def tree_order(agents: list[Agent]) -> list[tuple[Agent, int]]:
    """Each agent with its depth, parents before their children; an agent whose parents form a loop (hostile
    headers) is listed at the top level, never twice and never lost."""
    walk = depth_first([agent.id for agent in agents], [agent.parent for agent in agents])
    return [(agents[index], depth) for index, depth in walk]


def agents_section(agents: list[Agent], costs: Costs) -> list[str]:
    lines = ["", "## Agents", ""]
    if len(agents) <= 1:
        agent = agents[0] if agents else None
        requests = len(agent.requests) if agent else 0
        made = "the one request" if requests == 1 else f"all {counted(requests, 'request')}"
        return lines + [f"One agent made {made}: no request named a sub-agent."]
    spawned = sum(agent.parent is not None for agent in agents)
    lines.append(
        f"{counted(len(agents), 'agent')}: {counted(spawned, 'sub-agent')}, told apart by the ids their requests "
        "send; each linked to the tool call that spawned it where that call's result names its id. Each is named by "
        "the task its spawning call gave; the id (and the path its requests give it) is the wire's. Duration: from "
        "the answer that spawned the agent (a main agent: its first request) to its last answer."
    )
    rows = []
    for agent, depth in tree_order(agents):
        spawn = agent.spawn
        rows.append(
            [
                md.Markdown(INDENT * depth + ("└ " if depth else "") + "{}").format(md.inline(agent.name)),
                md.inline(agent.id)
                if not agent.label
                else md.Markdown("{} {}").format(md.inline(agent.id), md.inline(agent.label)),
                len(agent.requests),
                f"#{agent.requests[0]}" if agent.requests else "",
                tokens(agent, "input"),
                tokens(agent, "output"),
                spent(costs.by_agent.get(agent.id)),
                agent.tool_calls,
                f"{lived:.1f} s" if (lived := life_or_duration(agent)) is not None else "",
                md.Markdown("#{} {} {}").format(spawn.turn, md.inline(spawn.tool), md.inline(spawn.call_id))
                if spawn and spawn.tool
                else "",
            ]
        )
    headers = ["agent", "id", "requests", "first", "input tokens", "output tokens", "cost", "tool calls", "duration",
               "spawned by"]  # fmt: skip
    return lines + ["", md.table(headers, rows)]


def life_or_duration(agent: Agent) -> float | None:
    """How long the agent ran: from its spawn where a call spawned it, else from its first request."""
    return agent.life_s if agent.life_s is not None else agent.duration_s


def spent(spend: Spend | None) -> str:
    """An agent's cost, saying how many of its turns had no known price (never counted as $0)."""
    if spend is None:
        return ""
    if not spend.priced:
        return "unknown" if spend.unknown else ""
    return dollars(spend.usd) + (f" (+{spend.unknown} unknown)" if spend.unknown else "")


def tokens(agent: Agent, kind: str) -> str:
    return f"{agent.tokens.sums[kind]:,}" if agent.tokens.reported[kind] else ""


def tools_section(timeline: ToolTimeline, agents: list[Agent], mcp_calls: list[JoinedCall] = ()) -> list[str]:
    """`mcp_calls`: the MCP servers' calls joined to the model's (probe.analyse.mcp), whose server's own time the
    tables show beside the agent's wait."""
    lines = ["", "## Tool calls", ""]
    if not timeline.calls:
        return lines + ["No response asked for a tool call."]
    failed = sum(stats.failed for stats in timeline.tools.values())
    lines.append(
        f"{timeline.calls:,} tool call{'s' if timeline.calls != 1 else ''}, {failed} flagged as failed by the API. "
        "Wait: from the end of the response that asked for a call to the start of the request that brought its "
        "result back (the agent's time, running the tool included)."
    )
    served = {call.call_id: call.server_s for call in mcp_calls if call.call_id and call.server_s is not None}
    by_tool: dict[str, list[float]] = {}
    for call in mcp_calls:
        if call.model_tool and call.server_s is not None:
            by_tool.setdefault(call.model_tool, []).append(call.server_s)
    rows = [
        [
            md.inline(name),
            stats.calls,
            stats.answered,
            stats.failed,
            f"{stats.wait_ms / stats.timed:,.0f} ms" if stats.timed else "",
            *([mean_ms(by_tool.get(name))] if by_tool else []),
            f"{stats.longest_ms:,.0f} ms" if stats.longest_ms is not None else "",
            f"{stats.result_size:,}",
        ]
        for name, stats in sorted(timeline.tools.items(), key=lambda item: (-item[1].calls, item[0]))
    ]
    headers = ["tool", "calls", "answered", "failed", "mean wait", *(["mean MCP server time"] if by_tool else []),
               "longest wait", "result chars"]  # fmt: skip
    lines += ["", md.table(headers, rows)]
    if by_tool:
        lines.append("\nMCP server time: the server's own, from the request it was sent to its answer (mcp.jsonl); "
                     "the rest of the wait is the agent's.")  # fmt: skip
    names = {agent.id: agent.name for agent in agents}
    lives = {agent.spawn.call_id: agent.life_s for agent in agents if agent.spawn and agent.life_s is not None}
    longest = timeline.longest()
    if longest:
        lines += ["", "Longest waits:", ""]
        rows = [
            [
                f"#{call['asked_in']}",
                f"#{call['answered_in']}",
                md.inline(call["tool"]),
                md.inline(names.get(call["agent"], call["agent"])),
                wait_text(call, lives.get(call.get("call_id"))),
                *([server_ms(served.get(call.get("call_id")))] if served else []),
                "yes" if call["is_error"] else "",
                md.inline(call["arguments"]),
            ]
            for call in longest
        ]
        headers = ["asked in", "answered in", "tool", "agent", "wait", *(["MCP server"] if served else []), "failed",
                   "arguments"]  # fmt: skip
        lines.append(md.table(headers, rows))
    return lines


def mean_ms(seconds: list[float] | None) -> str:
    return server_ms(sum(seconds) / len(seconds)) if seconds else ""


def server_ms(seconds: float | None) -> str:
    """An MCP server's time: a local one answers in less than a millisecond (0.4 ms, not 0 ms)."""
    if seconds is None:
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 0.001 else f"{seconds * 1000:,.0f} ms"


def wait_text(call: dict, life_s: float | None) -> str:
    """A call's wait; for a call that spawned an agent which ran on after the call was answered (a background
    agent, whose call is answered at once by a launch acknowledgement), the agent's life, from spawn to its last
    answer."""
    if life_s is not None and life_s * 1000 > call["wait_ms"]:
        return f"{life_s * 1000:,.0f} ms (the agent's life; answered in {call['wait_ms']:,.0f} ms)"
    return f"{call['wait_ms']:,.0f} ms"
