"""The relay between an agent and one stdio MCP server: it starts the server, passes the bytes of both ways on at
once and unchanged, and records a masked copy of each JSON-RPC message into the run's mcp.jsonl.

`python -m probe.capture.mcp.relay RECORD NAME [--env FILE] [--cache FOLDER] -- COMMAND...`: RECORD is the run's
mcp.jsonl, NAME the server's name as the agent knows it, FILE a JSON mapping of variables added to the server's
environment, FOLDER the capture's cache (probe.capture.rules_cache), where the secret rules are kept compiled. The
passing threads only read, queue a copy with the time of the read and write on; what is recorded is parsed and
masked by a thread of its own, from that bounded queue, each message stamped with the time of the read that ended its
line, which is before the other side had it (so a request is never stamped, nor recorded, after its answer). A server
that cannot start is what a shell would make of it: nothing on stdout, a line on stderr, exit 127 (126 when it is not
runnable); a server that is killed by a signal kills the relay with the same signal.
"""

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from probe.capture.mcp.record_lines import LineRecorder, McpRecord, StderrKeeper
from probe.capture.rules_cache import OPTION as CACHE
from probe.capture.rules_cache import use_cache
from probe.capture.scrub import secret_values

CHUNK = 65536
QUEUED = 64  # chunks waiting to be recorded, at most: past that the passing waits (4 MiB in flight)
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
DONE = None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else -1
    options = dict(zip(argv[2:cut:2], argv[3:cut:2], strict=False))
    if cut < 2 or cut == len(argv) - 1 or cut % 2 or not set(options) <= {"--env", CACHE}:
        print(
            f"usage: python -m {__spec__.name} RECORD NAME [--env FILE] [--cache FOLDER] -- COMMAND...", file=sys.stderr
        )
        return 2
    (record_path, name), command = argv[:2], argv[cut + 1 :]
    added = json.loads(Path(options["--env"]).read_text(encoding="utf-8")) if "--env" in options else {}
    env = dict(os.environ) | added  # the server's: the agent's own, with its cache
    if CACHE in options:  # the rules are read there, not listed and compiled again in the agent's new cache
        use_cache(options[CACHE])
    record = McpRecord(Path(record_path), name, secret_values(env))
    try:
        server = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0
        )
    except OSError as error:
        record.event("failed", error=f"{command[0]}: {error.strerror or error}")
        print(f"{command[0]}: {error.strerror or error}", file=sys.stderr, flush=True)
        return 126 if isinstance(error, PermissionError) else 127
    record.event("started", command=record.masked_argv(command), pid=server.pid)
    return relay(server, record, Path(record_path).parent / "mcp" / f"{name}.stderr")


def relay(server: subprocess.Popen, record: McpRecord, stderr_file: Path) -> int:
    """Pass both ways until the server has exited and said all it had; its exit code, or its death by a signal."""
    for number in FORWARDED:
        signal.signal(number, lambda number, frame: server.poll() is None and server.send_signal(number))
    copies: queue.Queue = queue.Queue(QUEUED)
    recorder = threading.Thread(target=record_copies, args=(copies, record, stderr_file), daemon=True)
    recorder.start()
    threading.Thread(target=agent_to_server, args=(server, copies), daemon=True).start()
    errors = threading.Thread(target=pass_on, args=(server.stderr.fileno(), 2, "stderr", copies), daemon=True)
    errors.start()
    pass_on(server.stdout.fileno(), 1, "server", copies)
    code = server.wait()
    errors.join()
    copies.put(DONE)
    recorder.join()
    died = signal.Signals(-code) if code < 0 else None
    record.event("exited", code=None if died else code, signal=died.name if died else None)
    if died is not None:
        signal.signal(died, signal.SIG_DFL)
        os.kill(os.getpid(), died)
    return code


def agent_to_server(server: subprocess.Popen, copies: queue.Queue) -> None:
    """The agent's bytes to the server, as they come; the server's stdin is closed when the agent's is."""
    while True:
        try:
            data = os.read(0, CHUNK)
        except OSError:
            data = b""
        if data:
            # Queued, with the time it was read, before the server has it: its answer is read and queued after.
            copies.put(("agent", data, time.time()))
            try:
                write_all(server.stdin.fileno(), data)
            except OSError:  # the server is gone: what the agent sends goes nowhere, as without the relay (recorded)
                data = b""
            else:
                continue
        with contextlib.suppress(OSError):
            server.stdin.close()
        return


def pass_on(source: int, to: int, side: str, copies: queue.Queue) -> None:
    """Bytes from `source` written on to `to` at once, each read as it came; a copy queued for the record, with the
    time it was read, before it is written on (the agent's next request comes after)."""
    while True:
        try:
            data = os.read(source, CHUNK)
        except OSError:
            return
        if not data:
            return
        copies.put((side, data, time.time()))
        with contextlib.suppress(OSError):  # the agent stopped reading: the server still runs, still recorded
            write_all(to, data)


def write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def record_copies(copies: queue.Queue, record: McpRecord, stderr_file: Path) -> None:
    lines = {side: LineRecorder(record, side) for side in ("agent", "server")}
    kept = StderrKeeper(stderr_file, record.secrets)
    while (item := copies.get()) is not DONE:
        side, data, read_at = item
        with contextlib.suppress(OSError):  # a full disk loses the record, never the passing
            kept.add(data) if side == "stderr" else lines[side].add(data, read_at)
    for each in lines.values():
        each.close()
    kept.close()


if __name__ == "__main__":
    sys.exit(main())
