"""The report's MCP servers section: per server, how it was reached and what it said of itself, the tools it offered
and their share of the requests, each call beside the model's tool call that caused it, the tools that came and went,
what the server asked of the agent, and what went wrong; every name, argument and message quoted is captured text."""

from probe.analyse.mcp.model import CALL_START, JoinedCall, McpFacts, ServerShare, ToolsChange
from probe.analyse.tool_calls import short
from probe.common import markdown as md
from probe.common.counting import counted
from probe.read.mcp.model import AGENT, McpCall, McpRecording, McpSession
from probe.write.mcp_records import error_text

CALLS_SHOWN = 200  # calls listed per server; the rest are counted (insight.jsonl and `mcp_calls` have them all)
NAMES_SHOWN = 40  # tool names listed per server
TOOLS_CALL = "tools/call"


def share_line(share: ServerShare) -> md.Markdown:
    """`MCP server `fs`: 14 tools, 6,210 tokens in every request (23 %)`, or what the requests said instead."""
    name = md.inline(share.server)
    if not share.tools and share.deferred:
        return md.Markdown("MCP server {}: {}").format(name, md.Markdown("; ").join(named_only(share)))
    if not share.tools:
        return md.Markdown("MCP server {}: none of its tools was offered to the model").format(name)
    where = "every request" if share.every_request else counted(share.requests, "request")
    percent = "" if share.share is None else md.Markdown(" ({})").format(md.Markdown(percent_text(share.share)))
    tokens = md.Markdown("{} in {}{}").format(md.Markdown(f"{share.tokens:,} tokens"), md.Markdown(where), percent)
    if share.deferred and 0 < share.deferred_tools < share.tools:
        return md.Markdown("MCP server {}: {}, {} of them deferred (only named, for a tool search): {}").format(
            name, md.Markdown(counted(share.tools, "tool")), share.deferred_tools, tokens
        )
    if share.deferred:
        return md.Markdown("MCP server {}: {}, deferred (only their names sent, for a tool search): {}").format(
            name, md.Markdown(counted(share.tools, "tool")), tokens
        )
    return md.Markdown("MCP server {}: {}, {}").format(name, md.Markdown(counted(share.tools, "tool")), tokens)


def named_only(share: ServerShare) -> list[md.Markdown]:
    """A server named to the model without its tools, left for the model to list (codex's deferred namespace)."""
    if share.named_tokens is None:
        parts = [md.Markdown("deferred, its tools' definitions not sent")]
    else:
        parts = [md.Markdown("deferred: only the server named to the model ({}, first sent in turn #{}), its tools' "
                             "definitions not sent").format(md.Markdown(counted(share.named_tokens, "token")),
                                                            share.named_in)]  # fmt: skip
    if share.listed_to_model:
        parts.append(md.Markdown("{} listed to the model through {} (its result sent in turn #{})").format(
            md.Markdown(counted(share.listed_to_model, "tool")), md.inline(share.listed_through or "?"),
            share.listed_in,
        ))  # fmt: skip
    else:
        parts.append(md.Markdown("no listing of its tools seen in what the agent sent the model"))
    return parts


def percent_text(share: float) -> str:
    percent = share * 100
    return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"


def context_lines(facts: McpFacts | None) -> list[str]:
    """The context split's lines for the MCP servers: what each server's tools took of the requests."""
    if facts is None or not facts.servers:
        return []
    return ["", "By MCP server (its tools' definitions, as the requests sent them):", ""] + [
        md.Markdown("- ") + share_line(share) for share in facts.servers
    ]


