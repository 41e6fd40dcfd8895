"""Plans OpenAI Responses API event streams: a tool call first, then a final answer."""

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

from probe.mock import code_mode, mcp_calls, subagents, tool_schemas
from probe.mock.agent_messages import TOOL_OUTPUT_TYPES, agent_task, output_text, outstanding, wait_call
from probe.mock.continuations import Counted, Memory
from probe.mock.tool_schemas import Choice, Tool
from probe.mock.wording import final_answer_text, new_id, split_words, summary_text, typed_words

# Harmless tools real agents declare, in order of preference, with arguments their schemas accept.
HARMLESS_CALLS = [
    ("sleep", {"duration_ms": 10}),
    (
        "update_plan",
        {"explanation": "Planning the answer.", "plan": [{"step": "Write the function", "status": "completed"}]},
    ),
    ("bash", {"command": "echo agent-probe tool call"}),  # opencode's shell tool; any other is found by schema
]
# codex's sub-agent tools, in the namespace `collaboration` (0.169.0's default) or `multi_agent_v1`.
SPAWN_TOOL, WAIT_TOOL = "spawn_agent", "wait_agent"
Call = tuple[str, str | None, dict]  # a function call: (name, namespace, arguments)


def function_tools(request: dict, kinds: tuple[str, ...] = ("function",)) -> Iterator[tuple[str | None, dict]]:
    """Every tool of `kinds` the request declares, in `tools` or inside `additional_tools` namespaces, with its
    namespace (None at top level)."""

    def walk(tools: Any, namespace: str | None = None) -> Iterator[tuple[str | None, dict]]:
        for tool in tools if isinstance(tools, list) else []:
            if not isinstance(tool, dict):
                continue
            if tool.get("type") == "namespace":
                yield from walk(tool.get("tools"), tool.get("name"))
            elif tool.get("type") in kinds and tool.get("name"):
                yield namespace, tool

    yield from walk(request.get("tools"))
    for item in request.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            yield from walk(item.get("tools"))


def declared_tools(request: dict) -> dict[str, str | None]:
    """Maps each declared function tool's name to its namespace: a call to a namespaced tool must name its
    namespace, or codex answers "unsupported call"."""
    found: dict[str, str | None] = {}
    for namespace, tool in function_tools(request):
        found.setdefault(tool["name"], namespace)
    return found


def asks_for_compaction(request: dict) -> bool:
    """True for a remote compaction: the input ends with a `compaction_trigger` item (codex 0.169.0's
    responses_compaction_v2), answered by exactly one `compaction` item."""
    items = request.get("input")
    return (
        isinstance(items, list)
        and bool(items)
        and isinstance(items[-1], dict)
        and (items[-1].get("type") == "compaction_trigger")
    )


def last_user_text(request: dict) -> str:
    """The text of the newest user message, which is the prompt for a fresh turn; for a sub-agent codex spawned,
    the task its parent sent it in an `agent_message`."""
    if isinstance(request.get("input"), str):  # the API takes a plain string as one user message
        return request["input"]
    for item in reversed(request.get("input") or []):
        if isinstance(item, dict) and item.get("type") == "agent_message":
            task = agent_task(item)
            if task is not None:
                return task
        if isinstance(item, dict) and item.get("type", "message") == "message" and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return typed_words([content])
            return typed_words([part.get("text", "") for part in content or [] if isinstance(part, dict)])
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


def tools_of(request: dict) -> list[Tool]:
    """The declared function tools with their parameters' schemas, each name once."""
    found: dict[str, Tool] = {}
    for namespace, tool in function_tools(request):
        schema = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
        found.setdefault(tool["name"], Tool(tool["name"], namespace, schema))
    return list(found.values())


def choice_of(request: dict) -> Choice:
    """The request's tool_choice: `none`, `auto`, `required`, a named function, or allowed tools with a mode."""
    choice = request.get("tool_choice")
    if choice in ("none", "auto", "required"):
        return Choice(choice)
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return Choice("required", choice["name"])
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools" and choice.get("mode") == "required":
        return Choice("required")
    return Choice()


def earlier_calls(request: dict, kind: str = "function_call") -> list[object]:
    """The arguments (a custom tool's input) of the calls the request's input holds (the model's earlier turns)."""
    items = [item for item in request.get("input") or [] if isinstance(item, dict)]
    field = "input" if kind == "custom_tool_call" else "arguments"
    return [item.get(field) for item in items if item.get("type") == kind]


