"""Plans OpenAI Chat Completions answers: a tool call first, then a final answer to its tool result."""

import itertools
import json
import re
import time
import uuid
from typing import Any

from probe.mock import mcp_calls, tool_schemas
from probe.mock.tool_schemas import Choice, Tool
from probe.mock.wording import final_answer_text, new_id, split_words, typed_words

# Harmless tools agents declare, in order of preference, by name (any other shell-like tool is found by its
# schema); the arguments are fitted to the declared schema.
HARMLESS_CALLS = [
    ("run_shell_command", {"command": "echo agent-probe tool call"}),
    ("bash", {"command": "echo agent-probe tool call"}),
]
RESULT_ROLES = {"tool", "function"}  # `function` is the legacy role of a tool result


def completion_id() -> str:
    """An id shaped like the API's own (`chatcmpl-` and a hyphen, where tool call ids take `call_`)."""
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def messages_of(request: dict) -> list[dict]:
    return [message for message in request.get("messages") or [] if isinstance(message, dict)]


def texts(message: dict) -> list[str]:
    """A message's text: its string content, or its text parts."""
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    return [
        str(part.get("text", "")) for part in content or [] if isinstance(part, dict) and part.get("type") == "text"
    ]


def user_prompt(request: dict) -> str:
    """The newest user message's own words, without the context blocks agents add to it (wording.typed_words)."""
    for message in reversed(messages_of(request)):
        if message.get("role") == "user":
            return typed_words(texts(message))
    return ""


def first_user_prompt(request: dict) -> str:
    """The first user message's own words: the task, in a conversation whose later user messages are results."""
    for message in messages_of(request):
        if message.get("role") == "user":
            return typed_words(texts(message))
    return ""


def wants_final_answer(request: dict) -> bool:
    """True when the newest message is a tool result, so the model should answer."""
    messages = messages_of(request)
    return bool(messages) and messages[-1].get("role") in RESULT_ROLES


def assistant_spoke(request: dict) -> bool:
    """Whether the conversation holds an answer of the model's already."""
    return any(message.get("role") == "assistant" for message in messages_of(request))


def declared_tools(request: dict) -> set[str]:
    """Function names declared in `tools`, or in the legacy `functions` list."""
    return {tool.name for tool in tools_of(request)}


def tools_of(request: dict) -> list[Tool]:
    """The functions declared in `tools`, or in the legacy `functions` list, with their parameters' schemas."""
    functions = [tool.get("function") for tool in request.get("tools") or [] if isinstance(tool, dict)]
    functions += list(request.get("functions") or [])
    found: dict[str, Tool] = {}
    for function in functions:
        if isinstance(function, dict) and isinstance(function.get("name"), str) and function["name"]:
            schema = function.get("parameters") if isinstance(function.get("parameters"), dict) else {}
            found.setdefault(function["name"], Tool(function["name"], None, schema))
    return list(found.values())


