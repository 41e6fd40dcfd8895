"""Replays a recorded run: its agent runs through the proxies as in `pipeline`, against a stand-in upstream that
answers each request with the recorded answer it matches; the new run's manifest says whether every request
matched, or at which one the agent diverged (`python -m probe.replay.run --run RUN`, `invoke replay`). The agent
carries out the recorded tool calls: a run from elsewhere, or one of an agent that auto-approves its tools, needs
--trust or --approvals (probe.replay.trust). The recording's own account, where it kept one, is carried into the new
run's recorded-account/ beside the replay's own (probe.runs.recorded_account)."""

import json
import queue
import shlex
import subprocess
import sys
import threading
from pathlib import Path

from probe.analyse.volatile import recorded_workdir
from probe.analysis.report import analyze_run
from probe.capture import agent_home, agents, processes
from probe.capture.options import add_capture_arguments, parse_capture_arguments
from probe.capture.processes import StopSignals
from probe.capture.run import capture_from_arguments
from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import RunError, UsageError, one_line, run_main, warn
from probe.common.paths import display
from probe.replay.fork import (
    Fork,
    add_fork_arguments,
    check_fork_arguments,
    masked_exchanges,
    origin,
    recorded_websocket,
    verify,
)
from probe.replay.mcp_outcome import mcp_outcome
from probe.replay.mcp_servers import McpStandIns, recorded_servers, start_stand_ins
from probe.replay.recorded_target import recorded_login, recorded_target
from probe.replay.trust import permit
from probe.runs.folders import load_manifest, resolve_run, write_manifest
from probe.runs.recorded_account import carry
from probe.runs.targets import load_target
from probe.write import live_feed
from probe.write.report_paths import viewer_path

STARTUP_TIMEOUT = 60.0  # seconds the stand-in gets to read the recording and listen
SHOWN_WARNINGS = 20  # of the stand-in's warnings about the recording, the first this many are shown
LISTED = 20  # of the divergences after the first, the manifest lists this many (`divergences` counts them all)


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog="python -m probe.replay.run", description=__doc__)
    parser.add_argument("--run", required=True, metavar="RUN", help="the recorded run: `latest`, a folder name or path")
    parser.add_argument("--target", metavar="NAME|FILE",
                        help="the recorded run's target, a name from targets/ or a target file (default: the target in "
                        "targets/ its manifest names)")  # fmt: skip
    parser.add_argument("--agent-version", type=cli.agent_version, metavar="X.Y.Z",
                        help="run this version of the agent (default: the recorded one)")  # fmt: skip
    parser.add_argument("--prompt", type=cli.not_empty, metavar="TEXT", help="default: the recorded prompt")
    parser.add_argument("--login", metavar="NAME", help="the target's login the agent uses (default: the recorded one)")
    parser.add_argument("--label", metavar="TEXT", help="added to the new run folder's name (default: replay, or fork)")
    parser.add_argument("--timeout", type=cli.seconds, default=None, metavar="SECONDS", help="stop the agent then")
    parser.add_argument("--fast", action="store_true", help="send recorded streams at once, not at their pace")
    parser.add_argument("--workdir", type=cli.workdir, default=cli.FRESH, metavar="FOLDER|fresh",
                        help="run the agent in this folder; default: a new empty one, removed after the replay (the "
                        "agent runs the recorded tool calls: keep them away from your own files)")  # fmt: skip
    parser.add_argument("--allow-divergence", action="store_true",
                        help="exit 0 even if a request matched nothing recorded")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no line per finished exchange on stderr")
    parser.add_argument("--agent-telemetry", action=cli.OneWay,
                        help="the agent's own telemetry, kept (default: as the recording had it)")  # fmt: skip
    consent = parser.add_mutually_exclusive_group()
    consent.add_argument("--trust", action="store_true",
                         help="replay a run not recorded on this machine, or of an agent that runs its tools without "
                         "asking: the agent carries out the recorded tool calls as you")  # fmt: skip
    consent.add_argument("--approvals", action="store_true",
                         help="run the agent with its approvals on (the target's agent.auto_approve left out): tool "
                         "calls that need approval are refused")  # fmt: skip
    add_fork_arguments(parser)
    args = parser.parse_args(argv)
    check_fork_arguments(args)
    return args


