"""Loads and strictly validates `targets/<name>.yaml`, the description of one agent."""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from probe.common import cli
from probe.common.bounded_read import read_at_most
from probe.common.errors import TargetError, one_line, run_main
from probe.common.forward import ALL_HOSTS
from probe.common.paths import TARGET_NAME, display, targets_dir
from probe.runs import target_holds
from probe.runs.auto_approve import AutoApprove, parse_auto_approve
from probe.runs.importer import RENDERER_REFERENCE
from probe.runs.install import Install, parse_install
from probe.runs.login_needs import Requirement, parse_requires
from probe.runs.logins import Login, parse_logins
from probe.runs.mcp_switch import McpSwitch, parse_mcp
from probe.runs.placeholders import PLACEHOLDER, fill_placeholders
from probe.runs.resumable import Resume, parse_resume, resumed_places
from probe.runs.target_checks import Checker, agent_files, nul_location
from probe.runs.telemetry_switch import HooksSwitch, TelemetrySwitch, parse_hooks, parse_telemetry
from probe.runs.transcripts import Transcript, parse_transcript
from probe.runs.upstream_urls import upstream_problem

__all__ = ["Install", "Login", "fill_placeholders", "upstream_problem"]  # here too for the callers that read a target
PROXY_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
MAX_TARGET_FILE = 1_000_000  # bytes: a target file is a page of YAML; more is a mistake, or an attack
# What mitmproxy's reverse mode can forward to: a scheme, a host and perhaps a port. A path, a query or a
# user:password would be dropped by it, and would put what may be a secret into its command line.
# An environment variable's name as a shell writes it, and an HTTP header's name (RFC 9110's token).
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class Proxy:
    name: str
    listen: int  # where `proxies` listens (a run takes a free port unless --port fixes one); 0 picks a free port
    upstream: str
    purpose: str = ""


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    renderer: str
    proxies: tuple[Proxy, ...]
    command: tuple[str, ...]
    # The agent's own interactive UI, run in the user's terminal when a run is given no prompt.
    interactive: tuple[str, ...] = ()
    # Variables taken out of the user's environment for that session: ones that tell the agent no one is at the
    # terminal (CI=true makes gemini-cli run headless and exit 42 for want of a prompt on stdin).
    interactive_unset: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Set only with a private home (--home private): what points the agent at a state folder of its own.
    private_env: dict[str, str] = field(default_factory=dict)
    # The home a prompt or command run against the real API gets without --home: an agent whose login lives only in
    # its own home (codex's ChatGPT login) says own; an interactive session with the real API always defaults to own.
    real_api_home: str = "private"
    trust_exit_code: int | None = None  # the agent's exit code when it stops at its folder-trust check, if it has one
    mock_env: dict[str, str] = field(default_factory=dict)  # only set when the upstream is our mock
    mock_finish_command: str | None = None  # given to the mock (--finish-command) when it is the upstream
    quiet_env: dict[str, str] = field(default_factory=dict)  # set unless the user asks for --full-traffic
    all_hosts_env: dict[str, str] = field(default_factory=dict)  # set only with --all-hosts, last of all
    redact_headers: tuple[str, ...] = ()
    install: Install | None = None
    # Written into {agent_home} (or, for a path starting `{run}/`, the run folder) before the agent starts with a
    # private home (its settings): relative path -> text; a path ending in "/" is a folder.
    files: dict[str, str] = field(default_factory=dict)
    mock_files: dict[str, str] = field(default_factory=dict)  # as files, written only when the mock is the upstream
    # The ways the agent can sign in (agent.logins), the first the default; `login` is the one a run chose
    # (probe.runs.logins.choose_login), its mappings then already laid over the agent's.
    logins: tuple[Login, ...] = ()
    login: Login | None = None
    requires: tuple[Requirement, ...] = ()  # what the agent needs to sign in, without a login of its own
    upstream_proxy: str | None = None  # an HTTP proxy to reach the upstreams through
    stall_timeout: float = 300.0  # seconds of upstream silence before an exchange is cut off; 0: never
    auto_approve: AutoApprove | None = None  # None: the agent asks before its tools (or refuses them), as run here
    resume: Resume | None = None  # None: a run of it cannot be resumed (--resume)
    transcript: Transcript | None = None  # None: its agent keeps no session file the run reads
    telemetry: TelemetrySwitch | None = None  # None: its file says nothing of the agent's own telemetry
    mcp: McpSwitch | None = None  # None: its file says nothing of how its agent is given MCP servers
    hooks: HooksSwitch | None = None  # None: the run cannot add hooks to its agent (--hooks)
    path: Path | None = None
    text: str | None = field(default=None, repr=False, compare=False)  # the file as written, for the manifest


