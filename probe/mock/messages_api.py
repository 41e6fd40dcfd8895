"""Plans Anthropic Messages API answers: a tool_use turn first, then a final answer to its tool_result."""

import json
import uuid
from typing import Any

from probe.common.counting import counted
from probe.mock import mcp_calls, subagents, tool_schemas
from probe.mock.tool_schemas import Choice, Tool
from probe.mock.wording import final_answer_text, new_id, split_words, tagged_summary, typed_words

# Harmless tools Claude Code declares, in order of preference, with input their schemas accept; any shell-like
# tool is found by its schema. `echo` is on Claude Code's read-only list, so it runs without a permission prompt.
HARMLESS_CALLS = [
    ("Bash", {"command": "echo agent-probe tool call", "description": "Print a marker line"}),
    ("ToolSearch", {"query": "select:WebFetch", "max_results": 1}),
]
SPAWN_TOOL = "Agent"  # Claude Code's sub-agent tool
# Claude Code's tool search, and the list of deferred tools it searches, one name a line after this heading.
SEARCH_TOOL = "ToolSearch"
DEFERRED_HEADING = "The following deferred tools are now available via ToolSearch."
SIDE_MODEL = "haiku"  # the model the last of several side-by-side sub-agents asks for, where the tool offers it


def blocks(message: Any) -> list[dict]:
    """A message's content as a list of blocks (a plain string is one text block)."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or [] if isinstance(block, dict)]


def user_prompt(request: dict) -> str:
    """The user's own words: the first user message's text, without Claude Code's system reminders or any other
    context block (wording.typed_words)."""
    for message in request.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            return typed_words([block.get("text", "") for block in blocks(message) if block.get("type") == "text"])
    return ""


def wants_final_answer(request: dict) -> bool:
    """True when the newest user message carries a tool_result, so the model should answer."""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return any(block.get("type") == "tool_result" for block in blocks(message))
    return False


def newest_user_text(request: dict) -> str:
    """All the text of the newest user message, context blocks and instructions included."""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return "\n".join(str(block.get("text", "")) for block in blocks(message) if block.get("type") == "text")
    return ""


def declared_tools(request: dict) -> set[str]:
    return {tool.get("name") for tool in request.get("tools") or [] if isinstance(tool, dict)}


def tools_of(request: dict) -> list[Tool]:
    """The declared client tools the model sees (server tools, such as web search, have no input_schema), each name
    once. A tool marked `defer_loading` is seen only once a tool_result has referenced it (a tool search's answer)."""
    loaded = referenced_tools(request)
    found: dict[str, Tool] = {}
    for tool in request.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("name"), str) and isinstance(tool.get("input_schema"), dict):
            if tool.get("defer_loading") is True and tool["name"] not in loaded:
                continue
            found.setdefault(tool["name"], Tool(tool["name"], None, tool["input_schema"]))
    return list(found.values())


def referenced_tools(request: dict) -> set[str]:
    """The tools the conversation's tool results reference (`tool_reference` blocks: what a tool search loaded)."""
    return {
        part.get("tool_name")
        for message in request.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "user"
        for block in blocks(message)
        if block.get("type") == "tool_result" and isinstance(block.get("content"), list)
        for part in block["content"]
        if isinstance(part, dict) and part.get("type") == "tool_reference"
    }


def deferred_names(request: dict) -> list[str]:
    """The tools Claude Code lists by name only, for its tool search: the lines after DEFERRED_HEADING in the
    system prompt or a message, up to the first blank line."""
    texts = [block.get("text", "") for block in blocks({"content": request.get("system")})]
    for message in request.get("messages") or []:
        texts += [str(block.get("text", "")) for block in blocks(message) if block.get("type") == "text"]
    names: list[str] = []
    for text in texts:
        start = text.find(DEFERRED_HEADING)
        if start < 0:
            continue
        lines = text[start:].split("\n")[1:]
        for line in lines:
            if not line.strip():
                break
            names.append(line.strip())
    return names


def newest_calls(request: dict) -> list[str]:
    """The names of the tools the newest assistant turn called."""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return [block.get("name") for block in blocks(message) if block.get("type") == "tool_use"]
    return []


