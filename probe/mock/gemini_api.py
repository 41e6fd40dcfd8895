"""Plans Gemini API answers: a functionCall first, then a final answer to its functionResponse."""

import base64
import json
import os
from typing import Any

from probe.mock import mcp_calls, tool_schemas
from probe.mock.tool_schemas import Choice, Tool
from probe.mock.wording import final_answer_text, new_id, split_words, typed_words

# Harmless tools gemini-cli declares, in order of preference, with arguments their schemas accept.
# run_shell_command is declared only with --yolo; list_directory always is, and reads nothing private.
HARMLESS_CALLS = [
    ("run_shell_command", {"command": "echo agent-probe tool call"}),
    ("list_directory", {"dir_path": "."}),
]
SCHEMA_KEYS = ("parametersJsonSchema", "parameters_json_schema", "parameters")
THOUGHT = "**Planning the answer**\n\nThe user asked for code. I will call {name} once before answering."


def parts_of(content: Any) -> list[dict]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts or [] if isinstance(part, dict)]


def user_contents(request: dict) -> list[dict]:
    """The contents the user side sent (`function` is the role older clients give tool results)."""
    contents = request.get("contents") or []
    return [
        content for content in contents if isinstance(content, dict) and content.get("role") in ("user", "function")
    ]


def user_prompt(request: dict) -> str:
    """The user's own words: the newest user text, which is the prompt (gemini-cli sends its session context
    in an earlier user content)."""
    for content in reversed(user_contents(request)):
        texts = [
            part["text"] for part in parts_of(content) if isinstance(part.get("text"), str) and not part.get("thought")
        ]
        if texts:
            return typed_words(texts)
    return ""


def wants_final_answer(request: dict) -> bool:
    """True when the newest user content carries a functionResponse, so the model should answer."""
    contents = user_contents(request)
    return bool(contents) and any("functionResponse" in part for part in parts_of(contents[-1]))


def declared_functions(request: dict) -> set[str]:
    return {tool.name for tool in tools_of(request)}


def tools_of(request: dict) -> list[Tool]:
    """The function declarations, with their schemas (`parametersJsonSchema`, or the OpenAPI-style `parameters`);
    the SDKs send them in snake_case as well."""
    found: dict[str, Tool] = {}
    for tool in request.get("tools") or []:
        declarations = (
            (tool.get("functionDeclarations") or tool.get("function_declarations")) if isinstance(tool, dict) else None
        )
        for declaration in declarations or []:
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str) and declaration["name"]:
                schemas = [declaration.get(key) for key in SCHEMA_KEYS]
                schema = next((each for each in schemas if isinstance(each, dict)), {})
                found.setdefault(declaration["name"], Tool(declaration["name"], None, schema))
    return list(found.values())


def choice_of(request: dict) -> Choice:
    """toolConfig.functionCallingConfig: mode ANY (with allowed names, one of them) or NONE; else AUTO."""
    config = request.get("toolConfig") or request.get("tool_config")
    calling = (
        config.get("functionCallingConfig") or config.get("function_calling_config")
        if isinstance(config, dict)
        else None
    )
    if not isinstance(calling, dict):
        return Choice()
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = calling.get("allowedFunctionNames") or calling.get("allowed_function_names")
    if mode == "ANY":
        return Choice("required", allowed[0] if isinstance(allowed, list) and len(allowed) == 1 else None)
    return Choice("none" if mode == "NONE" else "auto")


def function_calls(request: dict) -> list[dict]:
    """The functionCalls in the conversation's model turns."""
    contents = [content for content in request.get("contents") or [] if isinstance(content, dict)]
    calls = [
        part.get("functionCall") for content in contents if content.get("role") == "model" for part in parts_of(content)
    ]
    return [call for call in calls if isinstance(call, dict)]


def earlier_calls(request: dict) -> list[object]:
    """The arguments of the functionCalls in the conversation's model turns."""
    return [call.get("args") for call in function_calls(request)]


def choose_tool_call(request: dict, finish_command: str | None = None) -> tuple[str, dict] | None:
    """The call this turn makes, (name, arguments its schema accepts), or None to answer in words."""
    finished = bool(finish_command) and tool_schemas.ran_before(earlier_calls(request), finish_command or "")
    tools, answering, prompt = tools_of(request), wants_final_answer(request), user_prompt(request)
    names = [str(call.get("name")) for call in function_calls(request)]
    mcp = mcp_calls.offered_call(tools, names, prompt, answering)
    decided = tool_schemas.decide(tools, choice_of(request), HARMLESS_CALLS, answering, finish_command, finished,
                                  prompt, mcp)  # fmt: skip
    return None if decided is None else (decided[0].name, decided[1])


