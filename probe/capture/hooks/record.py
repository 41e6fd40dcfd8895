"""`python -m probe.capture.hooks.record --log FILE [--cache FOLDER]`: the hook the run adds to each of the agent's
hook events. It reads the event's JSON from stdin and appends one masked line to FILE; it prints nothing and exits 0
whatever happens, so that it never changes what the agent does (no output is no decision). FOLDER is the capture's
cache ($XDG_CACHE_HOME), where the secret rules are kept compiled: the agent's, in a private home, is a new one."""

import time

STARTED = time.time()  # first, before the imports: as near as this process gets to the agent firing the event

import fcntl  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from probe.capture.rules_cache import OPTION as CACHE  # noqa: E402
from probe.capture.rules_cache import use_cache  # noqa: E402

MAX_INPUT = 4 * 1024 * 1024  # bytes of an event's JSON kept; the rest is read (the agent must not block) and counted
HEAD = 2000  # characters kept, masked, of an event too big or not JSON
CHUNK = 65536
# What of the event's JSON each line names by itself (the agent's keys), besides the whole input, masked.
NAMED = {"event": "hook_event_name", "session": "session_id", "tool": "tool_name", "tool_use_id": "tool_use_id",
         "agent_id": "agent_id", "cwd": "cwd"}  # fmt: skip


def read_input(stream) -> tuple[bytes, int]:
    """The first MAX_INPUT bytes of the stream, and its whole size: the rest is read to its end and dropped."""
    kept, size = bytearray(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if len(kept) < MAX_INPUT:
            kept += chunk[: MAX_INPUT - len(kept)]
    return bytes(kept), size


def line_of(data: bytes, size: int, started: float, environ: dict[str, str]) -> str:
    """The event as one masked line of hooks.jsonl, its end included."""
    from probe.capture.account.telemetry_lines import line_of as strict_line
    from probe.capture.scrub import mask_values, secret_values
    from probe.redact.json_values import mask_string
    from probe.redact.masking import mask_json_scanned

    record: dict = {"t": started, "size": size}
    value = None
    if size <= MAX_INPUT:
        try:
            value = json.loads(data)
        except ValueError:
            value = None
    if isinstance(value, dict):
        masked = mask_json_scanned(value)[0]
        record |= {name: masked.get(key) for name, key in NAMED.items() if masked.get(key) is not None}
        record["input"] = masked
    else:
        text = data[: HEAD * 4].decode("utf-8", "replace")[:HEAD]
        record["head"] = mask_string(text)[0]
        record["cut" if size > MAX_INPUT else "not_json"] = True
    record["took"] = round(time.time() - started, 6)
    # The agent's own secrets, which the hook inherits with its environment, wherever a shape did not catch them.
    return mask_values(strict_line(record), secret_values(environ))


def append(path: str, line: str) -> None:
    """One write under an exclusive lock: the hooks of one event run at once, each appending its own line."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line.encode("utf-8"))
    finally:
        os.close(descriptor)


def main(argv: list[str]) -> int:
    try:
        options = dict(zip(argv[::2], argv[1::2], strict=False))
        if len(argv) % 2 or "--log" not in options or not set(options) <= {"--log", CACHE}:
            return 0
        if CACHE in options:  # read there: listing and compiling them again takes seconds
            use_cache(options[CACHE])
        data, size = read_input(sys.stdin.buffer)
        append(options["--log"], line_of(data, size, STARTED, dict(os.environ)))
    except BaseException:  # whatever happens here, the agent goes on as it would have
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
