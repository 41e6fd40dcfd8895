"""Reports are inert: hostile text anywhere in a capture or manifest never becomes HTML or a non-http(s) link."""

import io
import json
import re
import types
from html.parser import HTMLParser

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from search_budget import examples

from probe.analysis.report import build_report
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.generic import report as generic
from probe.apis.openai_responses import report as openai_responses
from probe.common import markdown as md
from probe.common.markdown import Markdown, Rendered, code, details, inline, table, text
from probe.redact.masking import fingerprint

# The headings the account's section may write (probe.write.account_section).
ACCOUNT_HEADINGS = ("The agent's records", "Records matched to exchanges", "The agent's counts beside the API's",
                    "The agent's totals beside the wire's",
                    "Typed prompts and the requests they caused", "Tool decisions and results", "Compactions",
                    "Unmatched")  # fmt: skip
# What report.md never holds raw: controls (but tab and line breaks), the bidirectional formatting characters.
OBEYED = re.compile("\r(?!\n)|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Each example builds a report and reads it with three Markdown previewers, about 0.5 s on the newest pair, so the
# search is a cost: 240 in all (80 per renderer) is two minutes of a CI worker, where 500 took over four.
EXAMPLES = 240
# The hostile capture is rendered by each API's renderer in a test of its own, the examples shared out between
# them: the same number in all, and the test's third each on whichever worker is free.
RENDERERS = {"openai-responses": openai_responses, "anthropic-messages": anthropic_messages, "generic": generic}
EXAMPLES_PER_RENDERER = settings(
    max_examples=examples(-(-EXAMPLES // len(RENDERERS))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class PythonMarkdown:
    """Python-Markdown, which passes a whole <details> block through as raw HTML, code blocks included, and
    puts `{: name=value}` on the element before it as attributes."""

    def __init__(self, extensions: list[str]):
        self.extensions = extensions

    def render(self, text: str) -> str:
        return markdown.markdown(text, extensions=self.extensions)


# A CommonMark previewer that passes HTML through, one that also turns URL-like text into links, and
# Python-Markdown with its usual extensions (fenced code, tables, attribute lists, footnotes, …).
PREVIEWERS = [
    MarkdownIt("commonmark", {"html": True}).enable("table"),
    MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(["table", "linkify", "strikethrough"]),
    PythonMarkdown(["extra"]),
]
# What our own Markdown makes (headings, lists, bold, tables, code, collapsed sections), and http(s) links.
ALLOWED = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "ul",
    "li",
    "strong",
    "code",
    "pre",
    "details",
    "summary",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
}
CODE_CLASSES = {"language-text", "language-json", "language-diff"}
ACTIVE_TAGS = re.compile(
    r"<\s*/?\s*(script|img|iframe|svg|math|style|object|embed|form|input|button|link|meta|base"
    r"|frame|video|audio|source|div|span)",
    re.IGNORECASE,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</details><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x]: javascript:alert(1)",
    "\n[x]: javascript:alert(1)\n",
    "[x][x]",
    "[x]",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "&amp;",
    # An unfinished character reference stops Python-Markdown's HTML parser for the rest of the document.
    "&#",
    "&#x",
    "&#…",
    "&#;",
    "&#60",
    "&",
    "\n\n<div onclick=alert(1)>x</div>\n\n",
    "\r\r<iframe src=javascript:alert(1)>",
    "\r\n\r\n<svg onload=alert(1)>",
    "\r",
    "\n",
    "\u2028",
    "\x85",
    "```",
    "````\n<script>\n",
    "~~~",
    "\n~~~\n<img src=x onerror=alert(1)>\n",
    "`",
    "\\",
    "\\`",
    "|",
    "\\|",
    "mailto:a@b.example.com",
    "a@b.com",
    "xmpp:a@b.com",
    "ftp://evil.com/x",
    "//evil.com/x",
    "www.evil.com",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "javascript:alert(1)",
    "sk-abcdefghijklmnop(mailto:x@y.example.com)",
    "sk-abcdefghij](javascript:alert(1))",
    "?key=abc(mailto:x@y.com)",
    "<!-- x -->",
    "<![CDATA[x]]>",
    "<?php x ?>",
    "<!DOCTYPE html>",
    "**b** _e_ *e* ~~s~~ ~s~",
    "_",
    "__init__",
    "\x00",
    # What a terminal (or an editor) obeys: escape sequences (title, clear, OSC 8 link), C1 controls, BEL, a lone CR,
    # bidirectional overrides and isolates.
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m\x9d0;t\x9c",
    "over\rwritten",
    "\u202egnp.exe\u202c",
    "\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    "é漢字🙂",
    "# h",
    "- i",
    "1. i",
    "> q",
    "---",
    "===",
    "    indented",
    "<details open>",
    "</summary>",
    '" onmouseover="alert(1)',
    "<a href=//evil.com>x</a>",
    "[x](<javascript:alert(1)>)",
    "<http://x.com>",
    "<mailto:a@b.com>",
    "<a@b.com>",
    "[y]\n\n[y]: javascript:alert(1)",
    "{",
    "}",
    "{0}",
    "%s",
    # Secrets, which the report masks into "[REDACTED sha256:…]": the mask must not become a link or end a span.
    "sk-proj-" + "abcdefghijklmnopqrstuvwx",
    "]: javascript:alert(1)",
    "?api_key=",
    "&token=",
    "Bearer ",
    "ghp_" + "a" * 36,
    # Python-Markdown's extensions: attribute lists, footnotes, abbreviations, definition lists.
    "{: onclick=alert(1) }",
    "{#x .y onmouseover=alert(1)}",
    "\n{: onclick=alert(1)}\n",
    "[^1]",
    "\n[^1]: x\n",
    "*[HTML]: x",
    "\n: definition\n",
]
hostile = st.lists(st.sampled_from(PAYLOADS) | st.text(max_size=12), min_size=1, max_size=4).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(hostile, inner, max_size=2),
    max_leaves=4,
)


def sse(events: list[tuple[str, dict]]) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def http(h, request_body, response_body, stream: bool, headers=None, **response) -> dict:
    complete = h(st.booleans())
    return {
        "schema": 1,
        "kind": "http",
        "proxy": h(),
        "complete": complete,
        "error": h(),
        "timing": {"start": 1.0, "first_byte": 1.1, "end": 2.0},
        "request": {
            "method": h(),
            "url": "https://x/" + h(),
            "path": "/" + h(),
            "headers": headers or [[h(), h()], [h(), h()], ["authorization", h()]],
            "body": request_body,
            "body_format": "json",
        },
        "response": {
            "status": h(st.integers(100, 599)),
            "reason": h(),
            "headers": [["content-type", "text/event-stream" if stream else "application/json"], [h(), h()]],
            "body": response_body,
            "body_format": "text" if stream else "json",
            **response,
        },
    }


def responses_request(h) -> dict:
    call_id = h()
    return {
        "model": h(),
        h(): h(),
        "store": h(st.booleans()),
        "instructions": h(),
        "client_metadata": {h(): h()},
        "previous_response_id": h(),
        "tools": [
            {"type": "function", "name": h(), "description": h(), "parameters": {h(): h()}},
            {"type": "namespace", "name": h(), "tools": [{"type": h(), "name": h(), "description": h()}]},
        ],
        "input": [
            {
                "type": "message",
                "role": h(),
                "content": [
                    {"type": "input_text", "text": h()},
                    {"type": "input_image", "image_url": h()},
                    {"type": "input_file", "filename": h()},
                ],
            },
            {"type": "message", "role": "user", "content": h()},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": h()}], "encrypted_content": h()},
            {"type": "function_call", "name": h(), "namespace": h(), "call_id": call_id, "arguments": h()},
            {"type": "function_call_output", "call_id": call_id, "output": h()},
            {"type": "custom_tool_call", "name": h(), "call_id": h(), "input": h()},
            {"type": "additional_tools", "tools": [{"type": "function", "name": h(), "description": h()}]},
            {"type": h(), h(): h(json_values)},
            h(),
        ],
    }


def responses_events(h) -> list[tuple[str, dict]]:
    output = [
        {"type": "message", "id": "m", "content": [{"type": "output_text", "text": h()}]},
        {"type": "function_call", "id": "f", "name": h(), "call_id": h(), "arguments": h()},
        {"type": h(), "id": "o", h(): h(json_values)},
    ]
    final = {
        "object": "response",
        "id": h(),
        "status": h(),
        "model": h(),
        "error": {"message": h()},
        "incomplete_details": {"reason": h()},
        "output": output,
        "usage": {"input_tokens": 3, h(): h()},
    }
    return [
        ("response.created", {"type": "response.created", "response": {"id": h()}}),
        (h(), {"type": h(), "delta": h()}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "m", "delta": h()}),
        ("response.reasoning_summary_text.delta", {"type": "response.reasoning_summary_text.delta", "delta": h()}),
        ("response.output_item.added", {"type": "response.output_item.added", "item": output[1]}),
        (
            "response.function_call_arguments.delta",
            {"type": "response.function_call_arguments.delta", "item_id": "f", "delta": h()},
        ),
        ("response.output_item.done", {"type": "response.output_item.done", "item": output[2]}),
        ("error", {"type": "error", "error": {"message": h(), h(): h()}}),
        ("response.completed", {"type": "response.completed", "response": final}),
    ], final


