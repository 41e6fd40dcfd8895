"""A stand-in for one stdio MCP server of a recorded run: the agent starts it in the server's place (`python -m
probe.replay.mcp_stand_in --recorded RUN/mcp.jsonl --server NAME`) and gets, for each JSON-RPC request it writes
on stdin, the answer the server gave the same call in the recording (probe.replay.mcp_matching). No command the
recording names is run."""

import json
import signal
import sys
from pathlib import Path

from probe.analyse.volatile import run_places, workdir_place
from probe.common import cli
from probe.common.errors import run_main
from probe.common.lines import BoundedLines
from probe.replay.mcp_matching import McpMatcher, error
from probe.replay.mcp_recorded import MAX_LINE_BYTES, read_recording
from probe.replay.mcp_told import Told
from probe.runs.folders import load_manifest

PARSE_ERROR = -32700  # JSON-RPC's code for a message that is not JSON


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog="python -m probe.replay.mcp_stand_in", description=__doc__)
    parser.add_argument("--recorded", required=True, type=Path, metavar="FILE", help="the recorded run's mcp.jsonl")
    parser.add_argument("--server", required=True, metavar="NAME", help="the server it stands in for")
    parser.add_argument("--divergence", type=Path, metavar="FILE",
                        help="where to append what it met, a JSON line each")  # fmt: skip
    parser.add_argument("--workdir", metavar="FOLDER", help="the folder this run's agent works in")
    add_signed_option(parser)
    return parser.parse_args(argv)


def add_signed_option(parser) -> None:
    parser.add_argument("--mcp-sha256", metavar="HEX", help="the sha256 the recording must have (its run's signed)")


def stand_in_matcher(recorded: Path, server: str, workdir: str | None, told: Told, sha256: str | None) -> McpMatcher:
    """The matcher of one server's recorded calls, its notes told; the recording's folders and this run's compared
    as one. With `sha256`, a RunError unless the recording is those bytes."""
    recording = read_recording(recorded, server, sha256)
    told.notes(recording)
    manifest = load_manifest(recorded.parent)[0] or {}
    matcher = McpMatcher(recording, run_places(recorded.parent, manifest), [workdir_place(workdir)] if workdir else [])
    matcher.on_divergence = told.diverged
    return matcher


def serve_stdio(matcher: McpMatcher, stdin, stdout) -> None:
    """Answers each line of `stdin` on `stdout` until stdin ends."""
    for _, raw, _ in BoundedLines(stdin, MAX_LINE_BYTES):
        if raw is None:
            reply = error(None, "agent-probe replay: a message over the stand-in's size limit", PARSE_ERROR)
        elif not raw.strip():
            continue
        else:
            try:
                reply = matcher.reply(json.loads(raw))
            except (ValueError, RecursionError):
                reply = error(None, "agent-probe replay: not JSON", PARSE_ERROR)
        if reply is not None:
            stdout.write(json.dumps(reply).encode() + b"\n")
            stdout.flush()


def stop(signum, frame) -> None:
    raise SystemExit(0)  # the agent ends its servers so: what was served is still told


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    told = Told(args.divergence, args.server)
    matcher = stand_in_matcher(args.recorded, args.server, args.workdir, told, args.mcp_sha256)
    signal.signal(signal.SIGTERM, stop)
    try:
        serve_stdio(matcher, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        told.stopped(matcher)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
