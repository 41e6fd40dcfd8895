"""The set-up an agent sent with its requests: the memory (instruction) files it quoted, and the MCP servers whose
tools it offered, declared in full or only named (deferred), each with the tokens it costs. Recognised through
each agent's shapes (probe.apis.agent_setup); every request's instructions are read, and of its history only what
is new (a session re-sends the rest every turn)."""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import orjson

from probe.analyse.token_count import TokenCounter
from probe.apis.agent_setup import (
    CLOSINGS,
    DEFERRED_SHAPES,
    MEMORY_SHAPES,
    DeferredShape,
    MemoryShape,
    mcp_name,
    mcp_tool,
)
from probe.read.conversation import Tool, Turn

FILES_KEPT = 64  # memory files listed; a hostile capture's others are counted
SERVERS_KEPT = 64  # MCP servers listed, and tools listed per server; the others counted
TOOLS_KEPT = 256
NAMES_COUNTED = 65536  # files and servers past those listed, each counted once, up to this many
TEXTS_KEPT = 4096  # instruction texts whose findings are remembered: re-sent every turn, read once
FIRST_LINE = 120  # characters of a file's first line kept
HEADINGS_READ = 256  # headings read in one text: a hostile one may hold millions


@dataclass
class MemoryFile:
    """One memory file as the agent quoted it: where it says it came from, and what it sent of it."""

    agent: str  # whose shape it was sent in
    path: str
    first_line: str
    tokens: int  # counted with the encoder (token_count), not scaled to what the API reported
    characters: int
    turn: int  # the first request that sent it
    ends_marked: bool = True  # False: its end is not marked, and its size is an upper bound

    def to_json(self) -> dict:
        return {"agent": self.agent, "path": self.path, "first_line": self.first_line, "tokens": self.tokens,
                "characters": self.characters, "turn": self.turn, "ends_marked": self.ends_marked}  # fmt: skip


@dataclass
class McpServer:
    """One MCP server's tools as the agent offered them: each tool's tokens (its definition as sent), or None for a
    tool only named, its definition deferred; `deferred` when the server was named without its tools."""

    name: str
    tools: dict[str, int | None] = field(default_factory=dict)
    deferred: bool = False
    more: int = 0  # tools past TOOLS_KEPT

    def add(self, tool: str, tokens: int | None) -> None:
        if tool in self.tools:
            if tokens is not None and self.tools[tool] is None:
                self.tools[tool] = tokens  # a deferred tool whose definition a later request sent
            return
        if len(self.tools) >= TOOLS_KEPT:
            self.more += 1
            return
        self.tools[tool] = tokens

    def tokens(self) -> int:
        return sum(tokens for tokens in self.tools.values() if tokens is not None)

    def to_json(self) -> dict:
        return {"name": self.name, "tools": [{"name": name, "tokens": tokens} for name, tokens in self.tools.items()],
                "tokens": self.tokens(), "deferred": self.deferred, "more_tools": self.more}  # fmt: skip


