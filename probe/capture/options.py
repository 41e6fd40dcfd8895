"""The command-line options of the recording commands: `capture` and `pipeline` (an agent run) and `proxies`."""

import argparse
import sys
from pathlib import Path

from probe.capture.upstreams import is_local
from probe.common import cli
from probe.common.errors import UsageError
from probe.common.paths import checkout


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `capture` and `pipeline` share."""
    add_target_and_upstream_arguments(parser)
    # Neither: the agent's own interactive UI, in this terminal.
    parser.add_argument(
        "--prompt",
        type=cli.not_empty,
        metavar="TEXT",
        help="the prompt given to the target's agent command, or to --command where it writes {prompt} (without "
        "either: the agent's own interactive session, in this terminal)",
    )
    parser.add_argument(
        "--command",
        type=cli.not_empty,
        metavar="SHELL-COMMAND",
        help="run this shell command instead of the target's agent, with the target's private home unless --home "
        "own; {prompt} in it is --prompt, shell-quoted",
    )
    parser.add_argument(
        "--login",
        metavar="NAME",
        help="the target's login the agent signs in with (agent.logins in its target file; default: the first one "
        "listed); against the mock, that login's stand-in credentials",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN",
        help="go on with the agent's session kept with this run (`latest`, a run folder name or a run folder) in a "
        "new run: its agent gets a copy of that run's state, which stays as it was (agent.resume in the target file)",
    )
    parser.add_argument("--label", default="", metavar="TEXT", help="added to the run folder's name")
    parser.add_argument(
        "--scenario",
        type=cli.scenario_name,
        metavar="NAME",
        help="the release scenario this run plays (recorded as the manifest's `scenario`; see docs/releases.md)",
    )
    parser.add_argument(
        "--timeout", type=cli.seconds, default=None, metavar="SECONDS", help="stop the agent after this many seconds"
    )
    parser.add_argument(
        "--full-traffic",
        action="store_true",
        help="leave out the target's quiet_env, so the agent also makes its optional calls (telemetry, update checks)",
    )
    parser.add_argument(
        "--agent-version",
        type=cli.agent_version,
        metavar="X.Y.Z",
        help="run this version of the target's npm package (or PyPI distribution), installed into "
        ".agents/<package>@<version>/ if needed, instead of the agent on PATH",
    )
    parser.add_argument(
        "--workdir",
        type=cli.workdir,
        metavar="FOLDER|fresh",
        help="run the agent in this folder (`.`: the current one); `fresh`, the default with --prompt: a new empty "
        "folder outside any git repository, removed after the run, so that the agent sees the same surroundings "
        "every run and never this one's files (a --command runs in the current folder unless told otherwise; an "
        "interactive session too, unless that is agent-probe's own checkout)",
    )
    parser.add_argument(
        "--home",
        choices=HOMES,
        metavar="own|private",
        help="own: the agent runs with your own settings, memory files and login, redirected only by environment "
        "variables and command-line options; private: a new, empty home of the run's own, prepared by the target "
        "(default: own for an interactive session with a real API, private otherwise)",
    )
    parser.add_argument(
        "--feed",
        metavar="FILE",
        help="write the live feed (a line per exchange) to this file instead of stderr (an interactive session's "
        "default: live-feed.txt in the run folder, so that it does not draw over the agent's screen)",
    )
    parser.add_argument(
        "--agent-telemetry",
        action=cli.OneWay,
        help=f"point the agent's own telemetry at a receiver on 127.0.0.1 and keep it as telemetry.jsonl (default: "
        f"{TELEMETRY_DEFAULT}; see docs/capture.md)",
    )
    add_mcp_arguments(parser)
    parser.add_argument(
        "--hooks",
        action=cli.OneWay,
        help="add a recorder of the run's to the agent's own hook events (Claude Code's) and keep them as hooks.jsonl "
        "(default: with the agent's telemetry; see docs/hooks.md)",
    )
    add_recording_arguments(parser)


def add_mcp_arguments(parser: argparse.ArgumentParser) -> None:
    """The MCP servers the run gives its agent, each recorded into mcp.jsonl (see docs/mcp.md)."""
    parser.add_argument(
        "--mcp-server",
        action="append",
        default=[],
        metavar="NAME=COMMAND|URL",
        help="give the agent this MCP server, a command line (split as a shell splits it) or an http(s) URL, "
        "recorded into mcp.jsonl; repeatable",
    )
    parser.add_argument(
        "--mcp-config",
        action="append",
        default=[],
        metavar="FILE",
        help='give the agent the MCP servers of this {"mcpServers": {...}} JSON file, recorded; repeatable',
    )
    parser.add_argument(
        "--no-mcp",
        action="store_true",
        help="with --home own, leave the MCP servers of your own configuration to the agent, unrecorded (by "
        "default they are given to it for the run through its command line, each recorded)",
    )


def proxies_arguments(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """The options of `proxies`, parsed."""
    parser = cli.ArgumentParser(prog="python -m probe.record proxies", description=description)
    add_target_and_upstream_arguments(parser)
    parser.add_argument("--run", metavar="FOLDER", help="run folder to record into (default: a new one under data/)")
    add_recording_arguments(parser)
    return parser.parse_args(argv)


def add_target_and_upstream_arguments(parser: argparse.ArgumentParser) -> None:
    """Which target, where its proxies send the traffic, and on which ports they listen."""
    parser.add_argument(
        "--target", required=True, metavar="NAME|FILE", help="target name (targets/NAME.yaml) or path to a target file"
    )
    parser.add_argument(
        "--upstream", metavar="URL|mock", help="send every proxy to this URL instead, or `mock` for the bundled mock"
    )
    parser.add_argument(
        "--mock-transport",
        choices=["websocket", "http"],
        metavar="websocket|http",
        help="with --upstream mock: `http` refuses WebSockets so agents use POST + SSE (default: websocket)",
    )
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="listen port for one proxy (0 = any free port); repeatable",
    )


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """How the recording treats secrets, reaches the upstreams and shows its progress."""
    parser.add_argument("--keep-secrets", action="store_true", help="store secret headers unredacted")
    parser.add_argument(
        "--all-hosts",
        action="store_true",
        help="also record every other host the agent talks to (telemetry, update checks, web fetches), through a "
        "forward proxy on 127.0.0.1 and a certificate authority made for this run (see docs/capture.md)",
    )
    parser.add_argument(
        "--upstream-proxy",
        metavar="URL|none",
        help="reach upstreams through this HTTP proxy (http://[user:pass@]host:port); default: the "
        "target's upstream_proxy, else HTTPS_PROXY; `none` connects directly",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print no line per finished exchange on stderr while recording (the live feed)",
    )


HOMES = ("own", "private")
TELEMETRY_DEFAULT = (
    "on with a private home against the mock or in an interactive session, unless it changes what the agent sends"
    " (codex's); else off"
)


def telemetry_of(args: argparse.Namespace, stand_in: bool = False) -> bool | None:
    """--agent-telemetry (True) or --no-agent-telemetry (False), else the default: None where it is on by default,
    unless the target says it changes what its agent sends (probe.capture.account.telemetry.plan_telemetry): where
    it costs a run nothing that shows (measured: within the noise of a mock run) and is the run the user reads,
    against a stand-in model or in the session they type into; off (False) for a prompt run against a real API,
    which the user's own set-up may already watch."""
    if getattr(args, "agent_telemetry", None) is not None:
        return bool(args.agent_telemetry)
    return None if args.upstream == "mock" or stand_in or session_of(args) == "interactive" else False