# key -> (expected type name, required)
TOP_LEVEL = {
    "name": ("string", True),
    "description": ("string", True),
    "renderer": ("string", True),
    "proxies": ("list", True),
    "agent": ("mapping", True),
    "redact_headers": ("list of strings", False),
    "upstream_proxy": ("string", False),
    "stall_timeout": ("non-negative number", False),
}
PROXY_KEYS = {
    "name": ("string", True),
    "listen": ("integer", True),
    "upstream": ("string", True),
    "purpose": ("string", False),
}
AGENT_KEYS = {
    # Without one, the target records whatever client --command runs (openai-compatible, say).
    "command": ("list of strings", False),
    # The agent's interactive UI (a run given no prompt), placeholders as in command.
    "interactive": ("list of strings", False),
    # Variables of the user's environment left out of an interactive session (gemini-cli goes headless with CI=true).
    "interactive_unset": ("list of strings", False),
    "env": ("string mapping", False),
    # Only with a private home: the variables that give the agent its own state folder (HOME, CLAUDE_CONFIG_DIR).
    "private_env": ("string mapping", False),
    "real_api_home": ("string", False),  # own or private: see Target.real_api_home
    "trust_exit_code": ("integer", False),  # see Target.trust_exit_code
    "mock_env": ("string mapping", False),
    # The command that tells the agent its task is done, which the mock runs with its shell-like tool after a
    # tool's result (python -m probe.mock --finish-command): for agents that must call a tool every turn.
    "mock_finish_command": ("string", False),
    "quiet_env": ("string mapping", False),
    # With --all-hosts: what the agent needs beyond the usual proxy and CA variables ({ca}, {forward} filled).
    "all_hosts_env": ("string mapping", False),
    "install": ("mapping", False),
    "files": ("mapping", False),
    "mock_files": ("mapping", False),  # as files, written into the private home only against the mock
    "logins": ("mapping", False),  # probe.runs.logins
    "requires": ("list", False),  # probe.runs.login_needs
    "auto_approve": ("mapping", False),  # probe.runs.auto_approve
    "resume": ("mapping", False),  # probe.runs.resumable
    "transcript": ("mapping", False),  # probe.runs.transcripts
    "telemetry": ("mapping", False),  # probe.runs.telemetry_switch (--agent-telemetry)
    "mcp": ("mapping", False),  # probe.runs.mcp_switch (--mcp-server, --mcp-config, --home own)
    "hooks": ("mapping", False),  # probe.runs.telemetry_switch (--hooks)
}
ENVIRONMENTS = ("env", "private_env", "mock_env", "quiet_env", "all_hosts_env")