def choice_of(request: dict) -> Choice:
    """tool_choice (`none`, `auto`, `required`, or one function), or the legacy function_call."""
    choice = request.get("tool_choice", request.get("function_call"))
    if choice in ("none", "auto", "required"):
        return Choice(choice)
    function = choice.get("function", choice) if isinstance(choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return Choice("required", function["name"])
    return Choice()


def earlier_calls(request: dict) -> list[object]:
    """The arguments of the calls in the conversation's assistant messages."""
    calls: list[object] = []
    for message in messages_of(request):
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                calls.append(call.get("function") if isinstance(call, dict) else None)
            calls.append(message.get("function_call"))
    return [call for call in calls if call]


# Qwen Code's deferred tools: named in a reminder (`- "mcp__<server>__<tool>": "<description>"` lines), their
# declarations reviewed with tool_search (`select:<name>`, answered in a <functions> block), then called through
# tool_call ({name, arguments}), the tool list never changing.
SEARCH_TOOL, CALL_TOOL = "tool_search", "tool_call"
DEFERRED_LINE = re.compile(r'^- "([^"\n]{1,200})":', re.MULTILINE)
FUNCTION_BLOCK = re.compile(r"<function>(\{.*?\})</function>", re.DOTALL)


def tool_calls(request: dict) -> list[dict]:
    """Every tool call of the conversation's assistant messages: {name, arguments (decoded when JSON)}."""
    found = []
    for message in messages_of(request):
        for call in message.get("tool_calls") or [] if message.get("role") == "assistant" else []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except (TypeError, ValueError):
                    arguments = None
                found.append({"name": str(function.get("name")), "arguments": arguments})
    return found


def reviewed_tools(request: dict) -> list[Tool]:
    """The tools the newest tool result declares in a <functions> block (what tool_search answered)."""
    messages = messages_of(request)
    newest = messages[-1] if messages and messages[-1].get("role") in RESULT_ROLES else {}
    found = []
    for block in FUNCTION_BLOCK.findall("\n".join(texts(newest))[:1_000_000]):
        try:
            declaration = json.loads(block)
        except ValueError:
            continue
        name = declaration.get("name") if isinstance(declaration, dict) else None
        schemas = [declaration.get(key) for key in ("parametersJsonSchema", "parameters")] if name else []
        schema = next((each for each in schemas if isinstance(each, dict)), {})
        if isinstance(name, str):
            found.append(Tool(name, None, schema))
    return found


def mcp_call(request: dict, tools: list[Tool], prompt: str, answering: bool) -> tuple[Tool, dict] | None:
    """The MCP step of this turn (see mcp_calls): a tool declared in full is called; one Qwen Code defers is
    reviewed with tool_search, then called through tool_call."""
    by_name = {tool.name: tool for tool in tools}
    calls = tool_calls(request)
    called = any(mcp_calls.is_mcp(call["name"]) for call in calls) or any(
        call["name"] == CALL_TOOL and isinstance(call["arguments"], dict)
        and mcp_calls.is_mcp(str(call["arguments"].get("name"))) for call in calls
    )  # fmt: skip
    searched = answering and bool(calls) and calls[-1]["name"] == SEARCH_TOOL
    deferred = [name for text in (t for m in messages_of(request) for t in texts(m))
                for name in DEFERRED_LINE.findall(text[:1_000_000]) if mcp_calls.is_mcp(name)]  # fmt: skip
    reviewed = reviewed_tools(request) if searched else []
    offered = [tool for tool in tools if mcp_calls.is_mcp(tool.name)] + reviewed
    offer = mcp_calls.McpOffer(tuple(offered), tuple(deferred), by_name.get(SEARCH_TOOL), searched, called)
    step = mcp_calls.next_step(offer, prompt, answering)
    if step is None:
        return None
    if step.kind == "search":
        search = by_name[SEARCH_TOOL]
        return search, tool_schemas.arguments_for(search.schema, {"query": f"select:{step.name}", "max_results": 1})
    if step.name in by_name or step.tool is None:
        return (step.tool, step.arguments or {}) if step.tool is not None else None
    runner = by_name.get(CALL_TOOL)
    return (runner, {"name": step.name, "arguments": step.arguments or {}}) if runner is not None else None


def legacy(request: dict) -> bool:
    """A request that declares only the legacy `functions` is answered with the legacy `function_call`."""
    return bool(request.get("functions")) and not request.get("tools")


def choose_tool_call(request: dict, finish_command: str | None = None) -> tuple[str, dict] | None:
    """The call this turn makes, (name, arguments its schema accepts), or None to answer in words."""
    calls = earlier_calls(request)
    finished = bool(finish_command) and tool_schemas.ran_before(calls, finish_command or "")
    tools, answering, prompt = tools_of(request), wants_final_answer(request), user_prompt(request)
    # An agent that ends only through its answer tool and sends tool results back as the user's words (smolagents:
    # "Observation: …") has had its call once it has spoken: the model then answers, through that tool.
    if not answering and tool_schemas.answer_call(tools, "") is not None and assistant_spoke(request):
        answering, prompt = True, first_user_prompt(request)  # the answer is to the task, not to the observation
    mcp = mcp_call(request, tools, prompt, answering)
    decided = tool_schemas.decide(tools, choice_of(request), HARMLESS_CALLS, answering, finish_command, finished,
                                  prompt, mcp)  # fmt: skip
    return None if decided is None else (decided[0].name, decided[1])


def usage_for(request: dict, completion_tokens: int) -> dict:
    """Plausible usage: a follow-up finds its re-sent prefix in the prompt cache."""
    prompt_tokens = max(1, len(json.dumps([request.get("messages"), request.get("tools")])) // 4)
    cached = prompt_tokens // 2 if wants_final_answer(request) else 0
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def plan(request: dict, finish_command: str | None = None) -> tuple[str, tuple[str, dict] | None]:
    """The scenario, from the request itself: (the text to say, the tool call to make or None)."""
    call = choose_tool_call(request, finish_command)
    if call is None:
        return final_answer_text(user_prompt(request)), None
    return f"Let me run {call[0]} first.", call


def plan_chunks(request: dict, finish_command: str | None = None) -> list[dict]:
    """The `chat.completion.chunk` objects of a streamed answer (the server ends the stream with [DONE])."""
    text, call = plan(request, finish_command)
    include_usage = isinstance(request.get("stream_options"), dict) and request["stream_options"].get("include_usage")
    head = {"id": completion_id(), "object": "chat.completion.chunk", "created": int(time.time())}
    head["model"] = request.get("model") or "gpt-mock"
    # With include_usage every chunk carries `usage: null`, and one more chunk, without choices, the counts.
    head |= {"usage": None} if include_usage else {}

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        return head | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": piece}) for piece in split_words(text)]
    if call is None:
        chunks.append(chunk({}, "stop"))
        completion_tokens = len(split_words(text))
    else:
        name, arguments = call
        encoded = json.dumps(arguments)
        # Real servers cut the arguments anywhere, even inside a key or a string; so does the mock.
        cuts = [0, len(encoded) // 3, 2 * len(encoded) // 3, len(encoded)]
        pieces = [encoded[start:end] for start, end in itertools.pairwise(cuts)]
        if legacy(request):
            chunks.append(chunk({"function_call": {"name": name, "arguments": ""}}))
            chunks += [chunk({"function_call": {"arguments": piece}}) for piece in pieces]
            chunks.append(chunk({}, "function_call"))
        else:
            opening = {
                "index": 0,
                "id": new_id("call"),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            chunks.append(chunk({"tool_calls": [opening]}))
            chunks += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}) for piece in pieces]
            chunks.append(chunk({}, "tool_calls"))
        completion_tokens = len(split_words(text)) + len(encoded) // 4
    if include_usage:
        chunks.append(head | {"choices": [], "usage": usage_for(request, completion_tokens)})
    return chunks


def plan_completion(request: dict, finish_command: str | None = None) -> dict:
    """One `chat.completion` object, for a request that does not ask for a stream."""
    text, call = plan(request, finish_command)
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    completion_tokens = len(split_words(text))
    finish_reason = "stop"
    if call is not None:
        name, arguments = call
        encoded = json.dumps(arguments)
        if legacy(request):
            message["function_call"], finish_reason = {"name": name, "arguments": encoded}, "function_call"
        else:
            function = {"name": name, "arguments": encoded}
            message["tool_calls"] = [{"id": new_id("call"), "type": "function", "function": function}]
            finish_reason = "tool_calls"
        completion_tokens += len(encoded) // 4
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or "gpt-mock",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage_for(request, completion_tokens),
    }
