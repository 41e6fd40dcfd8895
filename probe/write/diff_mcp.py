"""The diff's section on MCP servers: the servers only one run had, and for each server both had, the tools it offered
in one run and not the other (from its last tools/list where the run recorded it, else from the tools the requests
offered the model)."""

from probe.analyse.mcp.model import McpFacts
from probe.common import markdown as md
from probe.common.counting import counted


def server_tools(facts: McpFacts | None) -> dict[str, list[str]]:
    """Each server's tools in one run, by server (none named for a server the requests only named, deferred)."""
    if facts is None:
        return {}
    found: dict[str, list[str]] = {}
    sessions = facts.recording.sessions if facts.recording is not None else {}
    for name, session in sessions.items():
        found[name] = session.listings[-1].names() if session.listings else []
    for share in facts.servers:
        if not found.get(share.server):
            found[share.server] = list(share.names)
    return found


def mcp_section(a: McpFacts | None, b: McpFacts | None) -> list:
    """Empty when both runs had the same servers offering the same tools (runs without MCP servers among them)."""
    old, new = server_tools(a), server_tools(b)
    lines = []
    for side, mine, other, facts in (("A", old, new, a), ("B", new, old, b)):
        offered = {share.server: share.tools for share in facts.servers} if facts is not None else {}
        lines += [md.Markdown("- Only in {}: {} ({})").format(
            md.Markdown(side), md.inline(name), md.Markdown(counted(max(len(tools), offered.get(name, 0)), "tool"))
        ) for name, tools in mine.items() if name not in other]  # fmt: skip
    for name, tools in old.items():
        if name not in new:
            continue
        added = [tool for tool in new[name] if tool not in tools]
        removed = [tool for tool in tools if tool not in new[name]]
        said = [md.Markdown("{} {}").format(md.Markdown(word), md.Markdown(", ").join(map(md.inline, changed)))
                for word, changed in (("added", added), ("removed", removed)) if changed]  # fmt: skip
        if said:
            lines.append(md.Markdown("- {}: {} in B").format(md.inline(name), md.Markdown("; ").join(said)))
    return [md.Markdown("## MCP servers"), "", *lines, ""] if lines else []