def mcp_call(request: dict, answering: bool) -> tuple[Tool, dict] | None:
    """The MCP step of this turn as Claude Code takes it (see mcp_calls): a deferred tool is loaded with ToolSearch
    (`select:<name>`), then called on the next turn."""
    tools = tools_of(request)
    offered = [tool for tool in tools if mcp_calls.is_mcp(tool.name)]
    search = next((tool for tool in tools if tool.name == SEARCH_TOOL), None)
    called = any(mcp_calls.is_mcp(str(block.get("name"))) for block in tool_uses(request))
    offer = mcp_calls.McpOffer(
        tools=tuple(offered),
        deferred=tuple(name for name in deferred_names(request) if mcp_calls.is_mcp(name)),
        search=search,
        searched=SEARCH_TOOL in newest_calls(request),
        called=called,
    )
    step = mcp_calls.next_step(offer, user_prompt(request), answering)
    if step is None:
        return None
    if step.kind == "call" and step.tool is not None:
        return step.tool, step.arguments or {}
    if search is None:
        return None
    return search, tool_schemas.arguments_for(search.schema, {"query": f"select:{step.name}", "max_results": 1})


def tool_uses(request: dict) -> list[dict]:
    """Every tool_use block of the conversation's assistant turns."""
    return [
        block
        for message in request.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "assistant"
        for block in blocks(message)
        if block.get("type") == "tool_use"
    ]


def choice_of(request: dict) -> Choice:
    """tool_choice: `auto`, `any` (some tool), `tool` (the one named) or `none`."""
    choice = request.get("tool_choice")
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "tool" and isinstance(choice.get("name"), str):
        return Choice("required", choice["name"])
    return Choice({"any": "required", "none": "none"}.get(kind or "", "auto"))


def earlier_calls(request: dict) -> list[object]:
    """The input of every tool_use in the conversation's assistant turns."""
    return [block.get("input") for block in tool_uses(request)]


def choose_tool_call(request: dict, finish_command: str | None = None) -> tuple[str, dict] | None:
    """The call this turn makes, (name, input its schema accepts), or None to answer in words."""
    finished = bool(finish_command) and tool_schemas.ran_before(earlier_calls(request), finish_command or "")
    answering = wants_final_answer(request) or spawned_before(request)
    decided = tool_schemas.decide(tools_of(request), choice_of(request), HARMLESS_CALLS, answering,
                                  finish_command, finished, user_prompt(request),
                                  mcp_call(request, answering))  # fmt: skip
    return None if decided is None else (decided[0].name, decided[1])


def spawned_before(request: dict) -> bool:
    """True once the conversation holds a call to the sub-agent tool: a background sub-agent's report comes back
    in a later user turn, which must be answered, not spawn another."""
    return any(block.get("name") == SPAWN_TOOL for block in tool_uses(request))


def spawn_calls(request: dict) -> list[dict]:
    """The sub-agent tool's inputs, one a sub-agent, when the prompt asks for sub-agents and the agent offers the
    tool; several go in one answer, side by side."""
    if SPAWN_TOOL not in declared_tools(request):
        return []
    # In the foreground the tool_result carries the sub-agent's report, so the run takes one path every time.
    calls = [
        {"description": spawn.description, "prompt": spawn.task, "run_in_background": False}
        for spawn in subagents.spawned_tasks(user_prompt(request))
    ]
    if len(calls) > 1 and SIDE_MODEL in spawn_models(request):
        # The last of several side by side runs on another model, so that a run has sub-agents on different
        # models (each measured against its own model's context window).
        calls[-1]["model"] = SIDE_MODEL
    return calls


def spawn_models(request: dict) -> list:
    """The models the sub-agent tool's schema lets a call pick (its `model` enum), if any."""
    tool = next((tool for tool in tools_of(request) if tool.name == SPAWN_TOOL), None)
    properties = tool.schema.get("properties") if tool is not None else None
    choice = properties.get("model") if isinstance(properties, dict) else None
    models = choice.get("enum") if isinstance(choice, dict) else None
    return models if isinstance(models, list) else []


def estimate_tokens(value: Any) -> int:
    return len(json.dumps(value)) // 4 if value else 0


def prefix_tokens(request: dict) -> int:
    """The system prompt and tools: the prefix a prompt cache holds."""
    return estimate_tokens(request.get("system")) + estimate_tokens(request.get("tools"))


def usage_for(request: dict, output_tokens: int) -> dict:
    """Plausible usage: the cached prefix is written once and read after."""
    prefix = prefix_tokens(request)
    rest = max(1, estimate_tokens(request.get("messages")))
    follow_up = len(request.get("messages") or []) > 1 and wants_final_answer(request)
    return {
        "input_tokens": rest,
        "cache_creation_input_tokens": 0 if follow_up else prefix,
        "cache_read_input_tokens": prefix if follow_up else 0,
        "output_tokens": output_tokens,
    }


