"""Reads a captured run in which the mock made the agent spawn a child and a grandchild: each agent's model
requests with their headers, and each request's answer. For the fresh runs and for the committed captures alike."""

import json
from dataclasses import dataclass, field

from conftest import read_traffic

from probe.mock.subagents import child_prompt
from probe.read.sse import parse

PROMPT = "spawn a sub-agent to write a hello world function"
# Each agent's task, root first: what its final answer names.
TASKS = [PROMPT, child_prompt(1), child_prompt(2)]


@dataclass
class Exchange:
    """One model request of one agent, and the events of its answer."""

    headers: dict[str, str]
    body: dict
    events: list[dict] = field(default_factory=list)


def model_exchanges(run) -> list[Exchange]:
    """Every model request in capture order: HTTP POSTs, and the request frames of WebSockets (one entry a frame)."""
    found = []
    for entry in read_traffic(run):
        headers = {name.lower(): value for name, value in entry["request"]["headers"]}
        if entry["kind"] == "http" and entry["request"]["method"] == "POST":
            events = [event.data for event in parse(entry["response"]["body"])]
            found.append(Exchange(headers, entry["request"]["body"], events))
        for frame in entry.get("messages", []):
            if frame["from"] == "client":
                found.append(Exchange(headers, frame["body"]))
            elif found:
                found[-1].events.append(frame["body"])
    return found


def by_header(exchanges: list[Exchange], name: str) -> dict[str | None, list[Exchange]]:
    """The exchanges grouped by one header's value (None where it is missing), in capture order."""
    groups: dict[str | None, list[Exchange]] = {}
    for exchange in exchanges:
        groups.setdefault(exchange.headers.get(name), []).append(exchange)
    return groups


def claude_tool_result_text(exchange: Exchange) -> str:
    """The text of the newest tool_result (Claude Code may add a system message after it)."""
    blocks = [block for message in exchange.body["messages"] if isinstance(message["content"], list)
              for block in message["content"] if block.get("type") == "tool_result"]  # fmt: skip
    block = blocks[-1]
    content = block["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def claude_answer(exchange: Exchange) -> tuple[str, str]:
    """(stop reason, text) of a streamed Messages answer."""
    [stop_reason] = [event["delta"]["stop_reason"] for event in exchange.events if event["type"] == "message_delta"]
    text = "".join(
        event["delta"].get("text", "") for event in exchange.events if event["type"] == "content_block_delta"
    )
    return stop_reason, text


def codex_outputs(exchange: Exchange) -> list[dict]:
    """The output items of a Responses answer (a warm-up has none)."""
    completed = [event for event in exchange.events if event.get("type") == "response.completed"]
    return completed[-1]["response"]["output"] if completed else []


def codex_metadata(exchange: Exchange) -> dict:
    return json.loads(exchange.headers["x-codex-turn-metadata"])
