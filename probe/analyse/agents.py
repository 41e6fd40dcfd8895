"""Which agent made each request, and the tree the agents form: a sub-agent's requests name it, and its parent, in
headers its agent sends; the tool call that spawned it is found from the tool result that names its id."""

import re
from dataclasses import dataclass, field, replace

import orjson

from probe.analyse.token_sums import TokenSums, spends
from probe.analyse.tool_calls import ToolCall
from probe.common.long_names import bounded_name
from probe.read.conversation import Turn
from probe.read.headers import header


@dataclass(frozen=True)
class AgentHeaders:
    """The request headers by which one agent names the agent that sent a request, and its parent."""

    own: str
    parent: str
    # Whether the main agent sends `own` too: if not, an agent that names no parent is a child of the main one.
    sent_by_main: bool


# Measured on the agents (probe notes): Claude Code's sub-agents send their agent id, a grandchild its parent's
# too, and the main session neither; every codex thread sends its thread id, a sub-agent its parent's thread.
AGENT_HEADERS = (
    AgentHeaders("x-claude-code-agent-id", "x-claude-code-parent-agent-id", sent_by_main=False),
    AgentHeaders("thread-id", "x-codex-parent-thread-id", sent_by_main=True),
)
# The session all of one run's agents share, where the agent says: it tells two main agents apart.
SESSION_HEADERS = ("x-claude-code-session-id", "session-id")
MAIN = "main"
# How a tool result names the agent it started: Claude Code's `agentId: <id>` line, codex's `{"agent_id": …}`.
AGENT_ID_IN_TEXT = re.compile(r"\bagentId:\s*([A-Za-z0-9_.:-]{1,128})")
# A JSON result may name the agent by its id or by its name: codex's spawn_agent answers `{"task_name": …}`, the
# name the child's requests then give in their turn metadata (below).
AGENT_ID_KEYS = ("agent_id", "task_name")
# Headers that hold JSON naming the agent that sent the request: codex's turn metadata names each thread's agent.
AGENT_NAME_HEADERS = (("x-codex-turn-metadata", "agent_name"),)
# Tools an agent calls to wait for the sub-agents it spawned, whose results need not name them: codex's wait_agent
# (its `collaboration.wait_agent`) waits for whichever of its agents next has news.
WAIT_TOOLS = ("wait_agent",)
# The spawning call's arguments that name what the agent is for, in order of preference.
NAME_ARGUMENTS = ("description", "task_name", "subagent_type", "agent_type")
AGENTS_KEPT = 4096  # agents remembered: a capture that names more is hostile, and the rest are counted as one
OTHER = "(other agents)"


@dataclass
class Spawn:
    """The tool call that started an agent: the turn that asked for it, its id and its tool."""

    turn: int
    call_id: str
    tool: str
    name: str | None = None  # what the call's arguments say the agent is for
    asked_at: float | None = None  # when the answer asking for it ended: the agent's life starts there


@dataclass
class Agent:
    """One agent's requests and what they spent."""

    id: str
    parent: str | None
    requests: list[int] = field(default_factory=list)  # the exchanges' numbers, in order
    tokens: TokenSums = field(default_factory=TokenSums)
    models: dict[str, int] = field(default_factory=dict)
    tool_calls: int = 0
    start: float | None = None
    end: float | None = None
    spawn: Spawn | None = None
    label: str | None = None  # the name its requests give it, where they give one: codex's `/root/<task>` path
    children: list[str] = field(default_factory=list)
    name: str = ""  # the one readable name every view gives it, chosen by readable_names() once the tree is known

    @property
    def duration_s(self) -> float | None:
        return self.end - self.start if self.start is not None and self.end is not None else None

    @property
    def life_s(self) -> float | None:
        """From the answer that asked for the agent to its own last answer: a background agent's call is answered
        at once with a launch acknowledgement, so the call's wait says nothing of how long the agent ran."""
        asked = self.spawn.asked_at if self.spawn is not None else None
        return self.end - asked if asked is not None and self.end is not None else None


@dataclass
class Senders:
    """Tells which agent sent each request of one run, fed its requests' headers in the order they were made (the
    first session named is the run's main one)."""

    first_session: str = ""

    def sender(self, headers: list[tuple[str, str]]) -> tuple[str, str | None]:
        """The agent that sent this request and its parent, as identify() tells them."""
        if not self.first_session:
            self.first_session = session_of(headers)
        return identify(headers, self.first_session)


