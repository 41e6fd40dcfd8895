"""Plans Mistral's chat completions answers: the same scenario as OpenAI Chat Completions, in the shape Mistral's
API and its SDK (mistralai) give it."""

import json
import secrets
import string
import time
import uuid

from probe.mock import chat_api
from probe.mock.wording import split_words

# The mistralai SDK names itself `mistral-client-python/<version>` (or -typescript): its requests are answered in
# Mistral's shape, which the SDK validates (a streamed tool call must carry its name in every delta).
SDK_AGENT = "mistral-client-"
ID_ALPHABET = string.ascii_letters + string.digits
TOOL_CALL_ID_LENGTH = 9  # Mistral's tool call ids: nine letters and digits, no prefix


# Mistral Vibe's fetch of the settings an organisation enforces (its vibe_base_url + this path, with the key): the
# answer of an organisation that enforces none.
MANAGED_CONFIG = "/api/v1/code/managed-config"
NO_MANAGED_CONFIG = {"state": "no_config", "toml": None}


def side_answer(path: str) -> dict | None:
    """The answer to a call Mistral's clients make besides the model's, or None for any other path."""
    return NO_MANAGED_CONFIG if path.endswith(MANAGED_CONFIG) else None


def speaks_mistral(headers: dict[str, str]) -> bool:
    return headers.get("user-agent", "").lower().startswith(SDK_AGENT)


def tool_call_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(TOOL_CALL_ID_LENGTH))


def thinks(request: dict) -> bool:
    """A request asking for reasoning (`reasoning_effort` other than "none") is answered with a thinking chunk."""
    effort = request.get("reasoning_effort")
    return isinstance(effort, str) and effort != "none"


def thinking_chunk(request: dict) -> dict:
    """Mistral's reasoning, a content chunk of its own holding text chunks."""
    topic = chat_api.user_prompt(request).strip().splitlines()
    said = f"The user asks: {topic[0][:120]}." if topic else "The user asks for help."
    return {"type": "thinking", "thinking": [{"type": "text", "text": said}]}


def usage(request: dict, completion_tokens: int) -> dict:
    """Mistral's usage: the three counts, and the cached input in prompt_tokens_details (no completion details)."""
    counted = chat_api.usage_for(request, completion_tokens)
    cached = counted["prompt_tokens_details"]["cached_tokens"]
    return {
        "prompt_tokens": counted["prompt_tokens"],
        "total_tokens": counted["total_tokens"],
        "completion_tokens": counted["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def plan_chunks(request: dict, finish_command: str | None = None) -> list[dict]:
    """The `chat.completion.chunk` objects of a streamed answer (the server ends the stream with [DONE]): text in
    pieces, a tool call whole in one delta (Mistral sends it once it is generated), and the last chunk, with the
    finish_reason, carrying the usage (always sent: Mistral has no stream_options)."""
    text, call = chat_api.plan(request, finish_command)
    head = {"id": uuid.uuid4().hex, "object": "chat.completion.chunk", "created": int(time.time())}
    head["model"] = request.get("model") or "mistral-mock"

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        return head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    completion_tokens = len(split_words(text))
    if thinks(request):
        thought = thinking_chunk(request)
        chunks.append(chunk({"content": [thought]}))
        completion_tokens += len(split_words(thought["thinking"][0]["text"]))
    chunks += [chunk({"content": piece}) for piece in split_words(text)]
    if call is None:
        last = chunk({"content": ""}, "stop")
    else:
        function, encoded = tool_call(call)
        last = chunk({"content": "", "tool_calls": [{"id": tool_call_id(), "function": function, "index": 0}]})
        last["choices"][0]["finish_reason"] = "tool_calls"
        completion_tokens += len(encoded) // 4
    return [*chunks, last | {"usage": usage(request, completion_tokens)}]


def tool_call(call: tuple[str, dict]) -> tuple[dict, str]:
    name, arguments = call
    encoded = json.dumps(arguments)
    return {"name": name, "arguments": encoded}, encoded


def plan_completion(request: dict, finish_command: str | None = None) -> dict:
    """One `chat.completion` object, for a request that does not ask for a stream."""
    text, call = chat_api.plan(request, finish_command)
    completion_tokens = len(split_words(text))
    content: str | list = text
    if thinks(request):
        thought = thinking_chunk(request)
        content = [thought, {"type": "text", "text": text}]
        completion_tokens += len(split_words(thought["thinking"][0]["text"]))
    message = {"role": "assistant", "content": content, "tool_calls": None, "prefix": False}
    finish_reason = "stop"
    if call is not None:
        function, encoded = tool_call(call)
        message["tool_calls"] = [{"id": tool_call_id(), "type": "function", "function": function, "index": 0}]
        finish_reason = "tool_calls"
        completion_tokens += len(encoded) // 4
    return {
        "id": uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or "mistral-mock",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage(request, completion_tokens),
    }
