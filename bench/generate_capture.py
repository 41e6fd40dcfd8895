"""Writes captures for benchmarks, in four shapes (--shape):

- codex: growing HTTP conversations plus WebSocket sessions. Each HTTP request re-sends the whole history plus
  codex's ~60 KB of tools and developer messages (taken from the bundled HTTP sample, so the shape is real), and
  each answer is an SSE stream from the mock's planner. Every fifth conversation is a WebSocket session whose
  later requests carry only new items.
- deltas: short Responses API requests, each answered by a stream of 2,000 tiny text deltas.
- growing: Messages API sessions of 200 turns, each request carrying the whole history so far (a tool call and
  its result a turn), each answer a short SSE stream.
- items: hostile Responses API requests of 100,000 tiny input items each (about 5 MB), none re-sent, each
  answered by one event: the analyzer's memory should follow the largest exchange, not how many there are.
- events: hostile exchanges whose answer streams 1,000,000 tiny text deltas (a line of about 143 MB each): memory
  should follow the line's bytes, not its events.
- agents: hostile runs of one-exchange agents, each request naming an agent of its own (20,000 of them make about
  30 MB): report.html should stay under 25 MB however many turns there are.
"""

import argparse
import functools
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.mock import responses_api  # noqa: E402  (after the path set-up above)


@functools.cache
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


def http_entry(number: int, body: dict, events: list[dict], text: str | None = None, url: str = "") -> dict:
    text = sse(events) if text is None else text
    url = url or "https://api.openai.com/v1/responses"
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
            "url": url,
            "path": "/" + url.split("/", 3)[3],
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


DELTAS = 2000  # text deltas per streamed answer in the `deltas` shape
GROWING_TURNS = 200  # turns per session in the `growing` shape


