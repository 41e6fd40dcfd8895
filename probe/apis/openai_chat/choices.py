"""A Chat Completions choice as its chunks' deltas build it (text, reasoning, tool calls), its usage, and tool
arguments parsed."""

import json
from typing import Any

from probe.common import fastjson
from probe.read.conversation import (
    Item,
    Part,
    Turn,
    Usage,
    integer,
    read_usage,
    requests_by_tool,
    server_tool_uses,
    text_or_none,
)

# Streamed text fields, joined from their pieces; `reasoning` is what some servers name reasoning_content, and
# `thinking` holds the text of Mistral's thinking chunks (content as a list of chunks).
THINKING = "thinking"
DELTA_TEXTS = {
    "reasoning_content": "reasoning",
    "reasoning": "reasoning",
    THINKING: "reasoning",
    "content": "text",
    "refusal": "text",
}


def is_text_chunk(chunk: Any) -> bool:
    """A streamed content chunk of Mistral's that this reader joins: text, or thinking made of text chunks."""
    if not isinstance(chunk, dict):
        return False
    if chunk.get("type") == "text":
        return isinstance(chunk.get("text"), str)
    inner = chunk.get(THINKING)
    return chunk.get("type") == THINKING and isinstance(inner, list) and all(map(is_text_chunk, inner))


def chunk_text(chunk: dict) -> str:
    return chunk["text"] if chunk["type"] == "text" else "".join(map(chunk_text, chunk[THINKING]))


def read_function_call(call: dict) -> Part:
    """The legacy `function_call`: a call without an id, answered by a `function` message naming it."""
    extra = {key: value for key, value in call.items() if key not in ("name", "arguments")}
    name, arguments = text_or_none(call.get("name")), fastjson.parsed(call.get("arguments"))
    return Part("tool_call", "function_call", name=name, arguments=arguments, raw=extra or None)


class Choice:
    """One choice as its deltas build it: texts joined from pieces, tool calls by their `index`."""

    def __init__(self, index: Any = 0) -> None:
        self.role: str | None = None
        self.texts: dict[str, list[str]] = {}  # reasoning_content, content, refusal…: pieces in order
        self.calls: dict[Any, dict] = {}  # index -> {id, type, name, arguments pieces, other fields}
        self.function_call: dict | None = None  # the legacy single call
        self.other: dict = {}  # fields a delta carries that this reader does not know, joined or listed
        self.fields: dict = {"index": index}  # the choice's own fields: index, finish_reason, logprobs…
        self.finished = False

    def add(self, choice: dict, turn: Turn) -> None:
        for key, value in choice.items():
            if key == "usage" and isinstance(value, dict):
                turn.usage = usage_of(value)  # Moonshot streams the usage in the last choice, not beside it
            elif key == "logprobs" and value is not None:
                self.fields.setdefault("logprobs", []).append(value)
            elif key not in ("index", "delta", "logprobs") and (value is not None or key not in self.fields):
                self.fields[key] = value
        self.finished = self.finished or choice.get("finish_reason") is not None
        delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
        for key, value in delta.items():
            if value is None:
                continue  # servers send `content: null` beside a tool call delta: nothing arrived
            if key == "role":
                self.role = str(value)
            elif key in DELTA_TEXTS and isinstance(value, str):
                self.texts.setdefault(key, []).append(value)
            elif key == "content" and isinstance(value, list) and all(map(is_text_chunk, value)):
                for chunk in value:  # Mistral's: text chunks, and its reasoning as `thinking` chunks of text
                    self.texts.setdefault(THINKING if chunk["type"] == THINKING else key, []).append(chunk_text(chunk))
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    self.call(call, turn)
            elif key == "function_call" and isinstance(value, dict):
                self.function_call = self.function_call or {"arguments": []}
                merge_call(self.function_call, value, "arguments")
            else:
                if key not in self.other:
                    turn.unrecognised.append(f"delta field {key}")
                joined = self.other.setdefault(key, "" if isinstance(value, str) else [])
                self.other[key] = joined + value if isinstance(joined, str) else [*joined, value]

    def call(self, call: Any, turn: Turn) -> None:
        if not isinstance(call, dict):
            turn.unrecognised.append(f"tool call delta that is {type(call).__name__}")
            return
        # A delta names its call by `index`; a server that sends no index sends each call whole, by id.
        key = call.get("index", call.get("id", len(self.calls)))
        key = key if isinstance(key, (int, str)) and not isinstance(key, bool) else str(key)
        kind = str(call.get("type") or self.calls.get(key, {}).get("type") or "function")
        built = self.calls.setdefault(key, {"type": kind, "pieces": []})
        if call.get("id") not in (None, ""):  # some servers send `"id": ""` with every later fragment
            built["id"] = call["id"]
        built.update({name: value for name, value in call.items() if name not in ("index", "id", "type", kind)})
        if isinstance(call.get(kind), dict):
            merge_call(built, call[kind], "input" if kind == "custom" else "arguments", pieces="pieces")

    def item(self, answer: dict, ended: bool = False) -> Item:
        """The choice as one message; `answer` holds the fields its chunks carried beside the choices, and
        `ended` says the stream reached its end, so that every part of the choice is whole."""
        complete = self.finished or ended
        parts = []
        for key, pieces in self.texts.items():
            part_type = "text" if key == "content" else key
            parts.append(Part(DELTA_TEXTS[key], part_type, text="".join(pieces), complete=complete))
        parts.sort(key=lambda part: part.kind != "reasoning")  # reasoning first, as it came
        for built in self.calls.values():
            kind = built["type"]
            rest = {key: value for key, value in built.items() if key not in ("type", "id", "name", "pieces")}
            parts.append(
                Part(
                    "tool_call",
                    kind,
                    name=text_or_none(built.get("name")),
                    call_id=text_or_none(built.get("id")),
                    arguments=fastjson.parsed("".join(built["pieces"])),
                    raw=rest or None,
                    complete=complete,
                )
            )
        if self.function_call is not None:
            call = self.function_call
            part = read_function_call({"name": call.get("name"), "arguments": "".join(call["arguments"])})
            part.complete = complete
            parts.append(part)
        return Item(
            type="message", role=self.role or "assistant", parts=parts, metadata=self.fields | answer | self.other
        )