@dataclass
class AgentTree:
    """Fed each turn with its request headers as the report streams past; the tree is known at the end."""

    agents: dict[str, Agent] = field(default_factory=dict)
    spawns: dict[str, Spawn] = field(default_factory=dict)  # by the id of the agent spawned
    senders: Senders = field(default_factory=Senders)

    def add(self, turn: Turn, headers: list[tuple[str, str]]) -> str:
        """The id of the agent that made this turn's request, with the turn counted to it."""
        own, parent = self.senders.sender(headers)
        agent = self.agent(own, parent)
        if agent.label is None:
            agent.label = label_in(headers)
        agent.requests.append(turn.number)
        if spends(turn):
            agent.tokens.add(turn)
            if turn.model:
                model = bounded_name(turn.model)
                agent.models[model] = agent.models.get(model, 0) + 1
        agent.tool_calls += sum(part.kind == "tool_call" for item in turn.output for part in item.parts)
        if turn.timing.start is not None:
            end = turn.timing.start + (turn.timing.duration_ms or 0) / 1000
            agent.start = turn.timing.start if agent.start is None else min(agent.start, turn.timing.start)
            agent.end = end if agent.end is None else max(agent.end, end)
        return agent.id

    def agent(self, own: str, parent: str | None) -> Agent:
        if own not in self.agents:
            if len(self.agents) >= AGENTS_KEPT:
                own, parent = OTHER, None
            self.agents.setdefault(own, Agent(own, parent))
        return self.agents[own]

    def note_spawn(self, call: ToolCall) -> None:
        """Remember the first answered tool call whose result names an agent id: the call that spawned it (a
        later call, such as one that waits for the agent, names it again)."""
        if call.result is None:
            return
        for agent_id in agent_ids_in(call.result):
            if agent_id not in self.spawns and len(self.spawns) < AGENTS_KEPT:
                self.spawns[agent_id] = Spawn(call.asked_in, call.call_id or "", call.tool, agent_name(call.parsed),
                                              call.asked_at)  # fmt: skip

    def finish(self) -> list[Agent]:
        """The agents, each linked to its parent and to the call that spawned it; in the order they first made a
        request, children listed under each parent in that order too."""
        return linked(self.agents, self.spawns)

    def preview(self) -> list[Agent]:
        """The tree `finish` would give now, made of copies: the agents gathered so far are left as they are (the
        live page's provisional time model)."""
        return linked({agent.id: replace(agent, children=[]) for agent in self.agents.values()}, self.spawns)


def linked(agents: dict[str, Agent], spawns: dict[str, Spawn]) -> list[Agent]:
    """`agents` each linked to its parent and to the call that spawned it, and named (changed in place)."""
    for agent in list(agents.values()):
        if agent.parent is not None and agent.parent not in agents:
            agents[agent.parent] = Agent(agent.parent, None)  # a parent that made no request seen here
    for agent in agents.values():
        agent.spawn = spawns.get(agent.id) or (spawns.get(agent.label) if agent.label else None)
        if agent.parent is not None:
            agents[agent.parent].children.append(agent.id)
    readable_names(list(agents.values()))
    return list(agents.values())


def readable_names(agents: list[Agent]) -> None:
    """Give each agent one readable name: the task the call that spawned it gave (else the agent type it asked
    for), else the name its requests give it without its path, else `main` for a main agent; two agents with one
    name are told apart by a number, in the order they first made a request ("list files (2)"). The wire's own ids
    and paths stay the agent's `id` and `label`."""
    taken: dict[str, int] = {}
    for agent in agents:
        if agent.id == OTHER:
            name = OTHER
        elif agent.parent is None and agent.spawn is None and (agent.id == MAIN or agent.id.startswith(MAIN + " ")):
            name = MAIN
        else:
            task = agent.spawn.name if agent.spawn is not None and agent.spawn.name else agent.label
            name = readable(task or "") or "sub-agent"
        taken[name] = taken.get(name, 0) + 1
        agent.name = name if taken[name] == 1 else f"{name} ({taken[name]})"
        while agent.name in taken and agent.name != name:  # a task that is itself called "x (2)"
            taken[name] += 1
            agent.name = f"{name} ({taken[name]})"
        taken.setdefault(agent.name, 1)


