"""Every credential of the corpus, sent live through the real mitmdump by a client in each way it travels between an
agent and its model: in a request as a tool call's arguments and as a tool result (JSON in a JSON string), in a
streamed answer as a tool call whose arguments come in small pieces (the Responses, Messages, Chat Completions and
Gemini APIs' ways), and as plain text; with a cookie streamed in pieces before a whole key on its line, one request
written with Go's escapes (`\\u0026`, `\\/`), and answers large enough for their own files, cut in segments.

Every file of the run folder after `analyze` and `export` (traffic.jsonl, bodies/, report.md, report.html,
turns.jsonl, insight.jsonl, .analysis/, HAR, cassette, flows) goes to detect-secrets, secretlint and a plain search
for every corpus secret: none is found. And the capture masked all the report's pass masks: the report of the capture
read with --no-redact is the same report."""

import json
import sys
import textwrap
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import answer_with_chunked_sse, read_traffic, send_chunk, serving
from secret_corpus import CORPUS, SECRETS
from secret_oracles import flows_as_text, leaks, probe, scanners_findings

TEXTS = [text for _, text, _ in CORPUS]
ALL = "\n\n".join(TEXTS)
KEY = next(secret for name, _, secret in CORPUS if name == "openai")
COOKIE_LINE = next(text for name, text, _ in CORPUS if name == "cookie-line") + "; theme=dark; key "


def arguments(text: str) -> str:
    return json.dumps({"command": text})


def pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


def sse(events: list[dict], named: bool = True) -> bytes:
    lines = []
    for event in events:
        lines.append(
            (b"event: %s\n" % event["type"].encode() if named else b"") + b"data: %s\n\n" % json.dumps(event).encode()
        )
    return b"".join(lines)


def text_deltas() -> list[str]:
    """The corpus as plain text in 7-character deltas, then a cookie in 5-character ones and a whole key on its line."""
    return pieces(ALL + "\n", 7) + pieces(COOKIE_LINE, 5) + [KEY + "\n"]


def responses_answer(repeat: int = 1) -> bytes:
    events = [{"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}}]
    output = []
    for index, text in enumerate(TEXTS):
        item = {"type": "function_call", "id": f"fc_{index}", "call_id": f"call_{index}", "name": "shell"}
        events.append({"type": "response.output_item.added", "output_index": index, "item": item | {"arguments": ""}})
        for piece in pieces(arguments(text), 5):
            events.append({"type": "response.function_call_arguments.delta", "item_id": f"fc_{index}", "delta": piece})
        events.append(
            {"type": "response.function_call_arguments.done", "item_id": f"fc_{index}", "arguments": arguments(text)}
        )
        output.append(item | {"arguments": arguments(text)})
    for _ in range(repeat):
        events += [
            {"type": "response.output_text.delta", "item_id": "msg_1", "delta": delta} for delta in text_deltas()
        ]
    usage = {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}
    events.append(
        {"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-5", "output": output, "usage": usage}}
    )
    return sse(events)


def messages_answer() -> bytes:
    events = [{"type": "message_start", "message": {"id": "msg_1", "model": "claude-x", "usage": {"input_tokens": 9}}}]
    for index, text in enumerate(TEXTS):
        block = {"type": "tool_use", "id": f"toolu_{index}", "name": "bash", "input": {}}
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        for piece in pieces(arguments(text), 5):
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
    last = len(TEXTS)
    events.append({"type": "content_block_start", "index": last, "content_block": {"type": "text", "text": ""}})
    for delta in text_deltas():
        events.append({"type": "content_block_delta", "index": last, "delta": {"type": "text_delta", "text": delta}})
    events.append({"type": "content_block_stop", "index": last})
    events.append({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 20}})
    events.append({"type": "message_stop"})
    return sse(events)


