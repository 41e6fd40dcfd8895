"""The exchanges of a generated session for the lake's benchmark, in each API's own shape: a text answer or a tool
call, the tool's result in the next request, and a sub-agent's exchanges, named by the headers its agent sends
(Claude Code's agent id, codex's thread ids) and by the spawning call's result, as the analysis finds them."""

import json
from dataclasses import dataclass

from generate_capture import http_entry

TOOL_EVERY = 3  # every third turn of a main agent the model calls a tool; the next request carries its result
SUB_TURNS = 6  # the exchanges of a session's one sub-agent (Claude Code and codex sessions have one)
SPAWN_TOOLS = {"claude-code": "Task", "codex": "spawn_agent"}
URLS = {
    "claude-code": "https://api.anthropic.com/v1/messages",
    "codex": "https://api.openai.com/v1/responses",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/models/{model}:streamGenerateContent?alt=sse",
}


@dataclass(frozen=True)
class Call:
    """A tool call the model made: its id, tool and arguments."""

    call_id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class Ask:
    """What one request sends and how it is answered: the agent's instructions, its tools, the model, the usage the
    answer reports (uncached input, cache read, cache write, output) and the answer (a text, or a call)."""

    instructions: str
    tools: list[str]
    model: str
    usage: tuple[int, int, int, int]
    text: str
    call: Call | None
    headers: tuple[tuple[str, str], ...] = ()


def exchange(target: str, number: int, ask: Ask, history: list[dict]) -> dict:
    """The exchange's entry (its times set by the caller), the answer added to `history`."""
    entry = {"claude-code": messages, "codex": responses, "gemini": gemini}[target](number, ask, history)
    entry["request"]["headers"] += [list(header) for header in ask.headers]
    return entry


def messages(number: int, ask: Ask, history: list[dict]) -> dict:
    tools = [{"name": name, "description": f"The {name} tool.", "input_schema": {"type": "object"}}
             for name in ask.tools]  # fmt: skip
    body = {"model": ask.model, "max_tokens": 32000, "stream": True, "tools": tools,
            "system": [{"type": "text", "text": ask.instructions}], "messages": list(history)}  # fmt: skip
    fresh, read, write, output = ask.usage
    if ask.call:
        block = {"type": "tool_use", "id": ask.call.call_id, "name": ask.call.name, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(ask.call.arguments)}
        content = [{**block, "input": ask.call.arguments}]
    else:
        block, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": ask.text}
        content = [{"type": "text", "text": ask.text}]
    events = [
        {"type": "message_start", "message": {"id": f"msg_{number}", "type": "message", "role": "assistant",
         "model": ask.model, "content": [], "stop_reason": None,
         "usage": {"input_tokens": fresh, "cache_read_input_tokens": read, "cache_creation_input_tokens": write,
                   "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use" if ask.call else "end_turn"},
         "usage": {"output_tokens": output}},
        {"type": "message_stop"},
    ]  # fmt: skip
    history.append({"role": "assistant", "content": content})
    return http_entry(number, body, events, None, URLS["claude-code"])


def responses(number: int, ask: Ask, history: list[dict]) -> dict:
    tools = [{"type": "function", "name": name, "description": f"The {name} tool.", "parameters": {"type": "object"}}
             for name in ask.tools]  # fmt: skip
    body = {"model": ask.model, "stream": True, "instructions": ask.instructions, "tools": tools,
            "input": list(history)}  # fmt: skip
    fresh, read, write, output = ask.usage
    if ask.call:
        item = {"id": f"fc_{number}", "type": "function_call", "status": "completed", "call_id": ask.call.call_id,
                "name": ask.call.name, "arguments": json.dumps(ask.call.arguments)}  # fmt: skip
        kept = {key: item[key] for key in ("type", "call_id", "name", "arguments")}
    else:
        item = {"id": f"msg_{number}", "type": "message", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": ask.text, "annotations": []}]}  # fmt: skip
        kept = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": ask.text}]}
    tokens = {"input_tokens": fresh + read + write, "input_tokens_details": {"cached_tokens": read},
              "output_tokens": output, "total_tokens": fresh + read + write + output}  # fmt: skip
    response = {"id": f"resp_{number}", "status": "completed", "model": ask.model}
    events = [
        {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": {**response, "output": [item], "usage": tokens}},
    ]
    history.append(kept)
    return http_entry(number, body, events, None, URLS["codex"])


def gemini(number: int, ask: Ask, history: list[dict]) -> dict:
    tools = [{"functionDeclarations": [{"name": name, "description": f"The {name} tool."} for name in ask.tools]}]
    body = {"contents": list(history), "tools": tools,
            "systemInstruction": {"role": "user", "parts": [{"text": ask.instructions}]}}  # fmt: skip
    fresh, read, write, output = ask.usage
    part = {"functionCall": {"name": ask.call.name, "args": ask.call.arguments}} if ask.call else {"text": ask.text}
    total = fresh + read + write
    chunk = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
             "modelVersion": ask.model, "responseId": f"resp_{number}",
             "usageMetadata": {"promptTokenCount": total, "cachedContentTokenCount": read,
                               "candidatesTokenCount": output, "totalTokenCount": total + output}}  # fmt: skip
    history.append({"role": "model", "parts": [part]})
    return http_entry(number, body, [], f"data: {json.dumps(chunk)}\n\n", URLS["gemini"].format(model=ask.model))


def user_turn(target: str, text: str) -> dict:
    """A message of the user's (or of the parent agent's, to a sub-agent) in the target's API."""
    if target == "claude-code":
        return {"role": "user", "content": [{"type": "text", "text": text}]}
    if target == "codex":
        return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"role": "user", "parts": [{"text": text}]}


def tool_result(target: str, call: Call, text: str) -> dict:
    """The result of `call` as the agent sends it back in its next request."""
    if target == "claude-code":
        return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.call_id, "content": text}]}
    if target == "codex":
        return {"type": "function_call_output", "call_id": call.call_id, "output": text}
    return {"role": "user", "parts": [{"functionResponse": {"name": call.name, "response": {"output": text}}}]}


def spawn_result(target: str, agent: str) -> str:
    """The spawning call's result, naming the sub-agent as each agent's does."""
    return f"Done: the code is explored.\nagentId: {agent} (ran)" if target == "claude-code" else json.dumps(
        {"agent_id": agent, "status": "completed"})  # fmt: skip


def agent_headers(target: str, agent: str | None, parent: str | None) -> tuple[tuple[str, str], ...]:
    """The headers naming the agent that sent a request (`agent` None: the main one, `parent` its parent's)."""
    if target == "claude-code":
        return (("x-claude-code-agent-id", agent),) if agent else ()
    if target == "codex":
        return (("thread-id", agent or parent),) + ((("x-codex-parent-thread-id", parent),) if agent else ())
    return ()