@dataclass
class SetUp:
    """Fed each turn; what the run's requests sent of the user's set-up."""

    counter: TokenCounter | None = None
    files: OrderedDict = field(default_factory=OrderedDict)  # (path, sha256 of its text) -> MemoryFile
    more_files: int = 0  # files past FILES_KEPT (counted up to NAMES_COUNTED)
    files_left_out: set = field(default_factory=set)  # their keys, to count each once
    servers: dict[str, McpServer] = field(default_factory=dict)
    more_servers: int = 0  # servers past SERVERS_KEPT (counted up to NAMES_COUNTED)
    left_out: set = field(default_factory=set)  # their names, to count each once
    texts: OrderedDict = field(default_factory=OrderedDict)  # (length, hash) of each text read -> None
    tools_seen: set = field(default_factory=set)  # hashes of tool definitions read

    def add(self, turn: Turn) -> None:
        for block in turn.system:
            self.read_text(block.text, turn.number)
        carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
        for item in turn.input[carried:]:
            for part in item.parts:
                if part.kind == "text" and part.text:
                    self.read_text(part.text, turn.number)
        for tool in turn.tools:
            self.read_tool(tool)

    def read_text(self, text: str, number: int) -> None:
        key = (len(text), hash(text))  # not the text: a few thousand long instructions would hold gigabytes
        if key in self.texts:
            return
        self.texts[key] = None
        while len(self.texts) > TEXTS_KEPT:
            self.texts.popitem(last=False)
        for shape in MEMORY_SHAPES:
            if (not shape.opens or text.startswith(shape.opens)) and shape.start.search(text):
                for path, body in quoted_files(text, shape):
                    self.add_file(shape, path, body, number)
        for deferred in DEFERRED_SHAPES:
            if deferred.heading in text:
                for server, tool in deferred_tools(text, deferred):
                    self.add_tool(server, tool, None)

    def __setstate__(self, state: dict) -> None:
        # Loaded again (probe.analysis.resume): the texts were remembered by another process's string hashes.
        self.__dict__.update(state)
        self.texts = OrderedDict()

    def add_file(self, shape: MemoryShape, path: str, body: str, number: int) -> None:
        # By a digest that holds across processes: a resumed analysis meets the same file again.
        key = (path, hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest())
        if key in self.files:
            return
        if len(self.files) >= FILES_KEPT:
            if len(self.files_left_out) < NAMES_COUNTED:
                self.files_left_out.add(key)
                self.more_files = len(self.files_left_out)
            return
        counter = self.counter = self.counter or TokenCounter()
        first = next((line.strip() for line in body.splitlines() if line.strip()), "")
        label = shape.label.format(path=path) if path else shape.unnamed
        self.files[key] = MemoryFile(shape.agent, label, first[:FIRST_LINE], counter.count(body), len(body), number,
                                     shape.ends_marked)  # fmt: skip

    def read_tool(self, tool: Tool) -> None:
        key = (tool.namespace, tool.name, tool.hash)
        if key in self.tools_seen:
            return
        named = mcp_tool(tool)
        if named is None:
            return
        if len(self.tools_seen) < TEXTS_KEPT:
            self.tools_seen.add(key)
        counter = self.counter = self.counter or TokenCounter()
        self.add_tool(named[0], named[1], counter.count(tool_text(tool)))

    def add_tool(self, server: str, tool: str | None, tokens: int | None) -> None:
        """Add a server's tool (None: the server alone, its tools deferred)."""
        found = self.servers.get(server)
        if found is None:
            if len(self.servers) >= SERVERS_KEPT:
                if len(self.left_out) < NAMES_COUNTED:
                    self.left_out.add(server)
                    self.more_servers = len(self.left_out)
                return
            found = self.servers[server] = McpServer(server)
        if tool is None:
            found.deferred = True
        else:
            found.add(tool, tokens)

    def empty(self) -> bool:
        return not self.files and not self.servers

    def to_json(self) -> dict:
        return {"memory_files": [file.to_json() for file in self.files.values()], "more_memory_files": self.more_files,
                "mcp_servers": [server.to_json() for server in self.servers.values()],
                "more_mcp_servers": self.more_servers}  # fmt: skip


def quoted_files(text: str, shape: MemoryShape) -> list[tuple[str, str]]:
    """Each file quoted in `text` in the agent's shape: its path and its text."""
    found = []
    headings = []
    for match in shape.start.finditer(text):
        headings.append(match)
        if len(headings) >= HEADINGS_READ:
            break
    for index, match in enumerate(headings):
        path, start = match.group("path") or "", match.end()
        stop = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        if shape.end is not None:
            # Looked for before the next heading only: a text of many unclosed headings is read once, not once each.
            end = text.find(shape.end.format(path=path), start, stop)
            if end < 0:
                continue  # not closed: not the agent's quote
            stop = end
        for closing in CLOSINGS:
            cut = text.find(closing, start, stop)
            stop = cut if cut >= 0 else stop
        found.append((path, text[start:stop].rstrip("\n")))
    return found


def deferred_tools(text: str, shape: DeferredShape) -> list[tuple[str, str | None]]:
    """The MCP tools (server, tool) or servers (server, None) a deferred list in `text` names, up to a blank line."""
    found: list[tuple[str, str | None]] = []
    start = text.find(shape.heading) + len(shape.heading)
    if not shape.heading.endswith("\n"):  # the heading's line goes on: the list starts on the next one
        start = text.find("\n", start) + 1 or len(text)
    end = text.find("\n\n", start)  # the list ends at a blank line
    server = None
    for line in text[start : end if end >= 0 else len(text)].split("\n"):
        if shape.server_line is not None and (heading := shape.server_line.match(line)):
            server = heading.group("server")
            continue
        match = shape.line.match(line)
        if match is None:
            continue
        if "server" in match.groupdict():
            found.append((match.group("server"), None))
            continue
        named = mcp_name(match.group("name"))
        if named is not None:
            found.append((server or named[0], named[1]))
        if len(found) >= SERVERS_KEPT * TOOLS_KEPT:
            break
    return found


def tool_text(tool: Tool) -> str:
    """A tool's definition as the context split counts it (probe.analyse.context.tool_text, not imported: the
    imports would run a level too deep), so that both give one tool the same tokens."""
    schema = tool.schema
    if schema is None or isinstance(schema, str):
        return f"{tool.name}\n{tool.description}\n{schema or ''}"
    try:
        schema = orjson.dumps(schema, default=str).decode()
    except (orjson.JSONEncodeError, TypeError):  # nested too deeply, lone surrogates: near enough
        schema = str(schema)[:100_000]
    return f"{tool.name}\n{tool.description}\n{schema}"