def chat_answer() -> bytes:
    def chunk(delta: dict, finish=None) -> dict:
        return {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip

    chunks = [chunk({"role": "assistant", "content": delta}) for delta in text_deltas()]
    for index, text in enumerate(TEXTS):
        call = {
            "index": index,
            "id": f"call_{index}",
            "type": "function",
            "function": {"name": "shell", "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [call]}))
        for piece in pieces(arguments(text), 5):
            chunks.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    chunks.append(
        chunk({}, "tool_calls") | {"usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}
    )
    return b"".join(b"data: %s\n\n" % json.dumps(item).encode() for item in chunks) + b"data: [DONE]\n\n"


def gemini_answer() -> bytes:
    def chunk(parts: list, finish=None) -> dict:
        candidate = {"content": {"role": "model", "parts": parts}} | ({"finishReason": finish} if finish else {})
        return {"candidates": [candidate], "modelVersion": "gemini-2.5-pro"}

    chunks = [chunk([{"text": delta}]) for delta in text_deltas()]
    chunks += [chunk([{"functionCall": {"name": "shell", "args": {"command": text}}}]) for text in TEXTS]
    chunks.append(
        chunk([{"text": ""}], "STOP") | {"usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20}}
    )
    return b"".join(b"data: %s\n\n" % json.dumps(item).encode() for item in chunks)


ANSWERS = {
    "/v1/responses": responses_answer,
    "/v1/messages": messages_answer,
    "/v1/chat/completions": chat_answer,
    "/v1beta/models/gemini-2.5-pro:streamGenerateContent": gemini_answer,
    "/v1/responses/large": lambda: responses_answer(repeat=50),  # about 3 MB: its file is written in segments
}


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        answer_with_chunked_sse(self)
        body = ANSWERS[self.path.split("?")[0]]()
        for start in range(0, len(body), 16_000):
            send_chunk(self, body[start : start + 16_000])
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def requests() -> list[tuple[str, dict]]:
    """Each API's request carrying the corpus as plain text, as tool calls' arguments and as their results."""
    results = [json.dumps({"stdout": text, "exit_code": 0}) for text in TEXTS]
    responses = [{"role": "user", "content": [{"type": "input_text", "text": ALL}]}]
    for index, text in enumerate(TEXTS):
        responses.append(
            {"type": "function_call", "call_id": f"c{index}", "name": "shell", "arguments": arguments(text)}
        )
        responses.append({"type": "function_call_output", "call_id": f"c{index}", "output": results[index]})
    uses = [
        {"type": "tool_use", "id": f"t{index}", "name": "bash", "input": {"command": text}}
        for index, text in enumerate(TEXTS)
    ]
    answers = [
        {"type": "tool_result", "tool_use_id": f"t{index}", "content": result} for index, result in enumerate(results)
    ]
    messages = [
        {"role": "user", "content": ALL},
        {"role": "assistant", "content": uses},
        {"role": "user", "content": answers},
    ]
    calls = [{"id": f"c{index}", "type": "function", "function": {"name": "shell", "arguments": arguments(text)}}
             for index, text in enumerate(TEXTS)]  # fmt: skip
    chat = [{"role": "user", "content": ALL}, {"role": "assistant", "tool_calls": calls}]
    chat += [{"role": "tool", "tool_call_id": f"c{index}", "content": result} for index, result in enumerate(results)]
    model_parts = [{"functionCall": {"name": "shell", "args": {"command": text}}} for text in TEXTS]
    replies = [{"functionResponse": {"name": "shell", "response": {"output": result}}} for result in results]
    gemini = [
        {"role": "user", "parts": [{"text": ALL}]},
        {"role": "model", "parts": model_parts},
        {"role": "user", "parts": replies},
    ]
    return [
        ("/v1/responses", {"model": "gpt-5", "input": responses, "stream": True}),
        ("/v1/messages", {"model": "claude-x", "max_tokens": 100, "messages": messages, "stream": True}),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": chat, "stream": True}),
        ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", {"contents": gemini}),
        ("/v1/responses/large", {"model": "gpt-5", "input": responses[:1], "stream": True}),
    ]


CLIENT = """
import json, os, sys, urllib.request
for path, body, go_style in json.load(open(sys.argv[1])):
    data = json.dumps(body)
    if go_style:  # as Go writes JSON: `&`, `<`, `>` and `/` escaped
        data = data.replace("&", "\\\\u0026").replace("<", "\\\\u003c").replace(">", "\\\\u003e").replace("/", "\\\\/")
    request = urllib.request.Request(os.environ["PROBE_PROXY_URL"] + path, data.encode())
    request.add_header("content-type", "application/json")
    print(path, len(urllib.request.urlopen(request).read()))
"""


def with_threshold(folder, threshold: int) -> str:
    """The real mitmdump, with a lower large-body threshold: every answer here goes to bodies/."""
    from probe.capture.proxies import find_mitmdump

    wrapper, real = folder / "mitmdump-low-threshold", find_mitmdump()
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:], '--set', 'probe_spool_threshold={threshold}'])\n"
    )
    wrapper.chmod(0o755)
    return str(wrapper)


def body_of(report) -> list[str]:
    made = ("- Generated at:", "- Made with:")
    return [line for line in report.read_text().splitlines() if not line.startswith(made)]


def forms(secret: str) -> list[str]:
    """A secret as it is written at each depth of JSON escaping."""
    written = [secret]
    for _ in range(3):
        written.append(json.dumps(written[-1])[1:-1])
    return written


@pytest.mark.slow  # the scanners over every file of a run: CI runs it, `nox -s quick` does not
def test_the_corpus_in_every_way_it_travels_reaches_no_file_of_the_run(tmp_path, monkeypatch):
    data_dir, scratch = tmp_path / "data", tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.delenv("PROBE_MITMDUMP", raising=False)
    plan = [(path, body, path == "/v1/chat/completions") for path, body in requests()]
    (scratch / "plan.json").write_text(json.dumps(plan))
    (scratch / "client.py").write_text(textwrap.dedent(CLIENT))
    with serving(Upstream) as upstream:
        result = probe(
            "probe.pipeline", "--target", "tests/data/itest.yaml", "--upstream", upstream,
            "--command", f"{sys.executable} {scratch / 'client.py'} {scratch / 'plan.json'}",
            data_dir=data_dir, env={"PROBE_MITMDUMP": with_threshold(scratch, 32 << 10)},
        )  # fmt: skip
    [run] = (data_dir / "itest").iterdir()
    entries = read_traffic(run)
    assert [entry["response"]["status"] for entry in entries] == [200] * 5, result.stderr
    assert all(entry["response"]["body_file"] for entry in entries)  # every answer in its own file
    assert max(entry["response"]["body_size"] for entry in entries) > 2 * (1 << 20)  # one in several segments

    probe("probe.analysis.analyze", "--run", str(run), "--force", data_dir=data_dir)
    for form in ("har", "mitm", "vcr"):
        probe("probe.analysis.export", "--run", str(run), "--format", form, "--force", data_dir=data_dir)
    unmasked_report = scratch / "report-read-as-captured.md"
    probe("probe.analysis.analyze", "--input", str(run / "traffic.jsonl"), "--target", "tests/data/itest.yaml",
          "--output", str(unmasked_report), "--no-redact", data_dir=data_dir)  # fmt: skip
    # What the report's pass would mask is masked already: read as captured, the report is the same (but for when it
    # was made, and its saying so).
    assert body_of(unmasked_report) == body_of(run / "report.md") and len(body_of(unmasked_report)) > 5000

    flows = scratch / "flows.txt"
    flows.write_text(flows_as_text(run / "flows.mitm"))
    outputs = [path for path in run.rglob("*") if path.is_file() and path.name != "flows.mitm"] + [flows]
    names = {path.relative_to(run).parts[0] for path in outputs if path.is_relative_to(run)}
    assert {"traffic.jsonl", "bodies", "report.md", "report.html", "turns.jsonl", ".analysis"} <= names, names
    assert {"traffic.har", "traffic.vcr.yaml", "insight.jsonl"} <= names, names
    assert leaks(scanners_findings(outputs, scratch), SECRETS) == []
    for path in outputs:
        text = path.read_bytes().decode("utf-8", "replace")
        raw = [name for name, _, secret in CORPUS if any(written in text for written in forms(secret))]
        assert raw == [], path