def merge_call(built: dict, piece: dict, field: str, pieces: str = "arguments") -> None:
    """Fold one delta of a call into what arrived before: its input text is joined; its name, which some servers
    repeat in every delta, is kept once."""
    for key, value in piece.items():
        if key == field:
            built.setdefault(pieces, []).append(value if isinstance(value, str) else json.dumps(value))
        elif key == "name":
            if value and not built.get("name"):
                built["name"] = value
        elif value is not None:
            built[key] = value


def usage_of(usage: dict) -> Usage:
    """The prompt count includes the cached tokens, and the completion count the reasoning tokens, except where the
    total says the reasoning was counted apart (see reasoning_apart): the output then adds it. Moonshot counts the
    cached tokens as the usage's own `cached_tokens`, read where `prompt_tokens_details` does not say them. Where the
    API ran web searches itself, it counts them as `num_search_queries` (Perplexity) or in `server_tool_use`
    (gateways that follow Anthropic's usage)."""
    reasoning = "completion_tokens_details.reasoning_tokens"
    counted = read_usage(
        usage,
        input=("prompt_tokens",),
        output=("completion_tokens", reasoning) if reasoning_apart(usage) else ("completion_tokens",),
        cache_read=("cached_tokens" if cached_beside(usage) else "prompt_tokens_details.cached_tokens",),
        reasoning=(reasoning,),
    )
    searches = ("web_search", usage.get("num_search_queries"))
    counted.server_tools = server_tool_uses([*requests_by_tool(usage.get("server_tool_use")).items(), searches])
    return counted


def cached_beside(usage: dict) -> bool:
    """Whether the cached tokens are the usage's own `cached_tokens` (Moonshot's), not prompt_tokens_details'."""
    details = usage.get("prompt_tokens_details")
    return "cached_tokens" in usage and not (isinstance(details, dict) and "cached_tokens" in details)


def reasoning_apart(usage: dict) -> bool:
    """Whether the completion count leaves the reasoning out, as xAI's does: its total is the prompt, the completion
    and the reasoning added up, where OpenAI's is the prompt and the completion (which holds the reasoning)."""
    details = usage.get("completion_tokens_details")
    named = ("prompt_tokens", "completion_tokens", "total_tokens")
    counts = [integer(usage.get(name)) for name in named]
    counts.append(integer(details.get("reasoning_tokens")) if isinstance(details, dict) else None)
    if None in counts:
        return False
    prompt, completion, total, reasoning = counts
    return bool(reasoning) and prompt + completion + reasoning == total
