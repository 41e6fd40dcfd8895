"""Which API an exchange speaks, from its path and the shape of its bodies, whatever target the run names."""

import json
import sys
from pathlib import Path

import pytest

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.gemini import report as gemini_renderer
from probe.apis.generic import reader as generic
from probe.apis.generic import report as generic_renderer
from probe.apis.openai_responses import reader as openai_responses
from probe.apis.openai_responses import report as responses_renderer
from probe.apis.recognise import ANSWERS_LOOKED_AT, first_events, reader_for, recognised
from probe.read.traffic import from_entry, iter_exchanges


def exchange(path: str, request=None, answer=None, events=None, headers=(), kind="http", frames=None):
    """One captured exchange: a JSON request, and a JSON answer or SSE events (a list)."""
    response: dict = {"status": 200, "headers": []}
    if events is not None:
        response |= {"headers": [["content-type", "text/event-stream"]], "body_format": "text"}
        response["body"] = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    elif answer is not None:
        response |= {"body": answer, "body_format": "json"}
    entry = {
        "schema": 1,
        "kind": kind,
        "proxy": "p",
        "request": {"method": "POST", "url": f"https://h{path}", "path": path, "headers": [list(h) for h in headers]},
        "response": response,
    }
    if request is not None:
        entry["request"] |= {"body": request, "body_format": "json"}
    if frames is not None:
        entry["messages"] = [{"from": side, "body": body, "body_format": "json"} for side, body in frames]
    return from_entry(entry, 1, 1)


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
RESPONSES = {"model": "m", "input": [{"type": "message", "role": "user", "content": "hi"}]}
R, M, C, G = "openai.responses", "anthropic.messages", "openai.chat_completions", "gemini.generate_content"


@pytest.mark.parametrize(
    "case, api",
    [
        # By path, under any base a gateway or a cloud puts before it, query and escapes aside.
        (exchange("/v1/responses", RESPONSES), R),
        (exchange("/openai/responses?api-version=2025-04-01", RESPONSES), R),
        (exchange("/backend-api/codex/responses", RESPONSES), R),
        (exchange("/v1/messages?beta=true", MESSAGES), M),
        (exchange("/v1/messages/count_tokens", MESSAGES, {"input_tokens": 3}), M),
        (exchange("/v1/chat/completions", CHAT), C),
        (exchange("/openai/deployments/gpt/chat/completions?api-version=1", CHAT), C),
        (exchange("/api/v1/chat/completions", CHAT), C),
        (exchange("/v1beta/models/gemini-3:streamGenerateContent?alt=sse", GEMINI), G),
        (exchange("/v1beta/models/gemini-3%3AgenerateContent", GEMINI), G),
        (exchange("/v1/projects/p/locations/l/publishers/google/models/g:countTokens", GEMINI), G),
        # Code Assist (gemini-cli's Google login): its model calls wrap a Gemini request; its account calls, even a
        # GET polling an operation, are named by the same path.
        (exchange("/v1internal:streamGenerateContent?alt=sse", {"model": "g", "request": GEMINI}), G),
        (exchange("/v1internal:loadCodeAssist", {"metadata": {}}, {"allowedTiers": []}), G),
        (exchange("/v1internal/operations/onb-1", None, {"done": True}), G),
        # A GET with no body to the API's path (codex's WebSocket upgrade refused with 426).
        (exchange("/v1/responses", None, {"error": "upgrade required"}), R),
        # By what only the API sends, where the path says nothing.
        (exchange("/proxy/x", {"model": "m"}, events=[{"type": "response.created", "response": {}}]), R),
        (exchange("/proxy/x", {"q": 1}, {"id": "r", "object": "response", "output": []}), R),
        (exchange("/proxy/x", None, events=[{"type": "ping"}, {"type": "message_start", "message": {}}]), M),
        (exchange("/proxy/x", MESSAGES, headers=[("anthropic-version", "2023-06-01")]), M),
        (exchange("/model/claude/invoke", {"anthropic_version": "bedrock-2023-05-31", **MESSAGES}), M),
        (exchange("/proxy/x", {"model": "m"}, {"object": "chat.completion", "choices": []}), C),
        (exchange("/proxy/x", GEMINI), G),
        (exchange("/proxy/x", None, [{"candidates": [], "usageMetadata": {}}]), G),
        # A shared shape: messages alone are Chat Completions; a top-level system makes them Messages.
        (exchange("/proxy/x", CHAT), C),
        (exchange("/proxy/x", {"system": "be brief", **MESSAGES}), M),
        (exchange("/proxy/x", RESPONSES), R),
        # A WebSocket turn: its first client message says what it is.
        (exchange("/ws", kind="websocket", frames=[("client", {"type": "response.create", **RESPONSES})]), R),
        # Nothing any reader knows: analytics, embeddings, a messages path of another API, a HEAD.
        (exchange("/backend-api/codex/analytics-events/events", {"events": [{"x": 1}]}, {"ok": True}), None),
        (exchange("/v1/embeddings", {"model": "m", "input": "hello"}, {"object": "list", "data": []}), None),
        (exchange("/v1/threads/t1/messages", {"role": "user", "content": "hi"}, {"object": "thread.message"}), None),
        (exchange("/api/hello"), None),
    ],
    ids=lambda value: value if isinstance(value, str) or value is None else value.path,
)  # fmt: skip
def test_an_exchange_is_recognised_by_its_path_and_shapes(case, api):
    found = recognised(case)
    assert (found.API if found is not None else None) == api