def estimate_tokens(value: Any) -> int:
    return len(json.dumps(value)) // 4 if value else 0


def usage_for(request: dict, candidates: int, thoughts: int = 0) -> dict:
    """Plausible usage: the system instruction and tools are cached implicitly once the session is going."""
    prompt = max(1, estimate_tokens(request))
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    if any(isinstance(content, dict) and content.get("role") == "model" for content in request.get("contents") or []):
        usage["cachedContentTokenCount"] = min(prompt, estimate_tokens(request.get("systemInstruction")))
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = prompt + candidates + thoughts
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return usage


def thought_signature() -> str:
    """Opaque bytes as base64, as the API sends them: the agent must send them back untouched."""
    return base64.b64encode(os.urandom(96)).decode()


class Chunks:
    """Builds the GenerateContentResponse chunks of one streamed answer."""

    def __init__(self, model: str):
        self.model, self.response_id = model, new_id("resp")
        self.chunks: list[dict] = []
        self.parts: list[dict] = []  # the whole answer, for `:generateContent`

    def add(self, *parts: dict) -> None:
        self.chunks.append(self.response([{"content": {"role": "model", "parts": list(parts)}, "index": 0}]))
        self.parts += parts

    def response(self, candidates: list[dict]) -> dict:
        return {"candidates": candidates, "modelVersion": self.model, "responseId": self.response_id}

    def finish(self, usage: dict) -> list[dict]:
        """The last chunk says why the answer ended and how many tokens it took."""
        candidate = self.chunks[-1]["candidates"][0]
        candidate["finishReason"] = "STOP"
        self.chunks[-1]["usageMetadata"] = usage
        return self.chunks

    def whole(self, usage: dict) -> dict:
        """The same answer as one response, for `:generateContent`."""
        parts: list[dict] = []
        for part in self.parts:  # a whole answer holds its text in one part, not in the stream's pieces
            if parts and set(part) == {"text"} and set(parts[-1]) == {"text"}:
                parts[-1] = {"text": parts[-1]["text"] + part["text"]}
            else:
                parts.append(part)
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        return self.response([candidate]) | {"usageMetadata": usage}


def plan(request: dict, model: str, finish_command: str | None = None) -> tuple[Chunks, dict]:
    """Decide the scenario from the request itself: (built chunks, final usage)."""
    chunks = Chunks(model)
    call = choose_tool_call(request, finish_command)
    if call is None:
        text = final_answer_text(user_prompt(request))
        for piece in split_words(text):
            chunks.add({"text": piece})
        return chunks, usage_for(request, len(split_words(text)))
    name, arguments = call
    thought = THOUGHT.format(name=name)
    chunks.add({"text": thought, "thought": True})
    chunks.add({"text": f"Let me run {name} first."})
    call = {"name": name, "args": arguments, "id": new_id("call")}
    # The real API signs the first function call of a turn; gemini-cli sends the signature back with it.
    chunks.add({"functionCall": call, "thoughtSignature": thought_signature()})
    return chunks, usage_for(request, 20, len(split_words(thought)))


def plan_chunks(request: dict, model: str, finish_command: str | None = None) -> list[dict]:
    """The GenerateContentResponse objects of a streamed answer (`:streamGenerateContent?alt=sse`)."""
    chunks, usage = plan(request, model, finish_command)
    return chunks.finish(usage)


def schema_of(request: dict) -> Any:
    config = request.get("generationConfig") if isinstance(request.get("generationConfig"), dict) else {}
    return config.get("responseJsonSchema") or config.get("responseSchema")


def schema_answer(schema: Any) -> Any:
    """A value matching a response schema: every required property filled, an enum with its first value."""
    if not isinstance(schema, dict):
        return {}
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else list(properties)
        return {name: schema_answer(properties.get(name, {"type": "string"})) for name in required}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        # Scores are often checked to be at least 1 by the agent, whether the schema says so or not.
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, (int, float)) and not isinstance(minimum, bool) else 1
    if kind == "boolean":
        return False
    return "A simple, bounded request (agent-probe mock model)."


def plan_response(request: dict, model: str, finish_command: str | None = None) -> dict:
    """One GenerateContentResponse, for `:generateContent` (gemini-cli's routing call asks for JSON by schema)."""
    config = request.get("generationConfig") if isinstance(request.get("generationConfig"), dict) else {}
    if schema_of(request) is not None or config.get("responseMimeType") == "application/json":
        chunks = Chunks(model)
        text = json.dumps(schema_answer(schema_of(request)))
        chunks.add({"text": text})
        return chunks.whole(usage_for(request, max(1, len(text) // 4)))
    chunks, usage = plan(request, model, finish_command)
    return chunks.whole(usage)
