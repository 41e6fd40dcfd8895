"""The routes the proxy benchmarks compare (direct, a plain streaming mitmdump, the probe proxies), and what a
proxy process costs, read from /proc: CPU time and peak memory."""

import contextlib
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.capture import processes  # noqa: E402  (after the path set-up above)
from probe.capture.ports import free_port  # noqa: E402
from probe.capture.proxies import RunningProxies, find_mitmdump, start_proxies  # noqa: E402
from probe.runs.targets import parse_target  # noqa: E402

BENCH_TARGET = """
name: bench
description: one proxy
renderer: probe.apis.generic.report
proxies: [{name: model, listen: 0, upstream: "https://api.openai.com/"}]
agent: {command: ["true"]}
"""
CLOCK_TICK = 0.01  # seconds per tick of /proc/PID/stat's utime and stime


@dataclass(frozen=True)
class Route:
    name: str
    port: int
    pid: int | None  # the proxy process, None for direct


def start_ours(upstream: str, run: Path) -> RunningProxies:
    """The probe proxies, recording into `run`, in front of `upstream`."""
    return start_proxies(parse_target(BENCH_TARGET, "bench.yaml"), run, upstream)


def start_plain(upstream: str):
    """A plain mitmdump with no addon that streams every body (as ours does), and its port, once it accepts."""
    port = free_port()
    process = processes.spawn(
        [
            find_mitmdump(),
            "--listen-host",
            "127.0.0.1",
            "-q",
            "--set",
            "stream_large_bodies=1",
            "--mode",
            f"reverse:{upstream}@{port}",
        ],
        signal.SIGINT,
    )
    wait_for_port(port)
    return process, port


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


@contextlib.contextmanager
def proxy_routes(upstream_port: int, run: Path):
    """Direct, plain mitmdump and the probe proxies (recording into `run`) in front of one upstream."""
    upstream = f"http://127.0.0.1:{upstream_port}/"
    ours = start_ours(upstream, run)
    try:
        plain, plain_port = start_plain(upstream)
        try:
            yield [
                Route("direct", upstream_port, None),
                Route("plain mitmdump", plain_port, plain.pid),
                Route("probe proxies", ours.ports["model"], ours.process.pid),
            ]
        finally:
            processes.stop(plain, signal.SIGINT, grace=15)
    finally:
        ours.stop()


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time the process has used so far (0 for no process)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK


def wait_until_idle(pid: int | None) -> None:
    """Wait until the proxy has finished recording what it holds (it may write large exchanges in the
    background), so a measurement's CPU includes its recording and the next one does not pay for it."""
    if pid is None:
        return
    last = cpu_seconds(pid)
    while True:
        time.sleep(0.3)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return
        last = now


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """The peak resident memory of a process while the block runs: VmRSS sampled every 20 ms, and the kernel's
    own high-water mark (VmHWM), reset at the start where the kernel allows it."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kb = 0
        self.running = False
        self.high_water_reset = False
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # 5 resets VmHWM to the current RSS
            self.high_water_reset = True
        self.running = True
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.running = False
        self.thread.join()
        self.peak_kb = max(self.peak_kb, memory_kb(self.pid, "VmRSS"))
        if self.high_water_reset:  # else VmHWM may be the peak of something measured before
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid, "VmHWM"))

    def sample(self) -> None:
        while self.running:
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    @property
    def megabytes(self) -> float:
        return self.peak_kb * 1024 / 1e6