def test_the_targets_renderer_reads_its_own_api_and_built_in_readers_the_others():
    responses = exchange("/v1/responses", RESPONSES)
    messages = exchange("/v1/messages", MESSAGES)
    unknown = exchange("/api/hello")
    # The target's renderer for its API; the built-in reader for another; generic where none fits.
    assert reader_for(responses, responses_renderer) is responses_renderer
    assert reader_for(messages, responses_renderer) is anthropic_messages
    assert reader_for(unknown, responses_renderer) is generic
    # A target naming the generic renderer (or one for an API of its own) keeps what no reader recognises.
    assert reader_for(unknown, generic_renderer) is generic_renderer
    assert reader_for(responses, generic_renderer) is openai_responses
    # No target: each by its own API.
    assert reader_for(responses) is openai_responses and reader_for(unknown) is generic
    assert reader_for(exchange("/v1beta/models/g:generateContent", GEMINI), gemini_renderer) is gemini_renderer


CORPUS = sorted(
    path
    for path in (Path(__file__).resolve().parents[1] / "corpus").glob("*/*.jsonl")
    if not path.name.endswith(".turns.jsonl")
)


def test_an_exchange_is_recognised_from_its_stream_s_first_events_only():
    # Recognising an exchange before it is masked parses the head of its stream, not the whole: the events it looks
    # at are the whole parse's first ones, on every capture of the corpus, and the stream is left to its reader.
    for case in CORPUS:
        heads, wholes = iter_exchanges(case, []), iter_exchanges(case, [])
        for head, whole in zip(heads, wholes, strict=True):
            assert first_events(head, ANSWERS_LOOKED_AT) == (
                None if whole.stream_events() is None else whole.stream_events()[:ANSWERS_LOOKED_AT]
            ), case.name
            assert recognised(head) is recognised(whole), case.name
            assert head.kind == "websocket" or not head.events_parsed


def test_a_report_reads_with_everything_its_reader_reads_with():
    # A target naming the report reads an exchange as the API's reader does: its history key and, Gemini's, its
    # stream_asked (which says a :generateContent answered with a stream could not be read).
    for renderer in (gemini_renderer, responses_renderer):
        reader = sys.modules[renderer.__name__.rsplit(".", 1)[0] + ".reader"]
        for name in ("API", "PROVIDER", "OPERATION", "read_request", "read_response", "history_key", "stream_asked"):
            assert getattr(renderer, name) is getattr(reader, name, None)