def exec_runner(request: dict) -> code_mode.Runner | None:
    """codex's code-mode `exec` the request declares, with the MCP tools its description declares in full (see
    code_mode.runner_of)."""
    return code_mode.runner_of(list(function_tools(request, ("custom",))))


def mcp_call(request: dict, answering: bool, prompt: str, runner: code_mode.Runner | None) -> tuple[Tool, dict] | None:
    """The MCP step of this turn as codex takes it (see mcp_calls): a tool offered as a function is called as one;
    in code mode, exec's scripts list a deferred namespace's tools, then call one (see code_mode). `runner`: the exec
    the conversation declared, for a WebSocket follow-up, which does not declare its tools again."""
    functions = [tool for tool in tools_of(request) if mcp_calls.is_mcp(tool.name)]
    output = newest_tool_output(request)
    scripts = earlier_calls(request, "custom_tool_call")
    offer = code_mode.offer(request, exec_runner(request) or runner, functions,
                            output_text(output) if output else "", scripts)  # fmt: skip
    step = mcp_calls.next_step(offer, prompt, answering)
    if step is None or step.tool in functions:
        return None if step is None else (step.tool, step.arguments or {})
    return code_mode.exec_call(offer.search, step)


def choose_tool_call(
    request: dict, finish_command: str | None = None, prompt_hint: str = "", runner: code_mode.Runner | None = None
) -> tuple[Tool, dict] | None:
    """The call this turn makes, (tool, arguments its schema accepts), or None to answer in words. `prompt_hint`:
    the conversation's prompt when the request does not carry it; `runner`: see mcp_call."""
    finished = bool(finish_command) and tool_schemas.ran_before(earlier_calls(request), finish_command or "")
    answering, prompt = wants_final_answer(request), last_user_text(request) or prompt_hint
    return tool_schemas.decide(tools_of(request), choice_of(request), HARMLESS_CALLS, answering, finish_command,
                               finished, prompt, mcp_call(request, answering, prompt, runner))  # fmt: skip


def cached_head(request: dict) -> dict:
    """What the request sends afresh each time and a prompt cache's prefix starts with."""
    return {"instructions": request.get("instructions"), "tools": request.get("tools")}


def tool_properties(request: dict, name: str) -> dict:
    """The properties of a declared tool's parameters: which arguments its schema takes."""
    for _namespace, tool in function_tools(request):
        parameters = tool.get("parameters") if tool["name"] == name else None
        if isinstance(parameters, dict) and isinstance(parameters.get("properties"), dict):
            return parameters["properties"]
    return {}


def newest_tool_output(request: dict) -> dict | None:
    """The tool output the request answers with, when it is the newest conversational input."""
    for item in reversed(request.get("input") or []):
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind in TOOL_OUTPUT_TYPES:
            return item
        if kind == "message" and item.get("role") == "user":
            return None
    return None


def sub_agent_calls(request: dict, prompt_hint: str = "", waiting: int | None = None) -> list[Call]:
    """The next step of the sub-agent scenario, its calls (tool, namespace, arguments), or none when the request is
    not in it: spawn when a fresh prompt asks for sub-agents (several side by side, in one answer), then wait
    until every sub-agent spawned has reported. `waiting`: see outstanding (None: from this request alone)."""
    if not subagents.spawned_tasks(prompt_hint or last_user_text(request)):
        return []  # not in the scenario: planned as before
    waiting = outstanding(request) if waiting is None else waiting
    output = newest_tool_output(request)
    if output is not None:
        wait = wait_call(output)
        if waiting and not wait:  # a wait that woke for one of several: wait for the rest
            wait = ("multi_agent_v1" if "multi_agent_v1" in declared_tools(request).values() else "collaboration", {})
        return [(WAIT_TOOL, *wait)] if wait and waiting else []
    # The newest user message, not the turn's first prompt: a later turn (a sub-agent's report) spawns none.
    spawns = subagents.spawned_tasks(last_user_text(request))
    declared = declared_tools(request)
    if not spawns or SPAWN_TOOL not in declared:
        return []
    named = "task_name" in tool_properties(request, SPAWN_TOOL)
    # collaboration names each task, and by default forks the parent's history into the child: without it the
    # child's input holds only its own task.
    return [
        (SPAWN_TOOL, declared[SPAWN_TOOL],
         {"task_name": spawn.name, "message": spawn.task, "fork_turns": "none"} if named else {"message": spawn.task})
        for spawn in spawns
    ]  # fmt: skip