def delta_exchange(number: int) -> dict:
    """A short request answered by DELTAS tiny text deltas, as the Responses API streams them."""
    response_id, item_id = f"resp_{number:08d}", f"msg_{number:08d}"
    body = {"model": "gpt-5", "stream": True, "input": [user_message(f"Question {number}: count to {DELTAS}.")]}
    words = [f"w{index} " for index in range(DELTAS)]
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "".join(words), "annotations": []}]}  # fmt: skip
    usage = {"input_tokens": 20, "output_tokens": DELTAS, "total_tokens": 20 + DELTAS}
    events = [
        {"type": "response.created", "response": {"id": response_id, "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**item, "content": [], "status": "in_progress"}},
        *({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0, "content_index": 0,
           "delta": word} for word in words),
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed",
         "response": {"id": response_id, "status": "completed", "output": [item], "usage": usage}},
    ]  # fmt: skip
    return http_entry(number, body, events)


def growing_session(first_number: int):
    """One Messages API session of GROWING_TURNS turns: each request re-sends the whole history, and each answer
    calls a tool whose result the next request adds."""
    tools = [{"name": "Bash", "description": "Run a shell command.",
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]  # fmt: skip
    history = [{"role": "user", "content": [{"type": "text", "text": "Please build the project and fix errors."}]}]
    for turn in range(GROWING_TURNS):
        number, tool_id = first_number + turn, f"toolu_{first_number:06d}_{turn:04d}"
        body = {"model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": True, "system": "You are a coder.",
                "tools": tools, "messages": list(history)}  # fmt: skip
        command = json.dumps({"command": f"make step-{turn}"})
        events = [
            {"type": "message_start", "message": {"id": f"msg_{number:08d}", "type": "message", "role": "assistant",
             "model": "claude-sonnet-4-5", "content": [], "stop_reason": None,
             "usage": {"input_tokens": 100 + 40 * turn, "output_tokens": 1}}},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"Step {turn}: "}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "running make."}},
            {"type": "content_block_stop", "index": 0},
            {"type": "content_block_start", "index": 1,
             "content_block": {"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}},
            {"type": "content_block_delta", "index": 1,
             "delta": {"type": "input_json_delta", "partial_json": command[:10]}},
            {"type": "content_block_delta", "index": 1,
             "delta": {"type": "input_json_delta", "partial_json": command[10:]}},
            {"type": "content_block_stop", "index": 1},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 30}},
            {"type": "message_stop"},
        ]  # fmt: skip
        text = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
        yield http_entry(number, body, events, text, "https://api.anthropic.com/v1/messages")
        output = "".join(f"src/step_{turn}/file_{line}.c:{line}: warning: unused variable\n" for line in range(6))
        history += [
            {"role": "assistant", "content": [{"type": "text", "text": f"Step {turn}: running make."},
                                              {"type": "tool_use", "id": tool_id, "name": "Bash",
                                               "input": {"command": f"make step-{turn}"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": output}]},
        ]  # fmt: skip


def many_items_exchange(number: int) -> dict:
    """A hostile request: ITEMS_PER_REQUEST tiny input items, none re-sent from an earlier request."""
    items = [{"role": "user", "content": f"tiny {number} {index}"} for index in range(ITEMS_PER_REQUEST)]
    body = {"model": "gpt-5-codex", "input": items, "stream": True}
    events = [{"type": "response.completed", "response": {"id": f"resp_{number:08d}", "status": "completed"}}]
    return http_entry(number, body, events)


EVENTS_PER_ANSWER = 1_000_000  # tiny deltas of one streamed answer in the `events` shape


def many_events_exchange(number: int, events: int = EVENTS_PER_ANSWER) -> dict:
    """A hostile answer: `events` tiny text deltas (143 bytes each), streamed as one body."""
    response_id, item_id = f"resp_{number:08d}", f"msg_{number:08d}"
    body = {"model": "gpt-5", "stream": True, "input": [user_message(f"Question {number}: count on and on.")]}
    usage = {"input_tokens": 20, "output_tokens": events, "total_tokens": 20 + events}
    opening = {"type": "response.created", "response": {"id": response_id, "status": "in_progress", "output": []}}
    closing = {"type": "response.completed", "response": {"id": response_id, "status": "completed", "usage": usage}}
    delta = (
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"%s",'
        '"output_index":0,"content_index":0,"delta":"w%d "}\n\n'
    )
    text = "".join(delta % (item_id, index) for index in range(events))
    return http_entry(number, body, [], sse([opening]) + text + sse([closing]))


def agent_exchange(number: int) -> dict:
    """A hostile run's exchange: one request of an agent of its own, with its parent named, answered briefly."""
    tools = [{"name": "Bash", "description": "Run a shell command.", "input_schema": {"type": "object"}}]
    task = {"role": "user", "content": f"Task {number}: look at file_{number}.c"}
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": True, "system": "You are a sub-agent.",
            "tools": tools, "messages": [task]}  # fmt: skip
    events = [
        {"type": "message_start", "message": {"id": f"msg_{number:08d}", "type": "message", "role": "assistant",
         "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 40, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"Done {number}."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        {"type": "message_stop"},
    ]  # fmt: skip
    text = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    entry = http_entry(number, body, events, text, "https://api.anthropic.com/v1/messages")
    entry["request"]["headers"] += [["x-claude-code-agent-id", f"agent-{number:06d}"],
                                    ["x-claude-code-parent-agent-id", f"agent-{number - 1:06d}"]]  # fmt: skip
    return entry


def entries(shape: str, turns: int, first_number: int, index: int):
    """The lines of the `index`th conversation of a shape, numbered from `first_number`."""
    if shape == "items":
        return [many_items_exchange(first_number)]
    if shape == "events":
        return [many_events_exchange(first_number)]
    if shape == "agents":
        return [agent_exchange(first_number)]
    if shape == "deltas":
        return [delta_exchange(first_number)]
    if shape == "growing":
        return growing_session(first_number)
    return conversation(template_request(), turns, first_number, websocket=index % 5 == 4)


SHAPES = ("codex", "deltas", "growing", "items", "events", "agents")
# Whose renderer reads each shape.
TARGETS = {"codex": "codex", "deltas": "codex", "growing": "claude-code", "items": "codex", "events": "codex",
           "agents": "claude-code"}  # fmt: skip
ITEMS_PER_REQUEST = 100_000  # about 5 MB of request: memory should follow it, not the number of such requests


def generate(path: Path, megabytes: float, turns: int, shape: str = "codex") -> int:
    """Write conversations until the file reaches `megabytes`; return the number of lines."""
    limit, written, lines = megabytes * 1e6, 0, 0
    with path.open("w", encoding="utf-8") as out:
        index = 0
        while written < limit:
            for entry in entries(shape, turns, lines + 1, index):
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
    parser.add_argument("--turns", type=int, default=20, help="rounds per codex conversation")
    parser.add_argument("--shape", choices=SHAPES, default="codex")
    args = parser.parse_args()
    lines = generate(args.output, args.megabytes, args.turns, args.shape)
    print(f"{args.output}: {lines} lines, {args.output.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
