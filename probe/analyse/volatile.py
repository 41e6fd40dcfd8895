"""Replaces values that change from run to run without meaning anything (ids, the agent's private home, the run
folder, temp paths, timestamps) by placeholders, and counts them, so that comparing two runs shows what really
changed."""

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from probe.runs.folders import RUN_NAME

# Field names whose values are volatile whatever they hold: ids of sessions, turns, installations, requests.
VOLATILE_NAME = re.compile(
    r"(?i)(^|[_\-.])(id|ids|uuid|session|session_id|installation_id|turn_id|thread_id|"
    r"window_id|request_id|trace_id|span_id|prompt_cache_key|created|created_at|"
    r"create_time|timestamp|expires_at|date|nonce)$|(_id|-id|Id)$"
)
# Headers whose values are minted per connection or request.
VOLATILE_HEADERS = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-accept",
        "date",
        "x-request-id",
        "request-id",
        "x-client-request-id",
        "traceparent",
        "tracestate",
        "content-length",
    }
)

# Paths. A path runs to a space, a quote, a bracket or another character that ends one in prose and code.
PATH_PART = r"[^\s\"'`<>:;,()\[\]{}|*?/]+"
# Where a path may start: not in the middle of a longer path or word, nor right after a placeholder (whose
# own path goes on: `<agent home>/tmp/opencode` is not a temp path).
PATH_START = r"(?<![\w.~/>-])"
# Absolute, or relative from wherever the agent ran (`../../tmp/…`: the depth is the agent's working folder's).
ROOTED = r"(?:/+|(?:\.\./)+)(?:private/)?"  # macOS's /tmp and /var are links into /private; file:///tmp/…
# The agent's private home, as probe.capture.agent_home names it: agent-probe-home-<pid>-<start>-<random>.
HOME_NAME = "agent-probe-home-"
HOME = re.compile(rf"(?:{PATH_START}{ROOTED}(?:{PATH_PART}/)*{PATH_PART[:-1]}*?)?{HOME_NAME}[A-Za-z0-9_-]+")
# The system's temp folders: every path under one is taken whole (which of its parts are random is unknown).
TEMP_FOLDERS = ("tmp", "var/tmp", "var/folders")
TEMP = re.compile(rf"{PATH_START}{ROOTED}(?:{'|'.join(TEMP_FOLDERS)})/{PATH_PART}(?:/{PATH_PART})*/?")

