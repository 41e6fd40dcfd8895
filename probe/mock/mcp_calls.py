"""Which MCP tool the mock calls, and how it gets there, for every API: a real model offered an MCP server's tools
calls one of them once; offered only their names (the agent defers them), it first asks the agent's tool search to
load one, then calls it on the next turn, then answers.

What is decided here is the step (search for a tool, or call it, with arguments read from its schema and the user's
prompt); how a step goes on the wire (Claude Code's ToolSearch, a codex `exec` script, a plain function call) is
each API module's.
"""

import re
from dataclasses import dataclass

from probe.mock import tool_schemas
from probe.mock.tool_schemas import Tool

# How agents name an MCP server's tools to the model: `mcp__<server>__<tool>` (Claude Code, codex, Qwen Code) and
# `mcp_<server>_<tool>` (gemini-cli, the server's name up to the first underscore).
NAMINGS = (
    re.compile(r"mcp__(?P<server>.+?)__(?P<tool>.+)", re.S),
    re.compile(r"mcp_(?P<server>[^_]+)_(?P<tool>.+)", re.S),
)
# The tools a model reading the user's prompt would reach for, by the server's own name of the tool: a reader when
# the prompt names a file; else one that works without one (an echo, server-filesystem's list of the folders it
# may read); then any whose first word only looks (a tool that changes things is never picked by the mock: a
# server of such tools only is left alone).
PATH_READERS = ("read_text_file", "read_file", "get_file_info", "list_directory")
PATHLESS = ("echo", "echo_text", "list_allowed_directories")
LOOKING = {"read", "get", "list", "search", "lookup", "find", "describe", "show", "view", "fetch", "query"}
# Looking words that still reach beyond the server's own data (server-everything's get-env reads its environment).
TOUCHY = {"env", "environment", "secret", "secrets", "token", "tokens"}
PATH_PARAMETERS = ("path", "file_path", "filepath", "file", "filename", "uri")
TEXT_PARAMETERS = ("message", "text", "query")
MESSAGE = "agent-probe MCP call"
# An absolute path in the user's prompt: a slash-led run of path characters (a trailing full stop or comma is the
# sentence's, not the path's).
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/:])(/[\w.~/+@%-]+[\w~/+@%-])")


@dataclass(frozen=True)
class McpOffer:
    """What one request offers of MCP tools, as each API module reads it. `tools`: the MCP tools the model can call
    now, with their schemas (an empty schema when the agent gives only a name and a description); `deferred`: MCP
    tools (or servers) named only, to be loaded through `search`, the agent's tool-search tool (None without one);
    `searched`: the conversation's newest turn was that search; `called`: an MCP tool was called already."""

    tools: tuple[Tool, ...] = ()
    deferred: tuple[str, ...] = ()
    search: Tool | None = None
    searched: bool = False
    called: bool = False


@dataclass(frozen=True)
class McpStep:
    """The mock's next MCP move: `search` for the deferred `name` (a tool, or a server whose tools are not named)
    with the agent's tool search, or `call` tool `tool` with `arguments`."""

    kind: str
    name: str
    tool: Tool | None = None
    arguments: dict | None = None


def own_name(name: str) -> str | None:
    """The server's own name of an agent's MCP tool name, or None when the name is no MCP tool's."""
    for naming in NAMINGS:
        found = naming.fullmatch(name)
        if found:
            return found["tool"]
    return None


def is_mcp(name: str) -> bool:
    return own_name(name) is not None


def prompt_path(prompt: str) -> str | None:
    """The first absolute path the user's prompt names, or None."""
    found = ABSOLUTE_PATH.search(prompt[:10_000])
    return found[1] if found else None


def rank(name: str, path: str | None) -> int | None:
    """How much a model given the prompt would want the tool (lower first), or None for one the mock never calls."""
    own = (own_name(name) or name).lower()
    if path and own in PATH_READERS:
        return PATH_READERS.index(own)
    if own in PATHLESS:
        return len(PATH_READERS) + PATHLESS.index(own)
    words = re.split(r"[_\-.]+", own)
    if words[0] in LOOKING and not TOUCHY.intersection(words):
        return len(PATH_READERS) + len(PATHLESS)
    return None


def pick(names: list[str], path: str | None) -> str | None:
    """The MCP tool to call among `names` (the agent's names), or None when none is harmless enough."""
    ranked = [(rank(name, path), index, name) for index, name in enumerate(names)]
    fitting = sorted((place, index, name) for place, index, name in ranked if place is not None)
    return fitting[0][2] if fitting else None


def arguments(tool: Tool, prompt: str) -> dict:
    """Arguments the tool's schema takes, doing real work: the prompt's path for a path-like parameter, a short
    message for a text one, anything else from the schema."""
    path = prompt_path(prompt)
    preferred: dict = {name: MESSAGE for name in TEXT_PARAMETERS}
    if path:
        preferred.update(dict.fromkeys(PATH_PARAMETERS, path))
    # Only the parameters the schema declares: one that declares none would otherwise take them all.
    declared = tool_schemas.properties_of(tool.schema)
    preferred = {name: value for name, value in preferred.items() if name in declared}
    if not tool.schema:  # named and described only: where a path or a message goes is guessed
        reads = path and (own_name(tool.name) or tool.name).lower() in PATH_READERS
        return {"path": path} if reads else {"message": MESSAGE}
    return tool_schemas.arguments_for(tool.schema, preferred)


def next_step(offer: McpOffer, prompt: str, answering: bool) -> McpStep | None:
    """The MCP step this turn takes, or None for none. One MCP call a conversation: offered in full on a fresh turn,
    the tool is called; named only, the agent's search loads it first, and the loaded tool is called on the turn
    after the search; after the call (or a search that loaded nothing) the model answers."""
    if offer.called or (answering and not offer.searched):
        return None
    path = prompt_path(prompt)
    chosen = pick([tool.name for tool in offer.tools], path)
    if chosen is not None:
        tool = next(tool for tool in offer.tools if tool.name == chosen)
        return McpStep("call", chosen, tool, arguments(tool, prompt))
    if answering or offer.search is None or not offer.deferred:
        return None
    # A list of tool names picks one; a list of servers (codex names only its deferred namespaces) searches the
    # first server's.
    named = pick(list(offer.deferred), path)
    servers = [name for name in offer.deferred if not is_mcp(name)]
    if named is None and not servers:
        return None
    return McpStep("search", named or servers[0])


def offered_call(tools: list[Tool], earlier: list[str], prompt: str, answering: bool) -> tuple[Tool, dict] | None:
    """The MCP call of an API whose agents offer MCP tools in full only (no tool search): one of `tools` on a fresh
    turn, unless one of the `earlier` calls' names was an MCP tool's."""
    offered = tuple(tool for tool in tools if is_mcp(tool.name))
    step = next_step(McpOffer(offered, called=any(is_mcp(name) for name in earlier)), prompt, answering)
    return (step.tool, step.arguments or {}) if step is not None and step.tool is not None else None