# libyaml where PyYAML has it: it stops a file nested 20,000 deep at once, where the pure-Python scanner, slower at
# each level, took 12 s to reach Python's recursion limit.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_target(text: str, source: str, path: Path | None = None) -> Target:
    check = Checker(source)
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        if "nesting depth" in problem:  # libyaml's limit, as the RecursionError below is Python's
            raise check.fail("", "invalid YAML: nested too deeply") from None
        raise check.fail(where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise check.fail("", "invalid YAML: nested too deeply") from None
    check.mapping(data, TOP_LEVEL, "")
    if not TARGET_NAME.match(data["name"]):
        raise check.fail(
            "name",
            "expected lowercase letters, digits, '.', '_' or '-', starting with a letter or "
            "digit (it names the run folder's parent under data/)",
        )
    if not RENDERER_REFERENCE.match(data["renderer"]):
        raise check.fail("renderer", 'expected a module path, "package.module" or "package.module:attribute"')
    proxies = []
    for index, entry in enumerate(data["proxies"]):
        where = f"proxies[{index}]"
        check.mapping(entry, PROXY_KEYS, where)
        if not PROXY_NAME.match(entry["name"]):
            raise check.fail(f"{where}.name", "expected lowercase letters, digits, - or _")
        if entry["name"] == ALL_HOSTS:
            raise check.fail(f"{where}.name", f"{ALL_HOSTS} is the name of the forward proxy of --all-hosts")
        if not 0 <= entry["listen"] <= 65535:
            raise check.fail(f"{where}.listen", "expected a port number between 0 and 65535")
        problem = upstream_problem(entry["upstream"])
        if problem:
            raise check.fail(f"{where}.upstream", problem)
        proxies.append(Proxy(entry["name"], entry["listen"], entry["upstream"], entry.get("purpose", "")))
    if not proxies:
        raise check.fail("proxies", "expected at least one proxy")
    names = [proxy.name for proxy in proxies]
    if len(set(names)) != len(names):
        raise check.fail("proxies", "proxy names must be unique")
    agent = check.mapping(data["agent"], AGENT_KEYS, "agent")
    if "command" in agent and not agent["command"]:
        raise check.fail("agent.command", "expected at least the program name (or no command key at all)")
    if agent.get("real_api_home", "private") not in ("own", "private"):
        raise check.fail("agent.real_api_home", "expected own or private")
    if "interactive" in agent and not agent["interactive"]:
        raise check.fail("agent.interactive", "expected at least the program name (or no interactive key at all)")
    if "interactive" in agent and "command" not in agent:
        raise check.fail("agent.interactive", "goes with agent.command, whose program it runs")
    if "interactive_unset" in agent and "interactive" not in agent:
        raise check.fail("agent.interactive_unset", "goes with agent.interactive, whose session it applies to")
    for name in agent.get("interactive_unset", []):
        if not ENV_NAME.match(name):
            raise check.fail("agent.interactive_unset", f"{name!r}: expected a variable name (letters, digits, _)")
    if "command" not in agent and "install" in agent:
        raise check.fail("agent.install", "there is no agent.command to install a program for")
    files = agent_files(agent.get("files", {}), check)
    mock_files = agent_files(agent.get("mock_files", {}), check, "agent.mock_files")
    logins = parse_logins(agent["logins"], names, check, agent_files) if "logins" in agent else ()
    auto = parse_auto_approve(agent["auto_approve"], agent.get("command"), check) if "auto_approve" in agent else None
    variables = [(f"agent.{kind}", agent.get(kind, {})) for kind in ENVIRONMENTS]
    variables += [("agent.auto_approve.approvals_env", auto.approvals_env if auto else {})]
    places = [
        (f"agent.{key}[{index}]", argument)
        for key in ("command", "interactive")
        for index, argument in enumerate(agent.get(key, []))
    ]
    resume = parse_resume(agent["resume"], agent.get("command"), check) if "resume" in agent else None
    places += resumed_places(agent.get("resume", {}))
    written_files = [("agent.files", files), ("agent.mock_files", mock_files)]
    telemetry = parse_telemetry(agent["telemetry"], check, agent_files) if "telemetry" in agent else None
    variables += [("agent.telemetry.env", telemetry.env if telemetry else {})]
    places += [("agent.telemetry.arguments", text) for text in (telemetry.arguments if telemetry else ())]
    for login in logins:
        variables += [(f"{login.where()}.{kind}", getattr(login, kind)) for kind in ENVIRONMENTS]
        written_files += [(f"{login.where()}.{kind}", getattr(login, kind)) for kind in ("files", "mock_files")]
        places += [(f"{login.where()}.arguments[{index}]", text) for index, text in enumerate(login.arguments)]
    places += [(f"{kind}.{name}", value) for kind, values in variables for name, value in values.items()]
    places += [(f"{kind}.{name}", text) for kind, got in written_files for name, text in got.items()]
    for where, written in places:
        for match in PLACEHOLDER.finditer(written):
            placeholder = match.group(1)
            if placeholder.startswith("proxy.") and placeholder[6:] not in names:
                raise check.fail(where, f"{{{placeholder}}} names no proxy of this target")
    for kind, values in variables:
        for name in values:
            if not ENV_NAME.match(name):
                raise check.fail(kind, f"{name!r}: expected a variable name (letters, digits, _)")
    for index, header in enumerate(data.get("redact_headers", [])):
        if not HEADER_NAME.match(header):
            raise check.fail(f"redact_headers[{index}]", f"{header!r}: expected a header name")
    nul = nul_location(data, "")
    if nul is not None:  # no NUL can be passed to a process, in its argv or its environment
        raise check.fail(nul, "cannot hold a NUL character")
    if "upstream_proxy" in data:
        problem = upstream_problem(data["upstream_proxy"], proxy=True)
        if problem:
            raise check.fail("upstream_proxy", problem)
    if data.get("stall_timeout", 0) == float("inf"):
        raise check.fail("stall_timeout", "expected a number of seconds (0 turns the check off)")
    return Target(
        name=data["name"],
        description=data["description"],
        renderer=data["renderer"],
        proxies=tuple(proxies),
        command=tuple(agent.get("command", ())),
        interactive=tuple(agent.get("interactive", ())),
        interactive_unset=tuple(agent.get("interactive_unset", ())),
        env=dict(agent.get("env", {})),
        private_env=dict(agent.get("private_env", {})),
        real_api_home=agent.get("real_api_home", "private"),
        trust_exit_code=agent.get("trust_exit_code"),
        mock_env=dict(agent.get("mock_env", {})),
        mock_finish_command=agent.get("mock_finish_command"),
        quiet_env=dict(agent.get("quiet_env", {})),
        all_hosts_env=dict(agent.get("all_hosts_env", {})),
        redact_headers=tuple(header.lower() for header in data.get("redact_headers", [])),
        install=parse_install(agent["install"], check) if "install" in agent else None,
        files=files,
        mock_files=mock_files,
        logins=logins,
        requires=parse_requires(agent["requires"], check, "agent.requires") if "requires" in agent else (),
        upstream_proxy=data.get("upstream_proxy"),
        stall_timeout=float(data.get("stall_timeout", 300)),
        auto_approve=auto,
        resume=resume,
        transcript=parse_transcript(agent["transcript"], check) if "transcript" in agent else None,
        telemetry=telemetry,
        mcp=parse_mcp(agent["mcp"], check) if "mcp" in agent else None,
        hooks=parse_hooks(agent["hooks"], check) if "hooks" in agent else None,
        path=path,
        text=text,
    )


def known_targets() -> list[str]:
    return sorted(path.stem for path in targets_dir().glob("*.yaml") if TARGET_NAME.match(path.stem))


def is_target_path(name_or_path: str) -> bool:
    return Path(name_or_path).suffix in (".yaml", ".yml")


def target_file(name: str) -> Path:
    """The file of a target named `name` in targets/; the name is checked first, so it cannot reach elsewhere."""
    if not TARGET_NAME.match(name):
        raise TargetError(
            f"target name {name!r}: expected lowercase letters, digits, '.', '_' or '-' (or the path of a .yaml file)"
        )
    path = targets_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(known_targets()) or "none"
        raise TargetError(f'unknown target "{name}" (known targets: {known})')
    return path


def named_by_data(named: object) -> str | None:
    """The target a run's data (its manifest) names, if it is the name of one in targets/; None for anything else.
    Data names a target by name only, never by a file's path, whatever it says: a run folder comes from anyone."""
    return named if isinstance(named, str) and not is_target_path(named) and named in known_targets() else None


def load_target(name_or_path: str) -> Target:
    """Load a target by name (`codex`, looked up in targets/) or by the path of its YAML file."""
    if is_target_path(name_or_path):
        path = Path(name_or_path)
        if not path.exists():
            raise TargetError(f"{name_or_path}: no such target file")
        if not path.is_file():
            raise TargetError(f"{name_or_path}: not a regular file")
    else:
        path = target_file(name_or_path)
    return parse_target(read_target_file(path), display(path), path)


def read_target_file(path: Path) -> str:
    """The file's text, read no further than the size limit (a FIFO or a huge file must not hold us up)."""
    try:
        data = read_at_most(path, MAX_TARGET_FILE)
    except OSError as error:
        raise TargetError(f"{display(path)}: cannot read: {error.strerror}") from None
    if data is None:
        raise TargetError(f"{display(path)}: over the {MAX_TARGET_FILE:,}-byte limit for a target file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TargetError(f"{display(path)}: not UTF-8 text") from None


def describe(target: Target) -> list[str]:
    """What `invoke targets` prints for one target: each line shown inert, since a target file may come from anyone."""
    lines = [f"{target.name}: {target.description}", f"  renderer: {target.renderer}"]
    for proxy in target.proxies:
        port = proxy.listen or "any free port"
        purpose = f"  ({proxy.purpose})" if proxy.purpose else ""
        lines.append(f"  proxy {proxy.name}: 127.0.0.1:{port} -> {proxy.upstream}{purpose}")
    if not target.command:
        lines.append("  agent: none: give the client to record with --command")
    elif target.install:
        install = target.install
        python = f", Python {install.python} or newer" if install.python else ""
        lines.append(f"  agent: {target.command[0]} ({install.registry} {install.package}@{install.version}{python})")
    else:
        lines.append(f"  agent: {target.command[0]}")
    auto = target.auto_approve
    if auto is not None:
        lines[-1] += f"; a prompt run runs its tools without asking ({auto.said()})"
    if target.interactive:
        lines.append(f"  interactive session: {' '.join(target.interactive)} (a run given no --prompt)")
        if auto is not None:  # a target without auto_approve asks before its tools, or refuses them, in both
            lines[-1] += "; its UI runs its tools without asking too" if auto.interactive else "; its UI asks first"
    for position, login in enumerate(target.logins):
        default = " (the default)" if position == 0 else ""
        lines.append(f"  login {login.name}{default}: {login.description}")
        if login.needs:
            lines.append(f"    needs: {login.needs}")
        lines.append(f"    proxies: {', '.join(login.proxies) or 'as the target'}")
    lines += target_holds.holds_lines(target)
    return [one_line(line) for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m probe.runs.targets", description="List the known targets: description, renderer and proxies."
    )
    parser.parse_args(argv)
    names = known_targets()
    if not names:
        print(f"no targets in {display(targets_dir())}")
        return 0
    broken = 0
    for position, name in enumerate(names):
        if position:
            print()
        try:
            print("\n".join(describe(load_target(name))))
        except TargetError as error:
            print(one_line(f"{name}: not usable: {error}"))  # one broken file must not hide the others
            broken += 1
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
