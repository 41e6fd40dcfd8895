"""The reference server `server-everything` serving streamable HTTP on a free port, and the run's proxies in front
of it (the real mitmdump, through start_proxies), for the HTTP MCP recording tests."""

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import two_proxy_target
from mcp_servers_install import server_program

from probe.capture.ports import free_port
from probe.capture.proxies import start_proxies

SECRET = "sk-ant-api03-" + "Q7x" * 31 + "AA"  # an Anthropic key's shape, which the masking knows


@pytest.fixture(scope="module")
def everything_url():
    """server-everything's streamable HTTP endpoint, http://127.0.0.1:PORT/mcp."""
    port = free_port()
    server = subprocess.Popen(
        [str(server_program("everything")), "streamableHttp"],
        env=os.environ | {"PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("server-everything did not start listening") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def mcp_proxied(tmp_path_factory, everything_url):
    """The run's proxies with server-everything behind the MCP proxy `ev`, for a module's tests (each its own MCP
    session, reading the lines written since it began: see mcp_lines); yields (proxies, run folder)."""
    folder = tmp_path_factory.mktemp("mcp-proxied")
    run = folder / "run"
    run.mkdir()
    proxies = start_proxies(two_proxy_target(folder), run, "mock", mcp_upstreams={"ev": everything_url})
    try:
        yield proxies, run
    finally:
        proxies.stop()


def mcp_size(run: Path) -> int:
    """Where the next line of mcp.jsonl begins: a test's own lines are those after it."""
    return (run / "mcp.jsonl").stat().st_size


def mcp_lines(run: Path, since: int = 0, until: Callable[[list[dict]], bool] | None = None) -> list[dict]:
    """The lines of mcp.jsonl from byte `since`; with `until`, once they satisfy it (each is written as its message
    passes, perhaps just after the client has it), or what there is after ten seconds."""
    deadline = time.monotonic() + 10
    while True:
        with (run / "mcp.jsonl").open("rb") as file:
            file.seek(since)
            lines = [json.loads(line) for line in file.read().splitlines()]
        if until is None or until(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def messages(lines: list[dict], side: str) -> list[dict]:
    return [line["message"] for line in lines if line.get("from") == side and "message" in line]
