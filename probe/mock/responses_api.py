"""Plans OpenAI Responses API event streams: a tool call first, then a final answer."""

import json
import time
from typing import Any

from probe.mock.wording import final_answer_text, harmless_call, new_id, split_words

# Harmless tools real agents declare, in order of preference, with arguments their schemas accept.
HARMLESS_CALLS = [
    ("sleep", {"duration_ms": 10}),
    (
        "update_plan",
        {"explanation": "Planning the answer.", "plan": [{"step": "Write the function", "status": "completed"}]},
    ),
    ("bash", {"command": "echo agent-probe tool call"}),  # opencode's shell tool
]
TOOL_OUTPUT_TYPES = {"function_call_output", "custom_tool_call_output"}


def declared_tools(request: dict) -> dict[str, str | None]:
    """Every function tool the request declares, in `tools` or inside `additional_tools` namespaces.

    Maps the tool name to its namespace (None at top level): a call to a namespaced tool must name
    its namespace, or codex answers "unsupported call".
    """
    found: dict[str, str | None] = {}

    def collect(tools: Any, namespace: str | None = None) -> None:
        for tool in tools if isinstance(tools, list) else []:
            if not isinstance(tool, dict):
                continue
            if tool.get("type") == "namespace":
                collect(tool.get("tools"), tool.get("name"))
            elif tool.get("type") == "function" and tool.get("name"):
                found.setdefault(tool["name"], namespace)

    collect(request.get("tools"))
    for item in request.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            collect(item.get("tools"))
    return found


def last_user_text(request: dict) -> str:
    """The text of the newest user message, which is the prompt for a fresh turn."""
    for item in reversed(request.get("input") or []):
        if isinstance(item, dict) and item.get("type", "message") == "message" and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            texts = [part.get("text", "") for part in content or [] if isinstance(part, dict)]
            return "\n".join(text for text in texts if text)
    return ""


def wants_final_answer(request: dict) -> bool:
    """True when the newest conversational input is a tool result, so the model should answer."""
    for item in reversed(request.get("input") or []):
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind in TOOL_OUTPUT_TYPES:
            return True
        if kind == "message" and item.get("role") == "user":
            return False
    # An incremental request with no user message continues a tool loop.
    return bool(request.get("previous_response_id"))


def choose_tool_call(request: dict) -> tuple[str, str | None, dict]:
    """Pick a harmless tool the agent declared: (name, namespace, arguments its schema accepts)."""
    tools = declared_tools(request)
    name, arguments = harmless_call(tools, HARMLESS_CALLS)
    return name, tools.get(name), arguments


def usage_for(request: dict, output_words: int, reasoning_tokens: int) -> dict:
    input_tokens = max(1, len(json.dumps(request)) // 4)
    output_tokens = output_words + reasoning_tokens
    cached = input_tokens // 2 if request.get("previous_response_id") else 0
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


class EventStream:
    """Builds the numbered events of one response."""

    def __init__(self, request: dict):
        self.request = request
        self.events: list[dict] = []
        self.output: list[dict] = []
        self.response = {
            "id": new_id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "in_progress",
            "model": request.get("model") or "gpt-mock",
            "previous_response_id": request.get("previous_response_id"),
            "output": [],
            "usage": None,
        }

    def emit(self, event_type: str, **fields: Any) -> None:
        self.events.append({"type": event_type, "sequence_number": len(self.events), **fields})

    def start(self) -> None:
        self.emit("response.created", response=dict(self.response))
        self.emit("response.in_progress", response=dict(self.response))

    def reasoning(self, summary: str) -> None:
        index, item_id = len(self.output), new_id("rs")
        self.emit(
            "response.output_item.added", output_index=index, item={"id": item_id, "type": "reasoning", "summary": []}
        )
        part = {"type": "summary_text", "text": ""}
        self.emit(
            "response.reasoning_summary_part.added", item_id=item_id, output_index=index, summary_index=0, part=part
        )
        for delta in split_words(summary):
            self.emit(
                "response.reasoning_summary_text.delta",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                delta=delta,
            )
        self.emit(
            "response.reasoning_summary_text.done", item_id=item_id, output_index=index, summary_index=0, text=summary
        )
        self.emit(
            "response.reasoning_summary_part.done",
            item_id=item_id,
            output_index=index,
            summary_index=0,
            part={"type": "summary_text", "text": summary},
        )
        item = {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]}
        self.emit("response.output_item.done", output_index=index, item=item)
        self.output.append(item)

    def function_call(self, name: str, namespace: str | None, arguments: dict) -> None:
        index, item_id = len(self.output), new_id("fc")
        call_id = new_id("call")
        text = json.dumps(arguments)
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id,
            "name": name,
        }
        if namespace:
            item["namespace"] = namespace
        self.emit("response.output_item.added", output_index=index, item=dict(item))
        self.emit("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=text)
        self.emit("response.function_call_arguments.done", item_id=item_id, output_index=index, arguments=text)
        item.update(status="completed", arguments=text)
        self.emit("response.output_item.done", output_index=index, item=item)
        self.output.append(item)

    def message(self, text: str) -> None:
        index, item_id = len(self.output), new_id("msg")
        item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        self.emit("response.output_item.added", output_index=index, item=dict(item))
        self.emit(
            "response.content_part.added",
            item_id=item_id,
            output_index=index,
            content_index=0,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        for delta in split_words(text):
            self.emit("response.output_text.delta", item_id=item_id, output_index=index, content_index=0, delta=delta)
        self.emit("response.output_text.done", item_id=item_id, output_index=index, content_index=0, text=text)
        part = {"type": "output_text", "text": text, "annotations": []}
        self.emit("response.content_part.done", item_id=item_id, output_index=index, content_index=0, part=part)
        item.update(status="completed", content=[part])
        self.emit("response.output_item.done", output_index=index, item=item)
        self.output.append(item)

    def complete(self, usage: dict | None) -> list[dict]:
        final = dict(self.response, status="completed", output=self.output, usage=usage)
        self.emit("response.completed", response=final)
        return self.events


def plan_events(request: dict, prompt_hint: str = "") -> list[dict]:
    """Decide the scenario from the request itself and return its events, ending in response.completed."""
    stream = EventStream(request)
    stream.start()
    if request.get("generate") is False:
        # codex's warm-up request: acknowledge it without producing output.
        return stream.complete(None)
    # No tools to call (opencode's title request, say): a model can only answer.
    if wants_final_answer(request) or not declared_tools(request):
        text = final_answer_text(prompt_hint or last_user_text(request))
        stream.message(text)
        return stream.complete(usage_for(request, len(split_words(text)), 0))
    name, namespace, arguments = choose_tool_call(request)
    stream.reasoning(f"The user asked for code. I will call {name} once before answering.")
    stream.function_call(name, namespace, arguments)
    return stream.complete(usage_for(request, 12, 24))