# Dates as agents write them into prompts ("Today's date is Monday, November 23, 2026", "23 Nov 2026", 11/23/2026).
MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"
)
WEEKDAY = r"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b\.?,?\s+)?"
DAY = r"\d{1,2}(?:st|nd|rd|th)?"
PROSE_DATE = rf"\b{WEEKDAY}(?:{MONTH}\s+{DAY},?\s+\d{{4}}|{DAY}\s+{MONTH},?\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{4}})\b"
# How long something took, as tools report it ("Wall time: 0.0113 seconds", "took 12ms"): measured anew each run.
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:seconds?|secs?|s|milliseconds?|ms)\b")
# The same as a field whose name says its unit: a sub-agent's report ends `duration_ms: 1977` in Claude Code.
DURATION_FIELD = re.compile(r"\b(\w+_(?:seconds|secs|ms|s)[\"']?\s?[:=]\s?)\d+(?:\.\d+)?\b")
PLAIN_KEY = re.compile(r"[A-Za-z_.-]{1,40}")  # a field name (no digit, no slash) that no pattern can match
PATTERNS = [
    ("loopback", re.compile(r"\b(?:127\.0\.0\.1|localhost|\[::1\]):\d+")),  # the proxies' ports differ each run
    ("uuid", re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")),
    # Ids with a kind prefix, as APIs and agents mint them: resp_…, msg_…, call_…, toolu_…, req_…
    ("id", re.compile(r"\b[a-z]{2,10}_(?=[A-Za-z-]*\d)[A-Za-z0-9-]{8,}\b")),
    ("hex", re.compile(r"\b[0-9a-fA-F]{16,}\b")),
    ("date", re.compile(PROSE_DATE)),
    ("time", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b")),
    # Process ids, as a tool reports the process it ran ("Process Group PGID: 12517", "pid=4242").
    ("pid", re.compile(r"(?i)(?:(?<=\bpid: )|(?<=\bpgid: )|(?<=\bpid=)|(?<=\bpgid=)|(?<=\bpid ))\d+\b")),
    ("epoch", re.compile(r"\b1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?\b")),  # seconds (or ms) since 1970, 2017 to 2033
    # The kernel's release, as agents tell the model the OS ("OS Version: Linux 6.18.44-fc-v669"): it is the
    # machine's, and one machine's differs from another's build by build.
    ("kernel", re.compile(r"(?:(?<=\bLinux )|(?<=\bDarwin ))\d+\.\d+(?:\.\d+)?(?:[-+~][\w.+~-]*)?")),
]


def durations_out(text: str) -> str:
    """The text with the durations it reports, measured anew each run, as `<duration>`."""
    return DURATION_FIELD.sub(r"\1<duration>", DURATION.sub("<duration>", text))


class Place:
    """A folder of one run, replaced wherever it appears, absolute or relative, by a placeholder; what follows
    it in a path is kept (`<agent home>/.qwen/settings.json`), or, for a temp folder, taken with it."""

    def __init__(self, path: str, placeholder: str, whole: bool = False) -> None:
        self.core = path.removeprefix("/private/").lstrip("/")  # as it appears after `/` or `../`
        self.placeholder = placeholder
        rest = rf"(?:/{PATH_PART})+/?" if whole else r"(?![A-Za-z0-9_-])"
        self.pattern = re.compile(rf"{PATH_START}{ROOTED}{re.escape(self.core)}{rest}")
        self.needles = (self.core,)  # what a text holds if the pattern can match in it


def run_places(run: Path, manifest: Any) -> list[Place]:
    """The folders one run owned, from its manifest: the agent's home and the run folder (where the agent was
    told to keep state, in `agent.env`: HOME, XDG_*, TMPDIR, CODEX_HOME, CLAUDE_CONFIG_DIR…), the run folder as
    it is now, and the temp folders named by TMPDIR (the run's and this process's)."""
    agent = manifest.get("agent") if isinstance(manifest, dict) else None
    env = agent.get("env") if isinstance(agent, dict) else None
    values = [value for value in (env or {}).values() if isinstance(value, str) and value.startswith("/")]
    homes, runs, temps = set(), {str(run.resolve())}, set()
    for value in values:
        parts = value.rstrip("/").split("/")
        for index, part in enumerate(parts):
            if part.startswith(HOME_NAME):
                homes.add("/".join(parts[: index + 1]))
                break
            if part == run.name or RUN_NAME.match(part):
                runs.add("/".join(parts[: index + 1]))
                break
    temps |= {value for name, value in (env or {}).items() if name in ("TMPDIR", "TMP", "TEMP") and value in values}
    temps |= {os.environ.get("TMPDIR", ""), tempfile.gettempdir()}
    places = [Place(path, "<agent home>") for path in homes] + [Place(path, "<run>") for path in runs]
    workdir = recorded_workdir(manifest)
    places += [workdir_place(workdir)] if workdir and workdir.strip("/") else []
    installed = agents_folder(manifest)
    places += [folder_place(installed, "<agents>")] if installed else []
    owned = homes | runs
    places += [
        Place(path, "<temp>", whole=True)
        for path in temps
        if temp_root(path) and not any(within(path, folder) for folder in owned)  # TMPDIR={agent_home}/tmp
    ]
    # The longest first: a home inside a temp folder, a run folder inside the working folder.
    return sorted(places, key=lambda place: -len(place.core))


def folder_place(folder: str, placeholder: str) -> Place:
    """A folder named in full, found after a tag's `>` too (`<cwd>/work/project</cwd>`, `<location>…`), which a
    path found by its shape alone is not (a placeholder's own path: `<agent home>/tmp/…`)."""
    place = Place(folder, placeholder)
    place.pattern = re.compile(rf"(?<![\w.~/-]){ROOTED}{re.escape(place.core)}(?![A-Za-z0-9_-])")
    return place


def workdir_place(folder: str) -> Place:
    """The folder the agent ran in (codex tells the model its cwd): runs made in different folders compare it as
    one."""
    place = folder_place(folder, "<workdir>")
    # As agents make a file name of it, every other character a dash: Claude Code keeps a folder's memory in
    # `projects/-tmp-agent-probe-workdir-1-2-x-workdir/`.
    dashed = re.sub(r"[^A-Za-z0-9]", "-", folder)
    place.pattern = re.compile(f"{place.pattern.pattern}|(?<![A-Za-z0-9-]){re.escape(dashed)}(?![A-Za-z0-9])")
    place.needles = (place.core, dashed)
    return place


def agents_folder(manifest: Any) -> str | None:
    """Where the project installed its agents (`<project>/.agents`, from the agent's program in argv[0]): an agent
    may name files of its own installation to the model (gemini-cli its bundled skills), and the project sits in
    another folder on each machine."""
    program = agent_program(manifest)
    return program.split("/.agents/", 1)[0] + "/.agents" if program.startswith("/") and "/.agents/" in program else None


def agent_program(manifest: Any) -> str:
    agent = manifest.get("agent") if isinstance(manifest, dict) else None
    argv = agent.get("argv") if isinstance(agent, dict) and isinstance(agent.get("argv"), list) else []
    return argv[0] if argv and isinstance(argv[0], str) else ""


def recorded_workdir(manifest: Any) -> str | None:
    """Where the recorded agent ran: the manifest says so since it records `agent.cwd`; before, the project's
    folder was where its agents were installed (`<project>/.agents/…` in argv[0])."""
    agent = manifest.get("agent") if isinstance(manifest, dict) else None
    agent = agent if isinstance(agent, dict) else {}
    if isinstance(agent.get("cwd"), str) and agent["cwd"].startswith("/"):
        return agent["cwd"]
    installed = agents_folder(manifest)
    return installed.removesuffix("/.agents") if installed else None


def temp_root(path: str) -> bool:
    """Whether a folder named as a temp folder is one that the patterns do not know already, and can be taken
    as one: not the root, nor a folder that holds the user's home or the working folder (TMPDIR=$HOME would
    make every path there volatile)."""
    if not path.startswith("/") or not path.strip("/") or TEMP.fullmatch(path + "/x"):
        return False
    return not any(within(str(other), path) for other in (Path.home(), Path.cwd()))


def within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class Volatile:
    """Normalises text and JSON values, counting what it replaced. `places` are the folders of the run whose
    values these are (see run_places); without them, the agent's home and temp paths are still found by name."""

    def __init__(self, places: list[Place] | None = None) -> None:
        self.count = 0
        self.places = places or []

    def text(self, value: str) -> str:
        for place in self.places:
            if any(needle in value for needle in place.needles):
                value = self.replace(place.pattern, place.placeholder, value)
        if HOME_NAME in value:
            value = self.replace(HOME, "<agent home>", value)
        if "tmp/" in value or "var/folders/" in value:
            value = self.replace(TEMP, "<temp>", value)
        for name, pattern in PATTERNS:
            value = self.replace(pattern, f"<{name}>", value)
        return value

    def replace(self, pattern: re.Pattern, placeholder: str, value: str) -> str:
        value, found = pattern.subn(placeholder, value)
        self.count += found
        return value

    def header(self, name: str, value: str) -> str:
        if name.lower() in VOLATILE_HEADERS:
            self.count += 1
            return "<volatile>"
        return self.text(value)

    def key(self, key: Any) -> Any:
        return self.text(key) if isinstance(key, str) and not PLAIN_KEY.fullmatch(key) else key

    def value(self, value: Any, name: str = "", depth: int = 0) -> Any:
        """A JSON value with volatile strings replaced, and any value under a volatile field name."""
        if name and VOLATILE_NAME.search(name) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            self.count += 1
            return "<volatile>"
        if depth > 20:
            return value
        if isinstance(value, dict):  # keys too: a folder may be one (codex's workspaces are keyed by path)
            return {self.key(key): self.value(item, str(key), depth + 1) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, name, depth + 1) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value