def parse_capture_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options of `capture` or `pipeline`, parsed, with those after a standalone `--` as `agent_args`: they go
    to the agent's command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.agent_args = argv[cut + 1 :]
    return args


def session_of(args: argparse.Namespace) -> str:
    """What the run is: a --command (given a prompt or not), a prompt given to the target's agent, or the agent's
    interactive session."""
    if args.command is not None:
        return "command"
    return "prompt" if args.prompt is not None else "interactive"


def home_of(args: argparse.Namespace, stand_in: bool = False, real_api_home: str = "private") -> str:
    """--home, else own for an interactive session with a real model behind it (the session the user really runs),
    else the target's `real_api_home` for other runs with the real API (not a server on this machine), else
    private: a prompt run is a lab run, and a stand-in model (the mock, a replay) would only show the user's own
    login and settings the screens they were made for."""
    if args.home is not None:
        return args.home
    if args.upstream == "mock" or stand_in:
        return "private"
    if session_of(args) == "interactive":
        return "own"
    if session_of(args) == "command":
        return "private"  # a client given to record keeps its state out of the user's home unless told otherwise
    # A server on this machine (a test server, a local gateway) is the lab's, as before the target's own API.
    return "private" if is_local(args.upstream) else real_api_home


def workdir_of(args: argparse.Namespace) -> str | None:
    """Where the agent runs: the folder --workdir names; without it, a prompt's agent gets a fresh empty folder of
    its run's own, since the folder a recording command is started from is usually this project's checkout, whose
    files and git status the agent would read into its context (and a replay, run in a fresh folder, would then
    differ at its first request); anything else (a --command) runs where it was started, as its relative paths
    expect (None)."""
    if args.workdir is not None:
        return args.workdir
    if session_of(args) == "prompt":
        return cli.FRESH
    if session_of(args) == "interactive" and inside_checkout(Path.cwd()):
        return cli.FRESH  # an agent never works on agent-probe's own files unless told to (--workdir .)
    return None


def inside_checkout(folder: Path) -> bool:
    """Whether `folder` is agent-probe's own checkout, or inside it (an installed package has none)."""
    root = checkout()
    return root is not None and (folder.resolve() == root.resolve() or root.resolve() in folder.resolve().parents)


def mock_transport_of(args: argparse.Namespace) -> str:
    """--mock-transport only says how the bundled mock talks: given without the mock, it would be ignored."""
    if args.mock_transport is not None and args.upstream != "mock":
        raise UsageError(f"--mock-transport {args.mock_transport} goes with --upstream mock (the bundled mock)")
    return args.mock_transport or "websocket"
