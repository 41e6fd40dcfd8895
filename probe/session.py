"""The bookkeeping of one recording: its run folder and an honest manifest.json from start to end."""

import contextlib
import importlib.metadata
import hashlib
import json
import platform
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from probe import __version__, processes
from probe.runs import create_run, write_manifest
from probe.secrets import mask_argv, mask_tokens_and_urls
from probe.targets import Target


@dataclass
class Recording:
    run: Path
    manifest: dict

    def save(self) -> None:
        write_manifest(self.run, self.manifest)

    def started(self, proxies) -> None:
        self.manifest["proxies"] = [
            {"name": name, "url": url, "upstream": proxies.upstreams[name]} for name, url in proxies.urls.items()
        ]
        self.manifest["upstream_proxy"] = proxies.upstream_proxy.describe()
        self.save()

    def set_agent(self, argv: list[str], version: str | None, env: dict[str, str] | None = None) -> None:
        """Record the agent's argv (masked here unless the caller already masked it), its version, and the
        environment variables the target set for it (secret-shaped values masked)."""
        self.manifest["agent"] = {"argv": mask_argv(argv), "version": version,
                                  "env": {name: mask_tokens_and_urls(value) for name, value in (env or {}).items()}}
        self.save()

    def finish(self, status: str, exit_code: int | None, note: str | None = None) -> None:
        self.manifest.update(
            status=status,
            agent_exit_code=exit_code,
            ended_at=now_iso(),
            **traffic_summary(self.run / "traffic.jsonl"),
        )
        if note:
            self.manifest["note"] = note
        self.save()


def mitmproxy_version() -> str:
    try:
        return importlib.metadata.version("mitmproxy")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def open_run(target: Target, run: Path | None, label: str, prompt: str | None, argv: list[str] | None,
             upstream: str | None, keep_secrets: bool = False) -> Recording:
    """Create (or adopt) the run folder and write a `running` manifest before anything starts."""
    if run is None:
        run = create_run(target.name, label)
    else:
        run.mkdir(mode=0o700, parents=True, exist_ok=True)
    recording = Recording(run, {
        "target": target.name,
        "label": label,
        "prompt": prompt if keep_secrets or prompt is None else mask_tokens_and_urls(prompt),
        "upstream_override": upstream,
        "keep_secrets": keep_secrets,
        "agent": {"argv": mask_argv(argv) if argv else None, "version": None},
        "versions": {"probe": __version__, "mitmproxy": mitmproxy_version(), "python": platform.python_version()},
        "started_at": now_iso(),
        "ended_at": None,
        "status": "running",
        "agent_exit_code": None,
    })
    recording.save()
    if keep_secrets:
        print(f"warning: --keep-secrets is on: secret headers are stored unredacted in {run}", file=sys.stderr)
    return recording


def traffic_summary(traffic: Path) -> dict:
    """Counts of exchanges and WebSocket messages, and the file's sha256, read as a stream."""
    digest = hashlib.sha256()
    exchanges = websocket_messages = damaged = 0
    if traffic.is_file():
        with traffic.open("rb") as file:
            for line in file:
                digest.update(line)
                try:
                    entry = json.loads(line)
                except ValueError:
                    damaged += 1
                    continue
                exchanges += 1
                if isinstance(entry, dict) and isinstance(entry.get("messages"), list):
                    websocket_messages += len(entry["messages"])
    summary = {"exchanges": exchanges, "websocket_messages": websocket_messages,
               "traffic_sha256": digest.hexdigest()}
    if damaged:
        summary["damaged_lines"] = damaged
    return summary


@contextlib.contextmanager
def stop_signals_raise_interrupt():
    """Treat SIGTERM, SIGHUP and SIGINT as Ctrl-C, so every way of stopping a run cleans up the same way.

    SIGINT is set explicitly too: a shell starts background jobs with it ignored, and Python keeps that.
    """
    def interrupt(signum, frame):
        if not processes.Interrupts.arrived():
            raise KeyboardInterrupt

    stop_signals = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    previous = {signum: signal.signal(signum, interrupt) for signum in stop_signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
