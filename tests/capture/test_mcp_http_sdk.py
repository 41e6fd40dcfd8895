"""The official MCP Python SDK (mcp 2.3.0) as the client of server-everything through the run's MCP proxy: it gets
the same answers as it does directly, and mcp.jsonl holds each message it exchanged. The SDK needs h11 0.16, which
only mitmproxy 12 accepts beside it, so this runs on the newest pair (the plain-HTTP tests run on both)."""

import mcp_http_fixtures
import pytest
from mcp_http_fixtures import SECRET, mcp_lines, mcp_size, messages
from own_loop import run_apart

pytestmark = pytest.mark.mcp_sdk
everything_url, mcp_proxied = mcp_http_fixtures.everything_url, mcp_http_fixtures.mcp_proxied


async def session_through(url: str) -> dict:
    """initialize, tools/list, an echo and a long-running tool with progress: what the SDK client got of each."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    progress = []

    async def on_progress(done, total, message):
        progress.append((done, total))

    async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as session:
        started = await session.initialize()
        tools = await session.list_tools()
        echo = await session.call_tool("echo", {"message": f"key {SECRET}"})
        arguments = {"duration": 0.6, "steps": 3}
        slow = await session.call_tool("trigger-long-running-operation", arguments, progress_callback=on_progress)
    return {
        "server": started.server_info.name,
        "protocol": started.protocol_version,
        "tools": [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools.tools],
        "echo": echo.model_dump(mode="json", by_alias=True, exclude_none=True),
        "slow": slow.model_dump(mode="json", by_alias=True, exclude_none=True),
        "progress": progress,
    }


def test_the_sdk_gets_through_the_proxy_what_it_gets_directly(mcp_proxied, everything_url):
    proxies, run = mcp_proxied
    since = mcp_size(run)
    direct = run_apart(session_through(everything_url))
    proxied = run_apart(session_through(proxies.mcp_urls["ev"]))
    assert proxied == direct
    assert direct["echo"]["content"][0]["text"] == f"Echo: key {SECRET}"
    assert direct["progress"] == [(1, 3), (2, 3), (3, 3)]

    lines = mcp_lines(run, since, until=lambda lines: lines and lines[-1].get("event") == "session-ended")
    agent = messages(lines, "agent")
    assert [m.get("method") for m in agent] == [
        "initialize", "notifications/initialized", "tools/list", "tools/call", "tools/call"]  # fmt: skip
    assert agent[0]["params"]["protocolVersion"] == direct["protocol"]
    assert agent[3]["params"]["arguments"]["message"].startswith("key [REDACTED sha256:")
    answers = {m["id"]: m for m in messages(lines, "server") if "id" in m}
    assert answers[agent[0]["id"]]["result"]["serverInfo"]["name"] == direct["server"]
    listed = answers[agent[2]["id"]]["result"]["tools"]
    assert [(t["name"], t["description"], t["inputSchema"]) for t in listed] == [
        (t["name"], t["description"], t["inputSchema"]) for t in direct["tools"]
    ]
    assert answers[agent[4]["id"]]["result"]["content"] == direct["slow"]["content"]
    token = agent[4]["params"]["_meta"]["progressToken"]
    progress = [line for line in lines if line.get("message", {}).get("method") == "notifications/progress"]
    assert [line["message"]["params"] for line in progress] == [
        {"progress": step, "total": 3, "progressToken": token} for step in (1, 2, 3)
    ]
    assert all(line["from"] == "server" and line["http"]["content_type"] == "text/event-stream" for line in progress)
    assert lines[-1]["event"] == "session-ended" and lines[-1]["http"]["method"] == "DELETE"
    assert SECRET not in (run / "mcp.jsonl").read_text()
