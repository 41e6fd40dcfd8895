"""The reference server `server-everything` serving streamable HTTP on a free port, and the run's proxies in front
of it (the real mitmdump, through start_proxies), for the HTTP MCP recording tests."""

import json
import os
import socket
import subprocess
import time
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


@pytest.fixture
def mcp_proxied(tmp_path, everything_url):
    """The run's proxies with server-everything behind the MCP proxy `ev`; yields (proxies, run folder)."""
    run = tmp_path / "run"
    run.mkdir()
    proxies = start_proxies(two_proxy_target(tmp_path), run, "mock", mcp_upstreams={"ev": everything_url})
    try:
        yield proxies, run
    finally:
        proxies.stop()


def mcp_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "mcp.jsonl").read_text().splitlines()]


def messages(lines: list[dict], side: str) -> list[dict]:
    return [line["message"] for line in lines if line.get("from") == side and "message" in line]
