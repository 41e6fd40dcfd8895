"""The report's set-up section: the memory files the agent quoted in its requests and the MCP servers whose tools it
offered, with what each cost in tokens (probe.analyse.setup); every name, path and line quoted is captured text."""

from probe.analyse.token_count import ENCODING
from probe.common import markdown as md


def setup_section(setup) -> list[str]:  # (probe.analyse.setup.SetUp: imported there, the imports ran too deep)
    lines = ["", "## Set-up sent", ""]
    if setup.empty():
        return lines + ["No memory file and no MCP tool was recognised in the requests."]
    lines.append(
        md.Markdown(
            "What the agent sent of its user's set-up: the memory files it quoted and the MCP tools it offered, "
            "each counted with {} (bpe-openai), before any scaling to what the API reported."
        ).format(md.text(ENCODING))
    )
    if setup.files or setup.more_files:
        rows = [
            [md.inline(file.path), f"{file.tokens:,}" if file.ends_marked else f"≤ {file.tokens:,}",
             f"{file.characters:,}", md.inline(file.first_line) if file.first_line else "(empty)",
             f"#{file.turn}", md.text(file.agent)]
            for file in setup.files.values()
        ]  # fmt: skip
        lines += ["", "Memory files:", "", md.table(["file", "tokens", "characters", "first line", "first sent in",
                                                    "shape"], rows)]  # fmt: skip
        if any(not file.ends_marked for file in setup.files.values()):
            lines.append("\n≤: the agent marks where such a file starts, not where it ends; its size runs to the "
                         "next file or the end of its block, and may hold more than the file.")  # fmt: skip
        if setup.more_files:
            lines.append(f"\nAnd {setup.more_files:,} more memory files, not listed.")
    if setup.servers or setup.more_servers:
        rows = [[md.inline(server.name), server_tools(server), tokens_cell(server)]
                for server in setup.servers.values()]  # fmt: skip
        lines += ["", "MCP servers:", "", md.table(["server", "tools", "tokens of their definitions"], rows)]
        if setup.more_servers:
            lines.append(f"\nAnd {setup.more_servers:,} more MCP servers, not listed.")
    return lines


def server_tools(server) -> md.Markdown:
    named = [md.inline(name) if tokens is not None else md.Markdown("{} (deferred)").format(md.inline(name))
             for name, tokens in server.tools.items()]  # fmt: skip
    if server.more:
        named.append(md.Markdown(f"and {server.more:,} more"))
    if not named:
        return md.Markdown("tools not named: deferred, loaded when the model asks for them")
    return md.Markdown(", ").join(named)


def tokens_cell(server) -> str:
    sent = [tokens for tokens in server.tools.values() if tokens is not None]
    if not sent:
        return "none sent (deferred)"
    return f"{sum(sent):,} ({len(sent)} tool{'s' if len(sent) != 1 else ''})"


FACT_NAMES = 4  # files and servers named in the viewer's one line; report.md lists them all


def setup_fact(setup) -> str | None:
    """The set-up in one plain line, for the viewer's Run panel (shown as text there); None when nothing was sent."""
    if setup.empty():
        return None
    pieces = []
    files = list(setup.files.values())
    if files:
        named = ", ".join(f"{file.path} ({'≤ ' if not file.ends_marked else ''}{file.tokens:,} tokens)"
                          for file in files[:FACT_NAMES])  # fmt: skip
        left = len(files) - FACT_NAMES + setup.more_files
        pieces.append(f"memory files: {named}" + (f" and {left:,} more" if left > 0 else ""))
    servers = list(setup.servers.values())
    if servers:
        named = ", ".join(server_fact(server) for server in servers[:FACT_NAMES])
        left = len(servers) - FACT_NAMES + setup.more_servers
        pieces.append(f"MCP servers: {named}" + (f" and {left:,} more" if left > 0 else ""))
    return "; ".join(pieces)


def server_fact(server) -> str:
    if not server.tools:
        return f"{server.name} (deferred)"
    count = len(server.tools) + server.more
    tools = f"{count:,} tool{'s' if count != 1 else ''}"
    if all(tokens is None for tokens in server.tools.values()):
        return f"{server.name} ({tools}, deferred)"
    return f"{server.name} ({tools}, {server.tokens():,} tokens)"