class EventStream:
    """Builds the SSE events of one streamed message, block by block."""

    def __init__(self, request: dict):
        self.request = request
        self.events: list[dict] = []
        self.content: list[dict] = []
        self.message = {
            "id": new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": request.get("model") or "claude-mock",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
        }

    def start(self, usage: dict) -> None:
        opening = dict(usage, output_tokens=1)
        self.events.append({"type": "message_start", "message": dict(self.message, usage=opening)})
        self.events.append({"type": "ping"})

    def block(self, start: dict, deltas: list[dict], final: dict) -> None:
        index = len(self.content)
        self.events.append({"type": "content_block_start", "index": index, "content_block": start})
        for delta in deltas:
            self.events.append({"type": "content_block_delta", "index": index, "delta": delta})
        self.events.append({"type": "content_block_stop", "index": index})
        self.content.append(final)

    def thinking(self, text: str) -> None:
        signature = uuid.uuid4().hex * 2
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in split_words(text)]
        deltas.append({"type": "signature_delta", "signature": signature})
        self.block(
            {"type": "thinking", "thinking": "", "signature": ""},
            deltas,
            {"type": "thinking", "thinking": text, "signature": signature},
        )

    def text(self, text: str) -> None:
        deltas = [{"type": "text_delta", "text": piece} for piece in split_words(text)]
        self.block({"type": "text", "text": ""}, deltas, {"type": "text", "text": text})

    def tool_use(self, name: str, arguments: dict) -> None:
        block_id, encoded = new_id("toolu"), json.dumps(arguments)
        # Real streams cut tool input anywhere, even inside a string; so does the mock.
        middle = len(encoded) // 2
        parts = ("", encoded[:middle], encoded[middle:])
        deltas = [{"type": "input_json_delta", "partial_json": part} for part in parts]
        self.block(
            {"type": "tool_use", "id": block_id, "name": name, "input": {}},
            deltas,
            {"type": "tool_use", "id": block_id, "name": name, "input": arguments},
        )

    def finish(self, stop_reason: str, usage: dict) -> list[dict]:
        self.events.append(
            {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage}
        )
        self.events.append({"type": "message_stop"})
        return self.events

    def as_message(self, stop_reason: str, usage: dict) -> dict:
        """The same answer as one JSON message, for requests with `stream: false`."""
        return dict(self.message, content=self.content, stop_reason=stop_reason, usage=usage)


def plan(request: dict, finish_command: str | None = None) -> tuple[EventStream, str, dict]:
    """Decide the scenario from the request itself: (built stream, stop reason, final usage)."""
    stream = EventStream(request)
    summary = tagged_summary(newest_user_text(request), user_prompt(request))
    if summary is not None:  # a compaction: the summary it asks for, never a tool call
        usage = usage_for(request, len(split_words(summary)))
        stream.start(usage)
        stream.text(summary)
        return stream, "end_turn", usage
    spawns = [] if wants_final_answer(request) or spawned_before(request) else spawn_calls(request)
    calls = [(SPAWN_TOOL, spawn) for spawn in spawns] or [choose_tool_call(request, finish_command)]
    if calls == [None]:
        text = final_answer_text(user_prompt(request))
        usage = usage_for(request, len(split_words(text)))
        stream.start(usage)
        stream.text(text)
        return stream, "end_turn", usage
    usage = usage_for(request, 40 * len(calls))
    stream.start(usage)
    name = calls[0][0]
    if len(calls) == 1:
        stream.thinking(f"The user asked for code. I will call {name} once before answering.")
        stream.text(f"Let me run {name} first.")
    else:  # side by side in one answer, as a model asks for calls that can run at once
        stream.thinking(f"The task needs {counted(len(calls), 'call')} of {name}, which can run at once.")
        stream.text(f"Let me run {name} {len(calls)} times at once.")
    for name, arguments in calls:
        stream.tool_use(name, arguments)
    return stream, "tool_use", usage


def plan_events(request: dict, finish_command: str | None = None) -> list[dict]:
    """The SSE events of a streamed answer, from message_start to message_stop."""
    stream, stop_reason, usage = plan(request, finish_command)
    return stream.finish(stop_reason, usage)


def plan_message(request: dict, finish_command: str | None = None) -> dict:
    """A non-streamed answer."""
    stream, stop_reason, usage = plan(request, finish_command)
    return stream.as_message(stop_reason, usage)


def count_tokens(request: dict) -> dict:
    return {"input_tokens": max(1, prefix_tokens(request) + estimate_tokens(request.get("messages")))}
