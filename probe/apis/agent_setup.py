"""How each agent sends the user's set-up: the shapes in which its memory (instruction) files, its MCP servers'
tools and its lists of deferred MCP tools appear in a request, as measured on the pinned agents. The analysis
(probe.analyse.setup) reads requests only through these tables."""

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MemoryShape:
    """A memory file quoted in an instruction block or a message: `start` matches its heading (its `path` a group),
    and its text runs to `end` (formatted with the path), else to the next heading or the end of the text."""

    agent: str
    start: re.Pattern
    end: str | None = None
    # The text must begin so (the agent's own wrapper), so that a user's message quoting the heading is not taken.
    opens: str = ""
    # How the report names the file, from the heading's path (codex names the folder its instructions are for).
    label: str = "{path}"
    unnamed: str = ""  # the name when the heading gives no path
    # False where nothing marks where a file's text ends: the last one runs to the end of its text, which may hold
    # more than the file (its size is then an upper bound).
    ends_marked: bool = True


MEMORY_SHAPES = (
    # Claude Code: a <system-reminder> at the start of the first user message, one heading per file:
    # "Contents of /home/me/.claude/CLAUDE.md (user's private global instructions for all projects):\n\n<text>".
    MemoryShape(
        "Claude Code",
        re.compile(r"^Contents of (?P<path>[^\n]+?)(?: \([^()\n]*\))?:\n\n?", re.M),
        opens="<system-reminder>",
    ),
    # codex: a user message "# AGENTS.md instructions for <folder>\n\n<INSTRUCTIONS>\n…\n</INSTRUCTIONS>" holding the
    # user's own AGENTS.md and the project's, joined by "--- project-doc ---"; with the user's own alone, the heading
    # names no folder.
    MemoryShape(
        "codex",
        re.compile(r"^# AGENTS\.md instructions(?: for (?P<path>[^\n]+))?\n\n<INSTRUCTIONS>\n", re.M),
        end="\n</INSTRUCTIONS>",
        label="AGENTS.md instructions for {path}",
        unnamed="AGENTS.md instructions",
    ),
    # gemini-cli (GEMINI.md) and Qwen Code (QWEN.md): "--- Context from: <path> ---\n<text>\n--- End of Context
    # from: <path> ---", in the first user message (gemini-cli) or the system prompt (Qwen Code).
    MemoryShape(
        "gemini-cli, Qwen Code",
        re.compile(r"^--- Context from: (?P<path>[^\n]+) ---\n", re.M),
        end="\n--- End of Context from: {path} ---",
    ),
    # opencode: "Instructions from: <path>\n<text>" in its system prompt; the end of the text is not marked.
    MemoryShape("opencode", re.compile(r"^Instructions from: (?P<path>/[^\n]+)\n", re.M), ends_marked=False),
)
# A file whose end is not given by `end` ends at the next heading, or at one of these (the agent's wrapper closing).
CLOSINGS = ("\n</system-reminder>",)


@dataclass(frozen=True)
class ToolNaming:
    """How an agent names an MCP server's tool it declares: `pattern` matches the whole name, with `server` and
    `tool` groups."""

    agents: str
    pattern: re.Pattern


TOOL_NAMINGS = (
    # Claude Code, codex and Qwen Code: mcp__<server>__<tool>.
    ToolNaming("Claude Code, codex, Qwen Code", re.compile(r"mcp__(?P<server>.+?)__(?P<tool>.+)", re.S)),
    # gemini-cli: mcp_<server>_<tool>, the server's name up to the first underscore (as gemini-cli parses it back).
    ToolNaming("gemini-cli", re.compile(r"mcp_(?P<server>[^_]+)_(?P<tool>.+)", re.S)),
)
# codex declares an MCP server's tools in a namespace named mcp__<server>.
NAMESPACE_NAMING = re.compile(r"mcp__(?P<server>.+)", re.S)


@dataclass(frozen=True)
class DeferredShape:
    """A list of MCP tools (or servers) named in text whose definitions were not sent: the agent loads them on
    demand. `heading` opens the list; `line` matches each of its lines, with a `name` group (a tool's name, in the
    agent's naming), or a `server` group (a server whose tools are not named)."""

    agent: str
    heading: str
    line: re.Pattern
    # A line that names a server for the tool lines after it (Qwen Code groups its list by server).
    server_line: re.Pattern | None = None


DEFERRED_SHAPES = (
    # Claude Code: "The following deferred tools are now available via ToolSearch. …:\n<name>\n<name>\n\n".
    DeferredShape(
        "Claude Code",
        "The following deferred tools are now available via ToolSearch.",
        re.compile(r"(?P<name>mcp__[^\s]+)$"),
    ),
    # codex: "<tools>\nDeferred tool namespaces:\n- mcp__<server>\n</tools>".
    DeferredShape("codex", "Deferred tool namespaces:\n", re.compile(r"- mcp__(?P<server>[^\s]+)$")),
    # Qwen Code: "### MCP servers\n#### <server>\n- \"mcp__<server>__<tool>\": \"<description>\"".
    DeferredShape(
        "Qwen Code",
        "### MCP servers\n",
        re.compile(r'- "(?P<name>mcp__[^"\s]+)":'),
        server_line=re.compile(r"#### (?P<server>[^\n]+)"),
    ),
)


def mcp_tool(tool: Any) -> tuple[str, str] | None:
    """The server and tool of an MCP tool, by the agents' naming; None for any other tool."""
    if tool.namespace:
        match = NAMESPACE_NAMING.fullmatch(tool.namespace)
        return (match.group("server"), tool.name) if match else None
    if tool.type == "namespace":  # a namespace's own entry: its tools are declared apart
        return None
    return mcp_name(tool.name)


def mcp_name(name: str) -> tuple[str, str] | None:
    for naming in TOOL_NAMINGS:
        match = naming.pattern.fullmatch(name)
        if match:
            return match.group("server"), match.group("tool")
    return None