def mcp_section(recording: McpRecording | None, facts: McpFacts | None) -> list[str]:
    """The section, or nothing when the run had no MCP server: neither recorded nor seen in its requests."""
    recording, facts = recording or McpRecording(), facts or McpFacts()
    shares = {share.server: share for share in facts.servers}
    names = [*recording.sessions, *(name for name in shares if name not in recording.sessions)]
    if not names and not recording.notes:
        return []
    lines = ["", "## MCP servers", ""]
    lines.append(
        "What passed between the agent and each MCP server (mcp.jsonl), each tools/call beside the model's tool call "
        "that caused it. Server: its own time, from the request to its answer; agent's wait: from the model's answer "
        "that asked for the call (or from the call, where the agent started it sooner) to the request that brought "
        "its result back, so what the server did not take of it is the agent's own. Result sent: what the agent sent "
        "the model of the server's result (same, changed, cut, not sent, or unknown where the answer was too big to "
        "record whole); where a tool of the agent's own called the server (codex's exec), whether its output held "
        "the result. A server's tokens are those of the request that sent the most of its tools, scaled to the "
        "input the API reported, as in the context split (## Set-up sent counts each definition once, unscaled)."
    )
    joined = {(call.server, call.request_id): call for call in facts.calls}
    for name in names:
        session = recording.sessions.get(name)
        changes = [change for change in facts.changes if change.server == name]
        lines += server_lines(name, session, shares.get(name), changes, joined)
    if facts.unmatched:
        lines += ["", f"{counted(facts.unmatched, 'tools/call')} matched no tool call of the model's."]
    # (the join's notes hold the record's, named so)
    notes = [*facts.notes, *(note for note in recording.notes if f"mcp.jsonl: {note}" not in facts.notes)]
    if recording.more_servers:
        notes.append(f"{counted(recording.more_servers, 'more server')} not read")
    lines += [md.Markdown("\n- Note: {}").format(note) for note in notes]
    return lines


def server_lines(name: str, session: McpSession | None, share: ServerShare | None, changes: list[ToolsChange],
                 joined: dict[tuple[str, str], JoinedCall]) -> list[str]:  # fmt: skip
    lines = ["", md.Markdown("### {}").format(md.inline(name)), ""]
    if share is not None:
        lines.append(md.Markdown("- ") + share_line(share))
    if session is None:
        return lines + ["- Not recorded: its tools were seen in the requests only"]
    where = md.inline(" ".join(session.command)) if session.command else md.inline(session.url or "")
    lines.append(md.Markdown("- Transport: {}, {} {}").format(
        session.transport, "command" if session.command else "url", where
    ))  # fmt: skip
    info = session.server_info if isinstance(session.server_info, dict) else {}
    said = [md.inline(str(info[key])) for key in ("name", "version") if isinstance(info.get(key), str | int)]
    lines.append(md.Markdown("- Server: {}, protocol {}").format(
        md.Markdown(" ").join(said) if said else md.Markdown("did not say (no initialize answer)"),
        md.inline(session.protocol_version) if session.protocol_version else md.Markdown("unknown"),
    ))  # fmt: skip
    listed = session.listings[-1].names() if session.listings else []
    if listed:
        shown = md.Markdown(", ").join(md.inline(tool) for tool in listed[:NAMES_SHOWN])
        more = len(listed) - NAMES_SHOWN + session.listings[-1].more
        lines.append(md.Markdown("- Tools listed: {} ({}{})").format(
            counted(len(listed) + session.listings[-1].more, "tool"), shown,
            md.Markdown(f" and {more:,} more") if more > 0 else md.Markdown(""),
        ))  # fmt: skip
    if session.exit:
        lines.append(md.Markdown("- Ended: {}").format(session.exit))
    lines += call_lines(session, joined)
    if changes:
        lines += ["", "Tools offered to the model changed:", ""]
        lines += [change_line(change) for change in changes]
    asked = [call for call in session.calls if call.asked_by != AGENT]
    if asked:
        lines += ["", "Asked by the server of the agent:", ""]
        lines += [asked_line(call) for call in asked]
    problems = list(session.problems)
    if session.more_problems:
        problems.append(f"and {counted(session.more_problems, 'more problem')}")
    if problems:
        lines += ["", "Problems:", ""] + [md.Markdown("- {}").format(problem) for problem in problems]
    return lines