def recorded_version(manifest: dict, vouched: bool = True) -> str | None:
    """The agent version the run was recorded with: the one asked for, else the one the agent reported. Not for a
    run nobody vouched for (probe.replay.trust.Permit): its agent runs at the version it would in a new run (an
    older one might not keep the approvals a replay turned on), and one line says so."""
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    for value in (agent.get("requested_version"), agent.get("version")):
        found = agents.versions_said(value) if isinstance(value, str) else []
        if found and not vouched:
            print(f"replay: the agent runs at the version a new run would, not {found[0]}, the one the run names "
                  "(--agent-version chooses one)", file=sys.stderr)  # fmt: skip
            return None
        if found:
            return found[0]
    return None


def recorded_telemetry(manifest: dict) -> bool:
    """Whether the recording had the agent's own telemetry on: a replay repeats it, since turning it on can change
    what an agent sends (codex 0.169.0 with an [otel] exporter posts its turn costs to its backend after a turn)."""
    account = manifest.get("account") if isinstance(manifest.get("account"), dict) else {}
    telemetry = account.get("telemetry") if isinstance(account.get("telemetry"), dict) else {}
    return telemetry.get("state") == "on"


class StandIn:
    """The replay server in its own process: its URL, and what it says on stdout as it goes (its warnings about the
    recording go on to stderr, the first SHOWN_WARNINGS of them)."""

    def __init__(self, run: Path, fast: bool, workdir: Path, traffic_sha256: str | None, fork: Fork | None) -> None:
        command = [sys.executable, "-m", "probe.replay.server", "--run", str(run), "--until-stdin-closes"]
        command += ["--workdir", str(workdir)] + (["--traffic-sha256", traffic_sha256] if traffic_sha256 else [])
        command += ["--fork-at", str(fork.at), "--fork-flag", str(fork.flag)] if fork else []
        self.process = subprocess.Popen(
            command + (["--fast"] if fast else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        self.last_error = ""
        threading.Thread(target=self.read, daemon=True).start()
        # Read as it comes: a recording with many warnings would otherwise fill the pipe, and the server would wait.
        errors = threading.Thread(target=self.read_errors, daemon=True)
        errors.start()
        try:
            first = self.lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            first = None
        if not first or not first.startswith("replay listening on "):
            processes.stop(self.process, grace=10)  # what it said is its error: nothing more to wait for
            errors.join(timeout=10)
            raise RunError(self.last_error.removeprefix("error: ") or "the replay's upstream did not start")
        self.url = first.removeprefix("replay listening on ").strip()

    def read(self) -> None:
        for line in self.process.stdout:
            if line.startswith('{"event": "forked"'):  # said as it happens: the live feed's lines go on live
                print(f"replay: request {json.loads(line)['at']} served from the recording; from here the fork is "
                      "live", file=sys.stderr, flush=True)  # fmt: skip
            self.lines.put(line)
        self.lines.put(None)

    def read_errors(self) -> None:
        warnings = 0
        for line in self.process.stderr:
            if not line.startswith("warning: "):
                self.last_error = line.strip() or self.last_error
                continue
            warnings += 1
            if warnings <= SHOWN_WARNINGS:
                sys.stderr.write(line)  # the server printed it inert
        if warnings > SHOWN_WARNINGS:
            warn(f"replay: {counted(warnings - SHOWN_WARNINGS, 'more warning')} about the recording")

    def stop(self) -> list[dict]:
        """Stops the server; what it said after its first line, as JSON objects."""
        processes.stop(self.process, grace=10)
        said = []
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            try:
                said.append(json.loads(line))
            except ValueError:
                continue
        return said


def outcome(recorded: Path, said: list[dict], fork: Fork | None = None) -> dict:
    """The manifest's `replay` record: the recording replayed, and whether every request matched; if not, the
    earliest request that diverged, and the ones after it (what the agent asked once it had been answered with an
    error follows from that: the agent shows the error of its last request, not of the first)."""
    diverged = sorted((line for line in said if line.get("event") == "diverged"), key=lambda line: line["request"])
    stopped = next((line for line in said if line.get("event") == "stopped"), {})
    record = {
        "of": f"{recorded.parent.name}/{recorded.name}",
        "status": f"diverged at request {diverged[0]['request']}" if diverged else "every request matched",
        "requests": stopped.get("requests"),
        "repeated": stopped.get("repeated"),
        "not_asked": stopped.get("not_asked"),
        "threads": stopped.get("threads"),
    }
    if fork is not None:  # the recording after the fork point is not the fork's to ask for
        record["not_asked"] = [n for n in record["not_asked"] or [] if n <= fork.at]
        record["forked_at_request"] = stopped.get("forked_at_request")
        if not diverged:
            reached = record["forked_at_request"] is not None
            record["status"] = f"every request matched up to {fork.at}" + ("" if reached else ", never reached")
    if diverged:
        first, later = diverged[0], diverged[1:]
        record.update(first_divergence=first["summary"], diff=first["diff"], divergences=len(diverged))
        record.update(thread=first.get("thread"))
        listed = [{"request": line["request"], "summary": line["summary"]} for line in later[:LISTED]]
        record.update(consequences=listed)
    return record


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = load_target(args.target) if args.target else None  # a name, or a file: the user's choice
    recorded = resolve_run(args.run, chosen.name if chosen else None)
    manifest, problem = load_manifest(recorded)
    if manifest is None:
        raise RunError(problem or f"{display(recorded)} has no manifest.json: it is not a run folder")
    target = chosen or recorded_target(recorded, manifest)
    if chosen and manifest.get("target") and manifest.get("target") != chosen.name:
        raise UsageError(f"{display(recorded)} is a run of {repr(manifest['target'])[:80]}, not of {chosen.name!r}")
    prompt = args.prompt or manifest.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise UsageError(f"{display(recorded)} records no prompt: give --prompt")
    allowed = permit(recorded, manifest, target, args.trust, args.approvals, args.workdir)
    target = allowed.target
    if not args.prompt and not allowed.vouched and prompt.startswith("-"):
        # The agent would read it as an option of its own: one that turns its approvals off, say.
        raise UsageError(f"{display(recorded)}: its recorded prompt starts with '-', an agent's option: give --prompt")
    # Only an agent the target installs (from npm or PyPI) can be run at a version: one on PATH runs as it is.
    version = args.agent_version or (recorded_version(manifest, allowed.vouched) if target.install else None)
    label = args.label or ("fork" if args.until else "replay")
    capture_argv = ["--target", target.name, "--prompt", prompt, "--label", label, "--quiet"]
    capture_argv += ["--agent-version", version] if version else []
    login = args.login or recorded_login(manifest, target)
    capture_argv += ["--login", login] if login else []
    capture_argv += ["--timeout", str(args.timeout)] if args.timeout else []
    telemetry = recorded_telemetry(manifest) if args.agent_telemetry is None else args.agent_telemetry
    capture_argv += ["--agent-telemetry" if telemetry else "--no-agent-telemetry"]
    # A fresh folder is made here, not by the capture: the stand-in compares the paths the agent names in it.
    fresh = agent_home.fresh_workdir() if args.workdir == cli.FRESH else None
    if fresh is not None:
        note_recorded_folder(manifest)
    workdir = fresh or Path(args.workdir)
    fork = Fork(args.until, args.upstream, args.model) if args.until else None  # its flag's folder made now
    stand_in = switch = None
    servers = recorded_servers(manifest)
    mcp = McpStandIns()
    try:
        stand_in = StandIn(recorded, args.fast, workdir, allowed.traffic_sha256, fork)
        mcp = start_stand_ins(recorded, servers, workdir, allowed.mcp_sha256)  # never a server the recording names
        capture_argv += mcp_arguments(mcp)
        allowed.say()  # once the recording is read: what the agent, started next, will do
        if fork is not None:  # its point is known to be in the recording: the stand-in checked it
            switch = fork.start(target, recorded_websocket(recorded))
            fork.say(f"{recorded.parent.name}/{recorded.name}", masked_exchanges(recorded, fork.at))
        capture_args = capture_arguments(capture_argv + ["--upstream", stand_in.url, "--workdir", str(workdir)])
        # As in `pipeline`: once a stop signal has ended the run, its report is part of stopping.
        with StopSignals(f"{StopSignals.SAYING}; the report follows") as signals:
            watch = live_feed.beside(target, args.quiet)
            # A fork to a real API is the user's own run from its point: the agent gets the user's key, not the mock's.
            local = fork is None or fork.to_mock
            result = capture_from_arguments(capture_args, target, watch, signals, stand_in=local, fork=switch)
            checked = verify(args.verify, workdir, args.verify_timeout) if args.verify else None
            record = outcome(recorded, stand_in.stop(), fork) | {"trust": allowed.why}
            mcp.stop()  # the HTTP stand-in tells what it served as it stops
            told = mcp_outcome(mcp.told, [server.name for server in servers])
            record |= {"mcp": told} if told else {}
            new_manifest, _ = load_manifest(result.run)
            if new_manifest is not None:  # the report, written next, shows it
                new_manifest = with_replay(new_manifest, record, carry(recorded, result.run))
                new_manifest |= {"origin": origin(recorded, fork, checked)} if fork else {}
                write_manifest(result.run, new_manifest)
            if result.status != "recording-failed":
                report, warnings = analyze_run(result.run, target)
                for warning in warnings:
                    warn(warning)
                print(f"report: {display(report)}\nviewer: {display(viewer_path(report))}", flush=True)
    finally:
        if stand_in is not None and stand_in.process.poll() is None:
            stand_in.stop()
        if fork is not None:
            fork.stop()
        mcp.remove()
        if fresh is not None:
            agent_home.remove_workdir(fresh)
    return exit_code(args, result, record)


def note_recorded_folder(manifest: dict) -> None:
    """One line when the recorded agent worked in a folder of the user's (a project, or this checkout, as runs
    did by default before), not in a fresh one: what the agent reads of its folder (its files, its git status)
    then differs in the replay's fresh folder, and its first request with it."""
    recorded = recorded_workdir(manifest)
    if recorded is None or agent_home.is_fresh_workdir(recorded):
        return
    print(f"replay: the run's agent worked in {one_line(recorded)[:200]}, not in a fresh folder, and the replay's "
          "works in a new empty one: what it reads of its folder (files, git status) may differ, and its requests "
          "with it (--workdir FOLDER runs it in a folder like the recorded one)", file=sys.stderr)  # fmt: skip


def mcp_arguments(stand_ins: McpStandIns) -> list[str]:
    """The capture's options that give the agent the stand-ins under the recorded servers' names, each wrapped and
    recorded as a server of the new run."""
    given = [f"{name}={shlex.join(command)}" for name, command in stand_ins.commands.items()]
    given += [f"{name}={url}" for name, url in stand_ins.urls.items()]
    return [part for server in given for part in ("--mcp-server", server)]


def capture_arguments(argv: list[str]):
    """The options `pipeline` would have been given, parsed as it parses them."""
    parser = cli.ArgumentParser(prog="python -m probe.replay.run")
    add_capture_arguments(parser)
    # Arguments recorded after `--` are not given again: a manifest comes from anyone, and they could turn the
    # agent's approvals off.
    return parse_capture_arguments(parser, argv)


def following(record: dict) -> str:
    """The divergences after the first, in one line, as its consequences."""
    later = [entry["request"] for entry in record["consequences"]]
    more = record["divergences"] - 1 - len(later)
    named = ", ".join(map(str, later)) + (f" and {more:,} more" if more else "")
    count = record["divergences"] - 1
    return (
        f"then, as a consequence, {count:,} later request{'s' if count > 1 else ''} matched nothing either "
        f"({named}): what the agent asked once it had been answered with an error"
    )


def with_replay(manifest: dict, record: dict, carried: dict | None) -> dict:
    """The replay's own manifest with its `replay` record, and the recording's account, where it kept one, beside
    the replay's own under `account.recorded` (the replay's `account` is what its own run kept: never the
    recording's)."""
    updated = {**without_schema(manifest), "replay": record}
    if carried is not None:
        account = manifest.get("account") if isinstance(manifest.get("account"), dict) else {}
        updated["account"] = {**account, "recorded": carried}
    return updated


def without_schema(manifest: dict) -> dict:
    return {key: value for key, value in manifest.items() if key != "schema"}  # write_manifest puts it first


def exit_code(args, result, record: dict) -> int:
    """The agent's, as `pipeline` exits; 1 on a divergence (of a model request or an MCP call) unless it is allowed
    (then 0, unless the recording itself failed: the agent failing on the error it was answered with is what
    diverging means)."""
    mcp = record.get("mcp") or {}
    for note in mcp.get("notes", [])[:SHOWN_WARNINGS]:
        warn(f"replay: MCP {note}")
    if mcp.get("first_divergence"):
        print(f"replay: {mcp['first_divergence']} (the run's manifest.json holds the diff)", file=sys.stderr)
        if not record.get("first_divergence") and not args.allow_divergence:
            return result.exit_code or 1
    if record.get("first_divergence"):
        print(f"replay: {record['first_divergence']} (the run's manifest.json holds the diff)", file=sys.stderr)
        if record["divergences"] > 1:
            print(f"replay: {following(record)}", file=sys.stderr)
        if not args.allow_divergence:
            return result.exit_code or 1
        return 0 if result.status in ("complete", "agent-failed") else result.exit_code
    requests = record.get("requests")  # none counted when the replay was stopped before its end
    matched = f" ({counted(requests, 'request')})" if isinstance(requests, int) else ""
    print(f"replay: {record['status']}{matched}", file=sys.stderr)
    if record.get("not_asked"):
        warn(f"replay: recorded exchanges no request asked for: {', '.join(f'#{n}' for n in record['not_asked'])}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(run_main(main))