def usage_for(counted: Counted, output_words: int, reasoning_tokens: int) -> dict:
    """The whole context as input (on a continuation, the earlier context too), of which the cache read what the
    request shares with the answer it continues."""
    input_tokens = counted.input_tokens
    output_tokens = output_words + reasoning_tokens
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": counted.cached_tokens},
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

    def custom_tool_call(self, name: str, namespace: str | None, text: str) -> None:
        """A call to a free-text tool (codex's exec): its input streamed as text."""
        index, item_id = len(self.output), new_id("ctc")
        item = {"id": item_id, "type": "custom_tool_call", "status": "in_progress", "call_id": new_id("call"),
                "name": name, "input": ""}  # fmt: skip
        if namespace:
            item["namespace"] = namespace
        self.emit("response.output_item.added", output_index=index, item=dict(item))
        self.emit("response.custom_tool_call_input.delta", item_id=item_id, output_index=index, delta=text)
        self.emit("response.custom_tool_call_input.done", item_id=item_id, output_index=index, input=text)
        item.update(status="completed", input=text)
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

    def compaction(self, summary: str) -> None:
        """The one `compaction` item a remote compaction answers with: the history summed up, opaque to the client
        (the real API encrypts it; the mock's is the summary in base64)."""
        index, item_id = len(self.output), new_id("cmp")
        item = {"id": item_id, "type": "compaction", "encrypted_content": base64.b64encode(summary.encode()).decode()}
        self.emit("response.output_item.added", output_index=index, item=dict(item))
        self.emit("response.output_item.done", output_index=index, item=item)
        self.output.append(item)

    def complete(self, usage: dict | None) -> list[dict]:
        final = dict(self.response, status="completed", output=self.output, usage=usage)
        self.emit("response.completed", response=final)
        return self.events


def plan_events(
    request: dict,
    prompt_hint: str = "",
    counted: Counted | None = None,
    finish_command: str | None = None,
    waiting: int | None = None,
    runner: code_mode.Runner | None = None,
) -> list[dict]:
    """Decide the scenario from the request itself and return its events, ending in response.completed.
    `counted`: the input as the server counts it (Memory.count); `finish_command`: see tool_schemas.decide;
    `waiting`: the sub-agents not yet reported (outstanding; None: counted from this request alone); `runner`:
    the code-mode exec the conversation declared (see mcp_call)."""
    counted = counted or Memory().count(None, cached_head(request), request.get("input"))
    stream = EventStream(request)
    stream.start()
    if request.get("generate") is False:
        # codex's warm-up request: acknowledge it without producing output.
        return stream.complete(None)
    if asks_for_compaction(request):
        summary = summary_text(prompt_hint or last_user_text(request))
        stream.compaction(summary)
        return stream.complete(usage_for(counted, len(split_words(summary)), 0))
    calls = sub_agent_calls(request, prompt_hint, waiting)
    if calls:
        name = calls[0][0]
        wording = f"I will call {name}." if len(calls) == 1 else f"I will call {name} {len(calls)} times at once."
        stream.reasoning(f"The task asks for a sub-agent. {wording}")
        for name, namespace, arguments in calls:
            stream.function_call(name, namespace, arguments)
        return stream.complete(usage_for(counted, 12 * len(calls), 24))
    call = choose_tool_call(request, finish_command, prompt_hint, runner)
    # No call to make (opencode's title request, say, or a tool's result to answer): the model answers.
    if call is None:
        text = final_answer_text(prompt_hint or last_user_text(request))
        stream.message(text)
        return stream.complete(usage_for(counted, len(split_words(text)), 0))
    tool, arguments = call
    stream.reasoning(f"The user asked for code. I will call {tool.name} once before answering.")
    if tool.kind == "custom":
        stream.custom_tool_call(tool.name, tool.namespace, str(arguments.get("input", "")))
    else:
        stream.function_call(tool.name, tool.namespace, arguments)
    return stream.complete(usage_for(counted, 12, 24))
