"""How long a recording takes to start, beside a plain mitmdump's start, each the median of interleaved tries:

- plain mitmdump: a reverse proxy with no addon, until its port accepts a connection;
- the recorder under mitmdump (every default addon) and under probe.capture.slim_mitmdump (only the recorder's),
  until the port accepts;
- `invoke --list`, to its exit;
- `invoke proxies` against the mock, until it says it records (its "Ctrl-C to stop" line): the mock, the watchdog
  and mitmdump all up. --before CHECKOUT also times that checkout's `invoke proxies`, for a before and after.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.capture.ports import free_port  # noqa: E402  (after the path set-up above)
from probe.capture.proxies import ADDON, SLIM_MITMDUMP, find_mitmdump  # noqa: E402

UNREACHABLE = "http://127.0.0.1:9/"  # no request is sent: only the start is timed
READY_LINE = "Ctrl-C to stop"
TIMEOUT = 60.0


def until_port(argv: list[str], port: int) -> float:
    """Seconds from starting argv until 127.0.0.1:port accepts; the process is then stopped with SIGINT."""
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    return time.monotonic() - started
            if process.poll() is not None:
                raise SystemExit(f"{argv[0]} exited at start: {process.stderr.read().decode(errors='replace')}")
            if time.monotonic() - started > TIMEOUT:
                raise SystemExit(f"{argv[0]} did not listen within {TIMEOUT:.0f} s")
            time.sleep(0.002)
    finally:
        stop(process)


def until_exit(argv: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, check=True, timeout=TIMEOUT)
    return time.monotonic() - started


def until_ready_line(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds from starting argv until it prints the ready line; then it is stopped with Ctrl-C."""
    started = time.monotonic()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        for line in process.stdout:
            if READY_LINE in line:
                return time.monotonic() - started
        raise SystemExit(f"`{' '.join(argv)}` ended before it was ready: {process.stderr.read()[-2000:]}")
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the whole group, as a terminal sends it; the recording's own stop is not timed."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(TIMEOUT)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def invoke_proxies(checkout: Path, data_dir: str) -> tuple[list[str], Path, dict[str, str]]:
    """`invoke proxies` of `checkout` against the mock, on a free port, with this Python (PYTHONPATH: the
    checkout's own modules, wherever this Python has the project installed from)."""
    argv = [sys.executable, "-m", "invoke", "proxies", "-t", "openai-compatible", "-u", "mock", "--port", "api=0"]
    env = dict(os.environ, PYTHONPATH=str(checkout), PROBE_DATA_DIR=data_dir)
    return [*argv, "--quiet"], checkout, env


def reverse_proxy(port: int) -> list[str]:
    return ["--listen-host", "127.0.0.1", "--mode", f"reverse:{UNREACHABLE}@{port}"]


def recorder(port: int) -> list[str]:
    """The capture addon's arguments, as a capture gives them (less its options, which do not change the start)."""
    return ["-s", str(ADDON), "--set", "termlog_verbosity=warn", *reverse_proxy(port)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="tries per route, interleaved; the median is shown")
    parser.add_argument("--before", type=Path, help="CHECKOUT: also time this checkout's `invoke proxies`")
    args = parser.parse_args()
    # Bytecode written, as an installed project has it: otherwise every process here compiles the project again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    mitmdump = find_mitmdump()
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="probe-bench-start-") as data_dir:
        routes = {
            "plain mitmdump": lambda port: until_port([mitmdump, "-q", *reverse_proxy(port)], port),
            "recorder, mitmdump": lambda port: until_port([mitmdump, *recorder(port)], port),
            "recorder, slim start": lambda port: until_port(
                [sys.executable, "-P", "-m", SLIM_MITMDUMP, *recorder(port)], port
            ),
            "invoke --list": lambda port: until_exit([sys.executable, "-m", "invoke", "--list"], PROJECT_ROOT),
            "invoke proxies": lambda port: until_ready_line(*invoke_proxies(PROJECT_ROOT, data_dir)),
        }
        if args.before is not None:
            before = args.before.resolve()
            routes["invoke --list, before"] = lambda port: until_exit(
                [sys.executable, "-m", "invoke", "--list"], before
            )
            routes["invoke proxies, before"] = lambda port: until_ready_line(*invoke_proxies(before, data_dir))
        for route in routes.values():
            route(free_port())  # a first start of each, untimed, writes its bytecode
        for _ in range(args.runs):  # interleaved, so that every route sees the same machine
            for name, route in routes.items():
                times.setdefault(name, []).append(route(free_port()))
    print(f"start-up, {args.runs} interleaved tries each: median (min-max)")
    for name, seconds in times.items():
        print(f"  {name:24} {statistics.median(seconds):6.3f} s  ({min(seconds):.3f}-{max(seconds):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