def messages_request(h) -> dict:
    tool_id = h()
    return {
        "model": h(),
        "max_tokens": 100,
        h(): h(),
        "system": [{"type": "text", "text": h(), "cache_control": {"type": h()}}, {"type": h(), h(): h()}],
        "tools": [
            {"name": h(), "description": h(), "type": h(), "cache_control": {h(): h()}, "input_schema": {h(): h()}}
        ],
        "messages": [
            {"role": h(), "content": h()},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": h(), "signature": h()},
                    {"type": "text", "text": h(), "cache_control": {"type": h()}},
                    {"type": "tool_use", "id": tool_id, "name": h(), "input": {h(): h()}},
                    {"type": "redacted_thinking", "data": h()},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": tool_id,
                        "is_error": True,
                        "content": [
                            {"type": "text", "text": h()},
                            {"type": "image", "source": {"type": "url", "url": h()}, "title": h()},
                        ],
                    },
                    {"type": "image", "source": {"type": "base64", "media_type": h(), "data": h()}, "title": h()},
                    {"type": "document", "source": {"type": "url", "url": h()}},
                    {"type": h(), h(): h(json_values)},
                    h(),
                ],
            },
        ],
    }


def messages_events(h) -> list[tuple[str, dict]]:
    def start(index, block):
        return ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})

    def delta(index, kind, **fields):
        return (
            "content_block_delta",
            {"type": "content_block_delta", "index": index, "delta": {"type": kind, **fields}},
        )

    return [
        (
            "message_start",
            {"type": "message_start", "message": {"id": h(), "model": h(), "usage": {"input_tokens": 1, h(): h()}}},
        ),
        start(0, {"type": "text", "text": ""}),
        delta(0, "text_delta", text=h()),
        start(1, {"type": "thinking", "thinking": ""}),
        delta(1, "thinking_delta", thinking=h()),
        delta(1, "signature_delta", signature=h()),
        start(2, {"type": "tool_use", "id": h(), "name": h()}),
        delta(2, "input_json_delta", partial_json=h()),
        start(3, {"type": h(), h(): h()}),
        delta(3, h(), text=h()),
        (h(), {"type": h(), h(): h()}),
        ("error", {"type": "error", "error": {"type": h(), "message": h()}}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": h(), "stop_sequence": h()},
                "usage": {"output_tokens": 3, h(): 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def capture(h) -> list[dict]:
    """Exchanges for both APIs (streamed, JSON, WebSocket, old format), hostile text in every string."""
    events, final = responses_events(h)
    same_headers = [[h(), h()], [h(), h()]]
    websocket = {
        "schema": 1,
        "kind": "websocket",
        "proxy": h(),
        "complete": h(st.booleans()),
        "error": h(),
        "request": {"method": h(), "url": "wss://x/" + h(), "headers": [[h(), h()]]},
        "response": {"status": 101, "reason": h(), "headers": [[h(), h()]]},
        "messages": [
            {
                "from": "client",
                "t": 1.0,
                "body": {"type": "response.create", **responses_request(h)},
                "body_format": "json",
            },
            *[{"from": "server", "t": 1.1, "body": data, "body_format": "json"} for _, data in events],
            {"from": "server", "t": 1.2, "body": h(), "body_format": "text"},
        ],
    }
    return [
        http(h, responses_request(h), sse(events), stream=True, headers=same_headers),
        # The same endpoint again with a header gone: the "changed since" table and its summary.
        http(h, responses_request(h), final, stream=False, headers=same_headers[:1]),
        http(h, {"explode": h()}, {"error": {"message": h()}}, stream=False),
        websocket,
        http(h, messages_request(h), sse(messages_events(h)), stream=True),
        http(
            h,
            messages_request(h),
            {
                "type": "message",
                "id": h(),
                "model": h(),
                "stop_reason": h(),
                "content": messages_request(h)["messages"][1]["content"],
                "usage": {"input_tokens": 2, h(): h()},
            },
            stream=False,
        ),
        http(h, {h(): h(json_values)}, {"type": "error", "error": {"type": h(), "message": h()}}, stream=False),
        http(h, {"model": h()}, h(), stream=False, body_format="text"),
        {
            "timestamp": 1.0,
            "request": {"method": h(), "url": h(), "headers": {h(): h()}, "body": h()},
            "response": {"status_code": 200, "headers": {h(): h()}, "body": h()},
        },
    ]


def telemetry(h) -> str:
    """A telemetry.jsonl of the agents' records with hostile text in every string and number, and lines of garbage:
    the agent's own account is captured text too."""

    def fields(**named):
        return {**named, h(): h(json_values)}

    records = [
        {"signal": "logs", "service": "claude-code", "name": "user_prompt", "time": h(json_values),
         "attributes": fields(**{"prompt": h(), "prompt.id": h(), "session.id": h()})},
        {"signal": "logs", "service": "claude-code", "name": "api_request", "time": 1.0,
         "attributes": fields(request_id=h(), model=h(), input_tokens=h(json_values), cost_usd=h(json_values),
                              duration_ms=h(json_values), **{"prompt.id": h()})},
        {"signal": "logs", "service": "claude-code", "name": "api_request", "time": 1.1,
         "attributes": fields(model=h(), input_tokens=3, output_tokens=h(st.integers()), cost_usd=10**400 // 10**380)},
        {"signal": "logs", "service": "claude-code", "name": "tool_decision", "time": h(st.floats()),
         "attributes": fields(tool_name=h(), decision=h(), tool_use_id=h(), request_id=h())},
        {"signal": "logs", "service": "codex_exec", "name": h(), "time": 1.2,
         "attributes": fields(**{"event.name": "codex.sse_event", "event.kind": "response.completed",
                                 "conversation.id": h(), "input_token_count": h()})},
        {"signal": "logs", "service": "gemini-cli", "name": "gemini_cli.chat_compression", "time": 1.3,
         "attributes": fields()},
        {"signal": "traces", "service": "opencode", "name": h(), "time": h(json_values), "end": h(json_values),
         "attributes": fields(**{"gen_ai.operation.name": "chat", "gen_ai.response.id": h()})},
        {"signal": h(), "service": h(), "name": h(), "attributes": h(json_values)},
        {"signal": "logs", "received": 1.0, "unreadable": h(), "size": h(json_values)},
    ]  # fmt: skip
    garbage = [h(), "[1, 2]", "{", json.dumps(h())]
    return "".join(json.dumps(record) + "\n" for record in records) + "\n".join(garbage) + "\n"


def manifest(h) -> dict:
    anything = h(json_values)
    return {
        "target": h(),
        "status": h(st.sampled_from(["proxy-failed", "running", "complete"]) | hostile | json_values),
        "agent_exit_code": h(st.integers() | json_values),
        "agent": {"version": h()},
        "prompt": h(),
        "note": h(hostile | json_values),
        "recording_errors": h(st.integers() | json_values),
        h(): anything,
    }


def failing_on_explode(renderer):
    """The renderer, except that it fails on a marked request with a hostile message (which becomes a warning)."""

    def render_request(turn, label, state):
        kept = next((entry["raw"] for entry in turn.unknown if entry["where"] == "request body"), None)
        body = kept if isinstance(kept, dict) else turn.config  # the generic reader keeps the body whole
        if "explode" in body:
            raise ValueError(body["explode"])
        return renderer.render_request(turn, label, state)

    return types.SimpleNamespace(
        **{
            name: getattr(renderer, name)
            for name in (
                "API",
                "PROVIDER",
                "read_request",
                "read_response",
                "render_response",
                "render_epilogue",
                "HISTORY_FIELD",
                "history_key",
            )
            if hasattr(renderer, name)
        },
        render_request=render_request,
    )


class Inspector(HTMLParser):
    """Collects every element and attribute of rendered HTML, and anything that is not an element or text."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.closed: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in ALLOWED:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            value = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if any(scheme in value for scheme in ("javascript:", "data:", "vbscript:")):
                self.problems.append(f"active URL in {name} of <{tag}>: {value}")
            if (tag, name) == ("a", "href"):
                if not value.startswith(("http://", "https://")):
                    self.problems.append(f"link to {value}")
            elif (tag, name) != ("code", "class") or value not in CODE_CLASSES:
                self.problems.append(f"attribute {name}={value} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self.closed.append(tag)

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.problems.append(f"declaration {data!r}")


def inspect(report: str) -> list[Inspector]:
    """The report as each previewer shows it, checked: only our structure, and links only to http(s)."""
    results = []
    for previewer in PREVIEWERS:
        page = previewer.render(report)
        inspector = Inspector()
        inspector.feed(page)
        inspector.close()
        assert not inspector.problems, inspector.problems
        assert not ACTIVE_TAGS.search(page)
        # No captured text opened or closed a collapsed section, or ended one's summary early.
        assert inspector.tags.count("details") == inspector.closed.count("details") == inspector.tags.count("summary")
        results.append(inspector)
    return results


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
@pytest.mark.parametrize("renderer", RENDERERS.values(), ids=RENDERERS.keys())
@EXAMPLES_PER_RENDERER
@given(data=st.data())
def test_hostile_capture_and_manifest_render_inert(tmp_path_factory, data, renderer):
    # A few hundred strings per capture: drawing each one would overrun hypothesis's data budget, so draw a pool
    # of hostile strings once and deal them out to the positions.
    pool = data.draw(st.lists(hostile, min_size=4, max_size=24))
    deal = data.draw(st.randoms(use_true_random=False))

    def h(strategy=None):
        return deal.choice(pool) if strategy is None else data.draw(strategy)

    entries = capture(h)
    # The exploding request speaks the renderer's API (its path and its history field), so the renderer gets it.
    exploding = entries[2]["request"]
    if renderer is openai_responses:
        exploding |= {"url": "https://x/v1/responses", "path": "/v1/responses"}
        exploding["body"]["input"] = []
    elif renderer is anthropic_messages:
        exploding |= {"url": "https://x/v1/messages", "path": "/v1/messages"}
        exploding["body"]["messages"] = []
    traffic = tmp_path_factory.mktemp("inert") / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    (traffic.parent / "telemetry.jsonl").write_text(telemetry(h))
    turns, insight = io.BytesIO(), io.BytesIO()
    report, warnings = build_report(traffic, failing_on_explode(renderer), manifest(h), turns=turns, insight=insight)
    numbers = [json.loads(line)["number"] for line in turns.getvalue().splitlines()]
    records = [json.loads(line) for line in insight.getvalue().splitlines()]
    requests = {record["number"]: record for record in records if record["record"] == "request"}
    hosts = [record for record in records if record["record"] == "host"]
    # Every exchange is a turn or, when no reader recognises it as a model call, another request.
    assert sorted(numbers + list(requests)) == list(range(1, len(entries) + 1))
    if 3 in numbers:  # the exploding request reached the renderer, whose failure is a warning
        assert any("the renderer failed (ValueError" in warning for warning in warnings)
    else:  # no model call for this renderer: another request, shown among the Other hosts' (below)
        assert renderer is generic and 3 in requests
    for host in hosts:  # each request as its host's section lists it, in a code span, all of it inert (inspect)
        assert all(f"{md.inline(asked)} ×" in report for asked in host["paths"])
    # The agent's own account: its section's headings are ours alone.
    account = report[report.index("## The agent's own account") : report.index("## Endpoints")]
    headings = sum(account.count(f"\n### {title}\n") for title in ACCOUNT_HEADINGS)
    assert headings >= 1 and len(re.findall(r"(?m)^#", account)) == headings + 1
    for inspector in inspect(report):
        # Each turn is one heading, and each other host (plus the two key-path tables, the account's and the context
        # window's where a turn named a model): no captured text made or broke one.
        window = any(record["record"] == "agent" and (record.get("window") or {}).get("by_model") for record in records)
        assert inspector.tags.count("h3") == len(numbers) + len(hosts) + 2 + headings + window
    # Nothing a terminal would obey, printed with cat or read in an editor: each such character is shown escaped.
    assert not OBEYED.search(report), OBEYED.search(report)


# Readable cases: one payload per position, and the exact form it takes in report.md.

PAYLOAD = "<img src=x onerror=alert(1)>[x](javascript:alert(1))"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;\\[x\\](javascript\\:alert(1))"


def test_each_position_shows_its_payload_escaped(tmp_path):
    entry = {
        "schema": 1,
        "kind": "http",
        "proxy": PAYLOAD,
        "complete": True,
        "request": {
            "method": "POST",
            "url": "https://x/v1/responses",
            "path": "/v1/<script>|x`y",
            "headers": [["x-evil", "<b>|</b>"]],
            "body": {"model": "gpt-5.1", PAYLOAD: 1, "input": [{"type": "message", "role": "user", "content": "hi"}]},
            "body_format": "json",
        },
        "response": {"status": 200, "headers": [], "body": {"error": "x"}, "body_format": "json"},
    }
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(entry) + "\n")
    run = {
        "target": "codex",
        "status": "<b>done</b>",
        "agent_exit_code": "0; <script>",
        "agent": {"version": "1"},
        "prompt": "hi\n\n<div>",
        "note": "stopped: see [log](javascript:x)\r\n<div>",
        "recording_errors": 2,
    }
    report, _ = build_report(traffic, openai_responses, run)
    lines = report.splitlines()
    # A heading: the path as a code span (a zero-width space after each `<` that could open a tag, for renderers
    # that pass code through as HTML), the proxy name as escaped prose.
    assert f"### #1 POST ``/v1/<\u200bscript>|x`y`` → 200 ({ESCAPED})" in lines
    # Table cells: the header value as a code span, its pipe escaped for the table.
    assert "| x-evil | `<\u200bb>\\|<\u200b/b>` |" in lines
    # Prose in the header tables and config: readable values in code spans, captured keys escaped.
    assert f"| {ESCAPED} | ``/v1/<\u200bscript>\\|x`y`` | POST | 1 |" in lines
    assert '- **model**: `"gpt-5.1"`' in lines and f"- **{ESCAPED}**: `1`" in lines
    # The run line and the manifest's note: prose escaped, other values in code spans, all on one line.
    assert (
        "- Run: target `codex`, status **&lt;b&gt;done&lt;/b&gt;**, agent exit code `0; <\u200bscript>`, "
        "agent version `1`" in lines
    )
    assert "- Note: stopped: see \\[log\\](javascript\\:x) &lt;div&gt;" in lines
    assert "- Recording errors: 2 exchanges could not be recorded (see proxies.log)" in lines
    assert "- Prompt: `hi  <\u200bdiv>`" in lines
    inspect(report)


def test_an_unfinished_character_reference_leaves_later_sections_collapsed():
    """Python-Markdown's HTML parser stops at `&#` that starts no reference: every `<details>` after it would be
    read as Markdown, and a link in its summary would become active."""
    for payload in ("&#", "&#…", "&#x", "&#;"):
        report = (
            "\n\n".join(
                [
                    f"- {text(payload)} {inline(payload)}",
                    code(payload, "text"),
                    details(f"a {payload}", code(payload, "text")),
                    details("[x](javascript:alert(1))", Markdown("body")),
                ]
            )
            + "\n"
        )
        assert "&amp;#" in report and "&\u200b#" in report and "[x&#93;(javascript:alert(1))" in report
        for inspector in inspect(report):
            assert inspector.tags.count("details") == 2 and "a" not in inspector.tags


def test_summaries_are_html_escaped_on_one_line():
    block = details('input[1] message user: </summary><script>x</script>\n\n<div onclick="x">', Markdown("body"))
    assert block.startswith(
        "<details><summary>input[1] message user: &lt;/summary&gt;&lt;script&gt;x&lt;/script&gt;"
        '  &lt;div onclick="x"&gt;</summary>\n\n'
    )
    assert block.endswith("</details>\n")  # a blank line after it: nothing that follows joins its HTML block


@pytest.mark.parametrize(
    ("captured", "escaped"),
    [
        ("gpt-5.1 output_text", "gpt-5.1 output_text"),  # identifiers stay readable
        ("<script>&lt;", "&lt;script&gt;&amp;lt;"),
        ("[x](javascript:alert(1)) ![i](x)", "\\[x\\](javascript\\:alert(1)) !\\[i\\](x)"),
        ("mailto:a@b.com //evil.com", "mailto\\:a\\@b.com /\\/evil.com"),
        ("*a* _b_ ~~c~~ `d` a|b \\", "\\*a\\* \\_b\\_ \\~\\~c\\~\\~ \\`d\\` a\\|b \\\\"),
        ("one\r\ntwo\rthree\nfour", "one two\\\\rthree four"),  # a lone CR would overwrite the line: shown
        ("x {: onclick=alert(1) }", "x \\{: onclick=alert(1) }"),  # no attribute list for Python-Markdown
    ],
)
def test_prose_escaping(captured, escaped):
    assert text(captured) == escaped


def test_code_holds_no_markup_for_a_renderer_that_passes_it_through_as_html():
    assert (
        inline("<a href=x></a><!-- c --><?pi?> a < b <3")
        == "`<\u200ba href=x><\u200b/a><\u200b!-- c --><\u200b?pi?> a < b <3`"
    )
    assert code("<script>\n</details>") == "```\n<\u200bscript>\n<\u200b/details>\n```"


def test_code_spans_and_tables_hold_any_text():
    assert inline("a ``` b") == "````a ``` b````"
    assert inline("`x`") == "`` `x` ``"
    assert inline(" padded ") == "`  padded  `"
    assert inline("two\nlines\r") == "`two lines\\r`"  # a lone CR would overwrite the line: shown
    assert table(["k", "v"], [["a|b", inline("c|d")]]).splitlines()[2] == "| a\\|b | `c\\|d` |"


def test_renderers_lines_must_be_markdown():
    with pytest.raises(TypeError):
        Rendered().add("**raw** " + "<script>")
    with pytest.raises(TypeError):
        Rendered(["<script>"])


def test_secrets_are_masked_before_they_are_escaped(tmp_path):
    """A capture made with --keep-secrets: each token is masked where it enters the Markdown, so its mask is
    escaped like any captured text, and a URL parameter's value cannot run across the syntax around it."""
    token = "sk-proj-" + "a1B2c3D4" * 4
    entry = {
        "schema": 1,
        "kind": "http",
        "proxy": f"{token}(javascript:alert(1))",
        "complete": True,
        "request": {
            "method": "POST",
            "url": "https://x/v1/responses",
            "path": "/v1/responses?api_key=abc`,<b>",
            "headers": [["x-note", f"{token}](javascript:alert(1))"]],
            "body": {"model": "m", "input": []},
            "body_format": "json",
        },
        "response": {"status": 200, "headers": [], "body": {"error": "x"}, "body_format": "json"},
    }
    # No model call (an upload of traces): another request, shown in the Other hosts section, never a turn.
    upload = {**entry, "request": {**entry["request"], "url": "https://x/v1/traces", "body": {"spans": []}}}
    upload["request"]["path"] = f"/v1/traces/{token}`](javascript:alert(1))<b>?api_key=abc`,<b>"
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(entry) + "\n" + json.dumps(upload) + "\n")
    run = {"target": "codex", "status": token, "agent_exit_code": 0, "prompt": "?key=value(mailto:x@y.com) after"}
    report, _ = build_report(traffic, openai_responses, run)
    assert token not in report and "abc`,<b>" not in report and "value(mailto" not in report
    mask = fingerprint(token)
    lines = report.splitlines()
    # In prose the mask's brackets (and colon) are escaped: it can be neither a link nor link text.
    escaped_mask = mask.replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")
    heading = next(line for line in lines if line.startswith("### #1 "))
    assert heading.startswith("### #1 POST `/v1/responses?api_key=[REDACTED sha256:")
    assert heading.endswith(f"` → 200 ({escaped_mask}(javascript\\:alert(1)))")
    assert f"| x-note | `{mask}](javascript:alert(1))` |" in lines
    assert f"- Run: target `codex`, status **{escaped_mask}**, agent exit code 0, agent version `null`" in lines
    assert f"- Prompt: `?key={fingerprint('value(mailto:x@y.com)')} after`" in lines
    # The upload is in the Other hosts section, its path masked and in a code span that nothing in it can close.
    assert f"- Requests: ``POST /v1/traces/{mask}`](javascript:alert(1))<\u200bb>`` ×1" in lines
    assert report.count("\n### #") == 1
    inspect(report)


def test_placeholder_marks_in_captured_text_cannot_turn_code_back_into_markdown():
    """Found by the property test on Python 3.12: a target named "\x03" (ETX, one of Python-Markdown's placeholder
    marks) paired with its own marks and turned the next code span's text into an image."""
    import markdown as python_markdown

    from probe.common import markdown as md

    line = md.Markdown("- Run: target {}, agent version {}").format(
        md.inline("\x03"), md.inline("<script>x</script>![x](javascript:alert(1))")
    )
    page = python_markdown.markdown(line + "\n" + md.text("a\x02b\x03c"))
    assert "<img" not in page and "javascript:alert(1)" in page  # shown as text, in the code span
    assert "<code>\\x03</code>" in page and "a\\x02b\\x03c" in page  # shown as their escapes
