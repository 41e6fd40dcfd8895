"""Writes codex-shaped captures for benchmarks: growing HTTP conversations plus WebSocket sessions.

Each HTTP request re-sends the whole history plus codex's ~60 KB of tools and developer messages (taken
from the bundled HTTP sample, so the shape is real), and each answer is an SSE stream from the mock's
planner. Every fifth conversation is a WebSocket session whose later requests carry only new items.
"""

import argparse
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.mock import responses_api  # noqa: E402  (after the path set-up above)


def template_request() -> dict:
    """codex's first request of a turn, from the bundled HTTP sample."""
    [sample] = sorted(PROJECT_ROOT.glob("data/codex/*-sample-http/traffic.jsonl"))
    for line in sample.open():
        entry = json.loads(line)
        if entry["request"]["method"] == "POST":
            return entry["request"]["body"]
    raise SystemExit(f"{sample} holds no POST")


def sse(events: list[dict]) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def http_entry(number: int, body: dict, events: list[dict]) -> dict:
    text = sse(events)
    start = 1_795_000_000.0 + number
    return {
        "schema": 1,
        "kind": "http",
        "id": f"flow-{number}",
        "proxy": "model",
        "complete": True,
        "error": None,
        "timing": {"start": start, "first_byte": start + 0.004, "end": start + 0.2},
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/responses",
            "path": "/v1/responses",
            "headers": [["content-type", "application/json"], ["authorization", "[REDACTED sha256:00000000]"]],
            "body": body,
            "body_format": "json",
        },
        "response": {
            "status": 200,
            "headers": [["content-type", "text/event-stream"]],
            "body": text,
            "body_format": "text",
            "body_size": len(text),
        },
    }


def websocket_entry(number: int, seq: int, frame: dict, events: list[dict]) -> dict:
    start = 1_795_000_000.0 + number
    messages = [{"from": "client", "t": start, "type": "text", "body": frame, "body_format": "json"}]
    messages += [
        {"from": "server", "t": start + 0.001 * index, "type": "text", "body": event, "body_format": "json"}
        for index, event in enumerate(events, start=1)
    ]
    return {
        "schema": 1,
        "kind": "websocket",
        "id": f"socket-{number}:{seq}",
        "flow_id": f"socket-{number}",
        "seq": seq,
        "proxy": "model",
        "complete": True,
        "ended_by": "terminal-event",
        "error": None,
        "timing": {"start": start, "first_byte": start + 0.001, "end": start + 0.1},
        "request": {
            "method": "GET",
            "url": "https://api.openai.com/v1/responses",
            "path": "/v1/responses",
            "headers": [],
        },
        "response": {"status": 101, "headers": []},
        "messages": messages,
    }


def user_message(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def conversation(template: dict, turns: int, first_number: int, websocket: bool):
    """Yield the lines of one conversation of `turns` request/response rounds."""
    history = list(template["input"])
    previous_id = None
    for turn in range(turns):
        if turn % 2 == 0:
            new_items = [user_message(f"Turn {turn}: please extend the hello world function, step {turn}.")]
        else:
            call = next(item for item in reversed(history) if item.get("type") == "function_call")
            # Real tool results are command output and file contents: a few kilobytes each.
            output = "".join(
                f"{turn:04d}:{line:04d}  def step_{line}(): return {line} * {turn}\n" for line in range(100)
            )
            new_items = [{"type": "function_call_output", "call_id": call["call_id"], "output": output}]
        history += new_items
        body = dict(template, input=list(history))
        events = responses_api.plan_events(body)
        outputs = events[-1]["response"]["output"]
        number = first_number + turn
        if websocket:
            frame = dict(template, type="response.create", input=history if previous_id is None else new_items)
            if previous_id:
                frame["previous_response_id"] = previous_id
            yield websocket_entry(first_number, turn, frame, events)
        else:
            yield http_entry(number, body, events)
        previous_id = events[-1]["response"]["id"]
        history += outputs


def generate(path: Path, megabytes: float, turns: int) -> int:
    """Write conversations until the file reaches `megabytes`; return the number of lines."""
    template = template_request()
    limit, written, lines = megabytes * 1e6, 0, 0
    with path.open("w", encoding="utf-8") as out:
        index = 0
        while written < limit:
            for entry in conversation(template, turns, lines + 1, websocket=index % 5 == 4):
                text = json.dumps(entry, separators=(",", ":")) + "\n"
                out.write(text)
                written += len(text)
                lines += 1
                if written >= limit:
                    break
            index += 1
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--megabytes", type=float, default=10)
    parser.add_argument("--turns", type=int, default=20, help="rounds per conversation")
    args = parser.parse_args()
    lines = generate(args.output, args.megabytes, args.turns)
    print(f"{args.output}: {lines} lines, {args.output.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
