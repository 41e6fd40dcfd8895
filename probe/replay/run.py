"""Replays a recorded run: its agent runs through the proxies as in `pipeline`, against a stand-in upstream that
answers each request with the recorded answer it matches; the new run's manifest says whether every request
matched, or at which one the agent diverged (`python -m probe.replay.run --run RUN`, `invoke replay`)."""

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from probe.capture import agent_home, agents, processes
from probe.capture.options import add_capture_arguments
from probe.capture.processes import StopSignals
from probe.capture.run import capture_from_arguments
from probe.common import cli
from probe.common.errors import RunError, UsageError, run_main, warn
from probe.common.paths import display
from probe.runs.folders import load_manifest, resolve_run, write_manifest
from probe.runs.targets import load_target
from probe.write import live_feed
from probe.write.report import analyze_run
from probe.write.report_paths import viewer_path

STARTUP_TIMEOUT = 60.0  # seconds the stand-in gets to read the recording and listen


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog="python -m probe.replay.run", description=__doc__)
    parser.add_argument("--run", required=True, metavar="RUN", help="the recorded run: `latest`, a folder name or path")
    parser.add_argument("--target", metavar="NAME", help="the recorded run's target (default: its manifest's)")
    parser.add_argument("--agent-version", type=cli.agent_version, metavar="X.Y.Z",
                        help="run this version of the agent (default: the recorded one)")  # fmt: skip
    parser.add_argument("--prompt", type=cli.not_empty, metavar="TEXT", help="default: the recorded prompt")
    parser.add_argument("--label", default="replay", metavar="TEXT", help="added to the new run folder's name")
    parser.add_argument("--timeout", type=cli.seconds, default=None, metavar="SECONDS", help="stop the agent then")
    parser.add_argument("--fast", action="store_true", help="send recorded streams at once, not at their pace")
    parser.add_argument("--workdir", type=cli.workdir, default=cli.FRESH, metavar="FOLDER|fresh",
                        help="run the agent in this folder; default: a new empty one, removed after the replay (the "
                        "agent runs the recorded tool calls: keep them away from your own files)")  # fmt: skip
    parser.add_argument("--allow-divergence", action="store_true",
                        help="exit 0 even if a request matched nothing recorded")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no line per finished exchange on stderr")
    return parser.parse_args(argv)


def recorded_version(manifest: dict) -> str | None:
    """The agent version the run was recorded with: the one asked for, else the one the agent reported."""
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    for value in (agent.get("requested_version"), agent.get("version")):
        found = agents.versions_said(value) if isinstance(value, str) else []
        if found:
            return found[0]
    return None


class StandIn:
    """The replay server in its own process: its URL, and what it says on stdout as it goes."""

    def __init__(self, run: Path, fast: bool, workdir: Path) -> None:
        command = [sys.executable, "-m", "probe.replay.server", "--run", str(run), "--until-stdin-closes"]
        command += ["--workdir", str(workdir)]
        self.process = subprocess.Popen(
            command + (["--fast"] if fast else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()
        try:
            first = self.lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            first = None
        if not first or not first.startswith("replay listening on "):
            self.stop()
            error = self.process.stderr.read().strip().splitlines()
            raise RunError(error[-1].removeprefix("error: ") if error else "the replay's upstream did not start")
        self.url = first.removeprefix("replay listening on ").strip()

    def read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

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


def outcome(recorded: Path, said: list[dict]) -> dict:
    """The manifest's `replay` record: the recording replayed, and whether every request matched."""
    diverged = [line for line in said if line.get("event") == "diverged"]
    stopped = next((line for line in said if line.get("event") == "stopped"), {})
    record = {
        "of": f"{recorded.parent.name}/{recorded.name}",
        "status": f"diverged at request {diverged[0]['request']}" if diverged else "every request matched",
        "requests": stopped.get("requests"),
        "repeated": stopped.get("repeated"),
        "not_asked": stopped.get("not_asked"),
        "threads": stopped.get("threads"),
    }
    if diverged:
        record.update(first_divergence=diverged[0]["summary"], diff=diverged[0]["diff"], divergences=len(diverged))
        record.update(thread=diverged[0].get("thread"))
    return record


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    recorded = resolve_run(args.run, args.target)
    manifest, problem = load_manifest(recorded)
    if manifest is None:
        raise RunError(problem or f"{display(recorded)} has no manifest.json: it is not a run folder")
    recorded_target = manifest.get("target")
    target_name = args.target or recorded_target
    if not isinstance(target_name, str) or (args.target and recorded_target and args.target != recorded_target):
        raise UsageError(f"{display(recorded)} is a run of {recorded_target!r}, not of {args.target!r}")
    prompt = args.prompt or manifest.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise UsageError(f"{display(recorded)} records no prompt: give --prompt")
    target = load_target(target_name)
    version = args.agent_version or recorded_version(manifest)
    capture_argv = ["--target", target_name, "--prompt", prompt, "--label", args.label, "--quiet"]
    capture_argv += ["--agent-version", version] if version else []
    capture_argv += ["--timeout", str(args.timeout)] if args.timeout else []
    # A fresh folder is made here, not by the capture: the stand-in compares the paths the agent names in it.
    fresh = agent_home.fresh_workdir() if args.workdir == cli.FRESH else None
    workdir = fresh or Path(args.workdir)
    stand_in = None
    try:
        stand_in = StandIn(recorded, args.fast, workdir)
        capture_args = capture_arguments(capture_argv + ["--upstream", stand_in.url, "--workdir", str(workdir)])
        # As in `pipeline`: once a stop signal has ended the run, its report is part of stopping.
        with StopSignals(f"{StopSignals.SAYING}; the report follows") as signals:
            watch = live_feed.beside(target, args.quiet)
            result = capture_from_arguments(capture_args, target, watch, signals, stand_in=True)
            record = outcome(recorded, stand_in.stop())
            new_manifest, _ = load_manifest(result.run)
            if new_manifest is not None:  # the report, written next, shows it
                write_manifest(result.run, {**without_schema(new_manifest), "replay": record})
            if result.status != "recording-failed":
                report, warnings = analyze_run(result.run, target)
                for warning in warnings:
                    warn(warning)
                print(f"report: {display(report)}\nviewer: {display(viewer_path(report))}", flush=True)
    finally:
        if stand_in is not None and stand_in.process.poll() is None:
            stand_in.stop()
        if fresh is not None:
            agent_home.remove_workdir(fresh)
    return exit_code(args, result, record)


def capture_arguments(argv: list[str]):
    """The options `pipeline` would have been given, parsed as it parses them."""
    parser = cli.ArgumentParser(prog="python -m probe.replay.run")
    add_capture_arguments(parser)
    return parser.parse_args(argv)


def without_schema(manifest: dict) -> dict:
    return {key: value for key, value in manifest.items() if key != "schema"}  # write_manifest puts it first


def exit_code(args, result, record: dict) -> int:
    """The agent's, as `pipeline` exits; 1 on a divergence unless it is allowed (then 0, unless the recording
    itself failed: the agent failing on the error it was answered with is what diverging means)."""
    if record.get("first_divergence"):
        print(f"replay: {record['first_divergence']} (the run's manifest.json holds the diff)", file=sys.stderr)
        if not args.allow_divergence:
            return result.exit_code or 1
        return 0 if result.status in ("complete", "agent-failed") else result.exit_code
    print(f"replay: every request matched ({record['requests']} requests)", file=sys.stderr)
    if record.get("not_asked"):
        warn(f"replay: recorded exchanges no request asked for: {', '.join(f'#{n}' for n in record['not_asked'])}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(run_main(main))
