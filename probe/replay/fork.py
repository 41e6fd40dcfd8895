"""A fork of a recorded run (`invoke replay --until N --upstream UPSTREAM`): the replay serves the recorded answers up
to request N, then the proxies send every request on to UPSTREAM (the mock, started for the fork, or a URL),
with `--model` rewritten into them (probe.capture.recorder.fork_switch); `--verify` runs a check in the fork's
folder once the agent has ended. What it sends where is said before anything is sent."""

import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from probe.capture import processes
from probe.capture.forking import ForkSwitch
from probe.capture.proxies import start_mock
from probe.capture.upstreams import check_upstream
from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import UsageError, one_line
from probe.read.traffic import body_bytes, iter_exchanges
from probe.redact.secret_names import MASK_START
from probe.redact.shapes import mask_text
from probe.runs.targets import Target

VERIFY_TIMEOUT = 600.0  # seconds a --verify check gets by default
TAIL_LINES, TAIL_BYTES = 20, 4096  # of a check's output, the manifest keeps at most this much, its end


def add_fork_arguments(parser) -> None:
    parser.add_argument("--until", type=cli.request_number, metavar="N",
                        help="fork: serve the recorded answers up to request N, then go on live against "
                        "--upstream")  # fmt: skip
    parser.add_argument("--upstream", metavar="mock|URL",
                        help="with --until: where the requests after N go, the bundled mock or a model API's URL "
                        "(with your key from the environment)")  # fmt: skip
    parser.add_argument("--model", type=cli.not_empty, metavar="M", help="with --until: the requests after N ask for M")
    parser.add_argument("--verify", type=cli.not_empty, metavar="CMD",
                        help="with --until: run this shell command in the fork's folder once the agent has ended; "
                        "its exit status and last lines go into the manifest")  # fmt: skip
    parser.add_argument("--verify-timeout", type=cli.seconds, default=None, metavar="SECONDS",
                        help=f"stop the --verify command after this long (default: {VERIFY_TIMEOUT:g})")  # fmt: skip


def check_fork_arguments(args) -> None:
    """One line for options that make no fork, before anything starts."""
    if args.until is None:
        given = [name for name in ("upstream", "model", "verify", "verify_timeout") if getattr(args, name) is not None]
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} goes with --until N (a fork): give --until")
        return
    if args.upstream is None:
        raise UsageError("--until N: give --upstream mock, or the URL of the model API the fork goes on with")
    if args.verify_timeout is not None and args.verify is None:
        raise UsageError("--verify-timeout goes with --verify CMD")
    check_upstream(args.upstream)


@dataclass
class Fork:
    """A fork's upstream while it runs: the mock's process, or a URL, and the flag its stand-in makes."""

    at: int
    upstream: str  # `mock` or a URL, as given
    model: str | None
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="agent-probe-fork-")))
    mock: subprocess.Popen | None = None
    url: str = ""

    @property
    def flag(self) -> Path:
        return self.folder / "forked"

    @property
    def to_mock(self) -> bool:
        return self.upstream == "mock"

    def start(self, target: Target, websocket: bool) -> ForkSwitch:
        """The mock started (taking WebSockets if the recording's agent used one), or the URL; the proxies' switch."""
        if self.to_mock:
            transport = "websocket" if websocket else "http"
            self.mock, self.url = start_mock(transport, target.mock_finish_command)
        else:
            self.url = self.upstream
        return ForkSwitch(self.flag, self.url, self.model)

    def stop(self) -> None:
        if self.mock is not None:
            processes.stop(self.mock, grace=2)
        self.flag.unlink(missing_ok=True)
        self.folder.rmdir()

    def say(self, run_name: str, masked: int) -> None:
        """Before the agent starts: what the fork is, where the recorded context goes, and that masks stay masks."""
        where = "the bundled mock" if self.to_mock else urllib.parse.urlsplit(self.upstream).hostname
        model = f", asking for model {self.model}" if self.model else ""
        print(f"fork: of {run_name} at request {self.at}: the recorded answers up to it, then the agent's requests "
              f"go to {where}{model}", file=sys.stderr, flush=True)  # fmt: skip
        if not self.to_mock:
            print(f"fork: the requests after {self.at} carry the recorded conversation (prompt, files, tool output) "
                  f"to {where}, with your key from the environment", file=sys.stderr, flush=True)  # fmt: skip
        if masked:
            print(f"fork: {counted(masked, 'recorded exchange')} up to {self.at} with masked secrets: the context the "
                  "agent goes on with carries them as their masks, never unmasked, so a request that carried a key in "
                  "its body will not work as it did", file=sys.stderr, flush=True)  # fmt: skip


def masked_exchanges(run: Path, until: int) -> int:
    """How many of the recording's exchanges up to `until` hold a mask, `[REDACTED sha256:…]`, in what was asked or
    answered: the context the agent carries on with after the fork point."""
    count = 0
    for exchange in iter_exchanges(run / "traffic.jsonl", []):
        if exchange.number > until:
            break
        bodies = [exchange.request_body, exchange.response_body] + [frame.body for frame in exchange.frames]
        count += any(MASK_START.encode() in body_bytes(body) for body in bodies)
    return count


def recorded_websocket(run: Path) -> bool:
    """Whether the recorded agent talked to its model over a WebSocket (the fork's mock then takes one)."""
    return any(exchange.kind == "websocket" for exchange in iter_exchanges(run / "traffic.jsonl", []))


def verify(command: str, folder: Path, timeout: float | None) -> dict:
    """The manifest's `verify`: the command run by the shell in `folder`, its exit status (None if it was stopped
    at its timeout), the end of what it printed (masked) and how long it took."""
    print(f"fork: verify: {one_line(command)[:200]}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(command, shell=True, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout or VERIFY_TIMEOUT)  # fmt: skip
        exit_code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as stopped:
        exit_code, output = None, (stopped.stdout or b"") + (stopped.stderr or b"")
    seconds = round(time.monotonic() - started, 3)
    said = f"exit code {exit_code}" if exit_code is not None else f"stopped after {seconds:g} s"
    kept = tail(output)
    # The end of what the check printed, as the manifest keeps it (masked), each line inert and marked as its.
    lines = [f"fork: verify: | {one_line(line)}" for line in kept.splitlines()]
    print(f"fork: verify: {said}" + (", ending:" if lines else ""), *lines, sep="\n", file=sys.stderr, flush=True)
    return {"command": mask_text(command)[0], "exit_code": exit_code, "tail": kept, "seconds": seconds}


def tail(output: bytes) -> str:
    """The last TAIL_LINES lines, at most TAIL_BYTES of them, masked."""
    text = output[-TAIL_BYTES * 4 :].decode("utf-8", "replace")
    text = "\n".join(mask_text(text)[0].splitlines()[-TAIL_LINES:])
    return text.encode()[-TAIL_BYTES:].decode("utf-8", "ignore")


def origin(recorded: Path, fork: Fork, checked: dict | None) -> dict:
    """The manifest's `origin` of a fork."""
    record = {"run": f"{recorded.parent.name}/{recorded.name}", "path": str(recorded.resolve()), "kind": "fork"}
    record["at"] = fork.at
    record["upstream"] = fork.upstream if fork.upstream == "mock" else mask_text(one_line(fork.upstream))[0][:300]
    record |= {"model": fork.model} if fork.model else {}
    return record | ({"verify": checked} if checked is not None else {})