def call_lines(session: McpSession, joined: dict[tuple[str, str], JoinedCall]) -> list[str]:
    """The calls the agent made of the server: its tool calls joined to the model's, then its other requests."""
    mine = [call for call in session.calls if call.asked_by == AGENT]
    tool_calls = [call for call in mine if call.method == TOOLS_CALL]
    others = [call for call in mine if call.method != TOOLS_CALL]
    total = len(session.calls) + session.more_calls
    failed = sum(call.is_error or call.error is not None for call in tool_calls)
    lines = [md.Markdown("- Calls: {}, {} of them tools/call ({} failed)").format(
        md.Markdown(counted(total, "request")), len(tool_calls), failed
    )]  # fmt: skip
    if tool_calls:
        rows = [call_row(call, joined.get((call.server, call.request_id))) for call in tool_calls[:CALLS_SHOWN]]
        lines += ["", md.table(["turn", "tool", "arguments", "server", "agent's wait", "result sent", "failed"], rows)]
        shown = [joined.get((call.server, call.request_id)) for call in tool_calls[:CALLS_SHOWN]]
        if any(found is not None and found.stamped_late_s is not None for found in shown):
            lines.append(
                "\n¹ mcp.jsonl stamps this answer after the request that carried its result to the model "
                "started (its line was written late): the server took at most the time to that request."
            )
        if any(found is not None and found.wait_from == CALL_START for found in shown):
            lines.append(
                "\n² The agent started this call before the model's answer that asked for it had ended "
                "(it runs tools while the answer streams): its wait is counted from the call's start."
            )
        if len(tool_calls) > CALLS_SHOWN:
            lines.append(f"\nAnd {counted(len(tool_calls) - CALLS_SHOWN, 'more tools/call')}: see insight.jsonl.")
    if others:
        rows = [[md.inline(call.method), md.inline(short(call.arguments)) if call.arguments is not None else "",
                 seconds_text(call.seconds), error_text(call.error) or ""]
                for call in others[:CALLS_SHOWN]]  # fmt: skip
        lines += ["", "Other requests:", "", md.table(["method", "params", "server", "error"], rows)]
    if session.more_calls:
        lines.append(f"\nAnd {counted(session.more_calls, 'more call')} not read.")
    return lines


def call_row(call: McpCall, joined: JoinedCall | None) -> list:
    """A tools/call as the relay saw it, with the model's tool call it was joined to (or none found)."""
    turn = f"#{joined.asked_in}" if joined is not None and joined.asked_in is not None else "not joined"
    tool = md.inline(call.tool or "")
    if joined is not None and joined.model_tool and joined.model_tool != call.tool:
        tool = md.Markdown("{} (model: {})").format(tool, md.inline(joined.model_tool))
    server_s = joined.server_s if joined is not None else call.seconds
    server = seconds_text(server_s) if server_s is not None else "no answer"
    if joined is not None and joined.stamped_late_s is not None and call.seconds is not None:
        server = f"≤ {server} (recorded {seconds_text(call.seconds)}¹)"
    wait = seconds_text(joined.agent_wait_s) if joined is not None else ""
    if joined is not None and joined.wait_from == CALL_START and wait:
        wait += " (from the call's start²)"
    failed = error_text(call.error) or ("yes" if call.is_error else "")
    return [
        turn,
        tool,
        md.inline(short(call.arguments)) if call.arguments is not None else "",
        server,
        wait,
        joined.result_sent if joined is not None else "",
        failed,
    ]


def change_line(change: ToolsChange) -> md.Markdown:
    parts = []
    if change.added:
        parts.append(md.Markdown("added {}").format(md.Markdown(", ").join(md.inline(name) for name in change.added)))
    if change.removed:
        removed = md.Markdown(", ").join(md.inline(name) for name in change.removed)
        parts.append(md.Markdown("removed {}").format(removed))
    after = md.Markdown(
        " (after the server said its tools changed)"
        if change.notified_at is not None
        else " (the server had not said its tools changed: the agent changed what it offered)"
    )
    return md.Markdown("- At turn #{}: {}{}").format(change.turn, md.Markdown("; ").join(parts), after)


def asked_line(call: McpCall) -> md.Markdown:
    """A request the server made of the agent (sampling, elicitation, roots), with how it was answered."""
    if call.ended is None:
        answer = md.Markdown("no answer")
    else:
        said = md.Markdown("refused: {}").format(error_text(call.error)) if call.error is not None else "answered"
        answer = md.Markdown("{} in {}").format(said, seconds_text(call.seconds))
    params = md.Markdown(" ") + md.inline(short(call.arguments)) if call.arguments is not None else ""
    return md.Markdown("- {}{}: {}").format(md.inline(call.method), md.Markdown(params), answer)


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 0.001:  # a local server answers in less than a millisecond: 0.4 ms, not 0 ms
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"