def readable(text: str) -> str:
    """A wire name made readable: a path's last step (codex's `/root/list_files`), an identifier's underscores as
    spaces ("list files"), one line of at most 80 characters."""
    text = " ".join(text.split())
    if "/" in text and " " not in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    if " " not in text and "_" in text.strip("_"):
        text = text.replace("_", " ").strip()
    return text[:80]


def identify(headers: list[tuple[str, str]], first_session: str) -> tuple[str, str | None]:
    """The agent that sent a request, and its parent (None for a main agent), from the request's headers. The main
    agent of the run's first session is `main`, like a request that names no session (an agent's side requests
    often do not); a main agent of another session is `main <session id>`. Ids are names, bounded (a header of a
    megabyte would be one in every record that names its agent)."""
    session = session_of(headers)
    main = f"{MAIN} {session}" if session and session != first_session else MAIN
    for names in AGENT_HEADERS:
        own = bounded_name(header(headers, names.own))
        if not own or own == session:  # (codex's main thread is named after its session)
            continue
        parent = bounded_name(header(headers, names.parent))
        if parent:
            return own, main if parent == session else parent
        return (own, None) if names.sent_by_main else (own, main)
    return main, None


def session_of(headers: list[tuple[str, str]]) -> str:
    """The session a request names, where its agent names one ("" where not), bounded."""
    return bounded_name(next((header(headers, name) for name in SESSION_HEADERS if header(headers, name)), ""))


def names_sender(headers: list[tuple[str, str]]) -> bool:
    """Whether a request's headers name the agent or the session that sent it: an agent's side requests (a
    connectivity check, telemetry) often name neither, and identify() then counts them to the main agent."""
    return bool(session_of(headers)) or any(header(headers, names.own) for names in AGENT_HEADERS)


def label_in(headers: list[tuple[str, str]]) -> str | None:
    """The name a request gives the agent that sent it, where its headers give one."""
    for name, key in AGENT_NAME_HEADERS:
        value = header(headers, name)
        if value.lstrip().startswith("{") and len(value) < 65536:
            try:
                found = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            if isinstance(found, dict) and isinstance(found.get(key), str) and found[key].strip():
                return found[key].strip()[:200]
    return None


def agent_ids_in(text: str) -> list[str]:
    """The agents a tool result names: in an `agentId: …` line, or as a JSON object's `agent_id` or `task_name`."""
    found = AGENT_ID_IN_TEXT.findall(text[:65536])
    if text.lstrip().startswith("{") and len(text) < 65536:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            found += [value[key] for key in AGENT_ID_KEYS if isinstance(value.get(key), str)]
    return [bounded_name(agent_id) for agent_id in found]  # (as the headers' ids are)


def agent_name(arguments) -> str | None:
    """What a spawning call's arguments say the new agent is for."""
    if isinstance(arguments, dict):
        for key in NAME_ARGUMENTS:
            if isinstance(arguments.get(key), str) and arguments[key].strip():
                return arguments[key].strip()[:80]
    return None


def depths(agents: list[Agent]) -> dict[str, int]:
    """Each agent's depth_of, found once for the tree: a chain of thousands of agents (a hostile capture's) would
    otherwise be walked again for every agent on it."""
    by_id = {agent.id: agent for agent in agents}
    found: dict[str, int] = {}
    for agent in agents:
        path: list[Agent] = []
        on_path: set[str] = set()
        current: Agent | None = agent
        while current is not None and current.id not in found and current.id not in on_path:
            path.append(current)
            on_path.add(current.id)
            current = by_id.get(current.parent) if current.parent is not None else None
        if current is not None and current.id in on_path:  # a loop in hostile headers: each walks it on its own
            for each in path:
                found[each.id] = depth_of(each, by_id)
            continue
        below = -1 if current is None else found[current.id]
        for each in reversed(path):
            below += 1
            found[each.id] = below
    return found


def depth_of(agent: Agent, by_id: dict[str, Agent]) -> int:
    """How many parents up the tree the agent is from a main agent (a loop in hostile headers stops it)."""
    found, seen = 0, {agent.id}
    while agent.parent is not None and agent.parent in by_id and agent.parent not in seen:
        seen.add(agent.parent)
        agent = by_id[agent.parent]
        found += 1
    return found
