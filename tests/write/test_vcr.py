"""`export --format vcr`: a run's HTTP exchanges as a VCR.py cassette, replayed by vcrpy to the real openai and
anthropic SDKs, which get back the answers the agent got (text, tool calls, usage, all computed here from
traffic.jsonl); secrets as masked as in the HAR, WebSocket and unanswered exchanges left out with one warning
each, the cassette a derived file like the HAR, a folder without a capture one error line."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import anthropic
import openai
import pytest
import vcr
import yaml
from conftest import PROJECT_ROOT, run_with_traffic
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from probe.analysis import export
from probe.runs.folders import CAPTURE_FILES

CODEX_HTTP = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"  # OpenAI Responses over HTTP and SSE
CLAUDE_CODE = PROJECT_ROOT / "data/claude-code/20261125-122623-sample-mock"  # Anthropic Messages, streamed
CODEX_WEBSOCKET = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"  # three turns on one socket
# The SDKs send the recorded request body itself (see sdk_arguments), so the body is matched too: each request
# gets the interaction recorded for it, not merely the next one on the same path.
MATCH_ON = ["method", "scheme", "host", "port", "path", "query", "body"]
DROPPED = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def copied(run: Path, tmp_path: Path) -> Path:
    """The run's capture files in a folder of the test's own: the bundled samples are only read."""
    copy = tmp_path / run.parent.name / run.name
    shutil.copytree(run, copy, ignore=lambda _folder, names: [name for name in names if name not in CAPTURE_FILES])
    return copy


def capture_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines() if line.strip()]


def sse_data(stream: str) -> list[dict]:
    """The JSON of each `data:` line of an SSE stream, read simply."""
    return [json.loads(line.removeprefix("data: ")) for line in stream.splitlines() if line.startswith("data: ")]


def sdk_arguments(body: dict, *named: str) -> dict:
    """The SDK call that sends `body` as it was recorded: the fields the SDK names, and the rest as extra_body
    (its own `stream` flag set by the SDK call)."""
    rest = {key: value for key, value in body.items() if key not in named and key != "stream"}
    return {key: body[key] for key in named} | {"extra_body": rest}


def upstream(entry: dict) -> str:
    url = urlsplit(entry["request"]["url"])
    return f"{url.scheme}://{url.netloc}"


def cassette_of(run: Path) -> Path:
    path, written = export.export_vcr(run, None)
    assert written and path == run / "traffic.vcr.yaml"
    return path


def test_the_openai_sdk_streams_a_codex_run_back_from_its_cassette(tmp_path):
    run = copied(CODEX_HTTP, tmp_path)
    cassette = cassette_of(run)
    entries = capture_lines(run)
    [refused] = [entry for entry in entries if entry["request"]["method"] == "GET"]  # the WebSocket upgrade
    posts = [entry for entry in entries if entry["request"]["method"] == "POST"]
    client = openai.OpenAI(api_key="sk-replay", base_url=upstream(posts[0]) + "/v1", max_retries=0)
    with vcr.use_cassette(str(cassette), record_mode="none", match_on=MATCH_ON) as played:
        with pytest.raises(openai.APIStatusError) as error:
            client.get("/responses", cast_to=object)
        assert error.value.status_code == refused["response"]["status"] == 426
        assert error.value.body == refused["response"]["body"]["error"]
        texts, calls = [], []
        for entry in posts:
            body = entry["request"]["body"]
            recorded = sse_data(entry["response"]["body"])
            events = list(client.responses.create(stream=True, **sdk_arguments(body, "model")))
            assert [event.type for event in events] == [event["type"] for event in recorded]
            text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
            assert text == "".join(
                event["delta"] for event in recorded if event["type"] == "response.output_text.delta"
            )
            answer = events[-1].response
            [completed] = [event["response"] for event in recorded if event["type"] == "response.completed"]
            call = [(item.name, item.arguments, item.call_id) for item in answer.output if item.type == "function_call"]
            assert call == [
                (item["name"], item["arguments"], item["call_id"])
                for item in completed["output"]
                if item["type"] == "function_call"
            ]
            usage = completed["usage"]
            assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.usage.total_tokens) == (
                usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]
            )  # fmt: skip
            reasoning = usage["output_tokens_details"]["reasoning_tokens"]
            assert answer.usage.output_tokens_details.reasoning_tokens == reasoning
            texts.append(text)
            calls += call
        assert played.all_played and played.play_count == 3
    # What the mock answered: a tool call, then the answer after it.
    assert calls == [("sleep", '{"duration_ms": 10}', calls[0][2])]
    assert texts[0] == "" and texts[1].startswith('Here is my answer to "write a hello world function"')


def test_the_anthropic_sdk_streams_a_claude_code_run_back_from_its_cassette(tmp_path):
    run = copied(CLAUDE_CODE, tmp_path)
    cassette = cassette_of(run)
    entries = capture_lines(run)
    client = anthropic.Anthropic(api_key="replay-key", base_url=upstream(entries[0]), max_retries=0)
    answers = []
    with vcr.use_cassette(str(cassette), record_mode="none", match_on=MATCH_ON) as played:
        for entry in entries:
            body = entry["request"]["body"]
            # Claude Code calls the beta endpoint (/v1/messages?beta=true), as the SDK's beta client does.
            with client.beta.messages.stream(**sdk_arguments(body, "model", "max_tokens", "messages")) as stream:
                text = "".join(stream.text_stream)
                answer = stream.get_final_message()
            recorded = sse_data(entry["response"]["body"])
            deltas = [event["delta"] for event in recorded if event["type"] == "content_block_delta"]
            assert text == "".join(delta["text"] for delta in deltas if delta["type"] == "text_delta")
            thinking = [block.thinking for block in answer.content if block.type == "thinking"]
            assert "".join(thinking) == "".join(
                delta["thinking"] for delta in deltas if delta["type"] == "thinking_delta"
            )
            tools = [(block.id, block.name, block.input) for block in answer.content if block.type == "tool_use"]
            started = [event for event in recorded if event["type"] == "content_block_start"]
            assert tools == [
                (
                    start["content_block"]["id"],
                    start["content_block"]["name"],
                    json.loads(partial_json(recorded, start)),
                )
                for start in started
                if start["content_block"]["type"] == "tool_use"
            ]
            [final] = [event for event in recorded if event["type"] == "message_delta"]
            assert answer.stop_reason == final["delta"]["stop_reason"]
            usage = answer.usage
            assert (
                usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens,
            ) == (
                final["usage"]["input_tokens"], final["usage"]["output_tokens"],
                final["usage"]["cache_read_input_tokens"], final["usage"]["cache_creation_input_tokens"],
            )  # fmt: skip
            answers.append((text, tools, answer.stop_reason))
        assert played.all_played and played.play_count == 2
    # What the mock answered: a Bash call, then the answer after it.
    (first_text, first_tools, first_stop), (second_text, second_tools, second_stop) = answers
    assert first_tools[0][1:] == (
        "Bash",
        {"command": "echo agent-probe tool call", "description": "Print a marker line"},
    )
    assert (first_text, first_stop) == ("Let me run Bash first.", "tool_use")
    assert second_tools == [] and second_stop == "end_turn" and "def hello_world() -> str:" in second_text


def partial_json(events: list[dict], start: dict) -> str:
    """The tool input streamed for the content block `start` opens, joined."""
    return "".join(
        event["delta"]["partial_json"]
        for event in events
        if event["type"] == "content_block_delta"
        and event["index"] == start["index"]
        and event["delta"]["type"] == "input_json_delta"
    )


@pytest.mark.parametrize("sample", [CODEX_HTTP, CLAUDE_CODE], ids=["codex-http", "claude-code"])
def test_each_http_exchange_is_the_interaction_vcrpy_reads_back(sample, tmp_path):
    run = copied(sample, tmp_path)
    text = cassette_of(run).read_text()
    requests, responses = deserialize(text, yamlserializer)  # vcrpy's own reading of a cassette
    raw = yaml.safe_load(text)
    entries = capture_lines(run)
    assert raw["version"] == 1 and len(raw["interactions"]) == len(requests) == len(entries)
    for request, response, interaction, entry in zip(requests, responses, raw["interactions"], entries):
        assert (request.method, request.uri) == (entry["request"]["method"], entry["request"]["url"])
        if entry["request"]["body_format"] == "json":
            assert json.loads(request.body) == entry["request"]["body"]
        else:
            assert request.body == b""
        assert interaction["request"]["headers"] == headers_kept(entry["request"]["headers"])
        assert response["status"] == {"code": entry["response"]["status"], "message": entry["response"]["reason"]}
        assert interaction["response"]["headers"] == headers_kept(entry["response"]["headers"])
        stored = entry["response"]["body"]
        if entry["response"]["body_format"] == "text":  # an SSE stream, whole, byte for byte
            assert entry["response"]["headers"][0] == ["content-type", "text/event-stream"]
            assert response["body"]["string"] == stored.encode()
            assert len(sse_data(stored)) >= 10
        else:
            assert json.loads(response["body"]["string"]) == stored


def headers_kept(pairs: list[list[str]]) -> dict[str, list[str]]:
    """The captured headers as a cassette should hold them: the ones that described the body in transit left out."""
    kept: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.lower() not in DROPPED:
            kept.setdefault(name, []).append(value)
    return kept


def test_secrets_stay_masked_unless_keep_secrets_is_given(tmp_path):
    run = copied(CLAUDE_CODE, tmp_path)
    key = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"  # made up, in two pieces
    lines = capture_lines(run)
    lines[1]["request"]["headers"].append(["x-debug", f"key={key}"])
    lines[1]["request"]["url"] += "&session_token=plainsecret42"
    lines[1]["request"]["body"]["metadata"]["note"] = f"the key is {key}"
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    masked = cassette_of(run)
    data = masked.read_bytes()
    assert key.encode() not in data and b"plainsecret42" not in data
    interactions = yaml.safe_load(data)["interactions"]
    # The fingerprint the capture masked the key with stays as it was.
    assert [item["request"]["headers"]["x-api-key"] for item in interactions] == [["[REDACTED sha256:3f7183a1]"]] * 2
    [debug] = interactions[1]["request"]["headers"]["x-debug"]
    assert debug.startswith("key=[REDACTED sha256:")
    assert "[REDACTED sha256:" in json.loads(interactions[1]["request"]["body"])["metadata"]["note"]
    assert (
        "plainsecret42" not in interactions[1]["request"]["uri"]
        and "session_token=" in interactions[1]["request"]["uri"]
    )
    unmasked, written = export.export_vcr(run, None, keep_secrets=True)
    assert written and unmasked.name == "traffic.vcr.unmasked.yaml"
    assert key.encode() in unmasked.read_bytes() and b"plainsecret42" in unmasked.read_bytes()
    # An export that follows writes the masked file again, never the unmasked one in its place.
    assert export.export_vcr(run, None, force=True)[0] == masked and key.encode() not in masked.read_bytes()


def test_websocket_exchanges_are_left_out_with_one_warning(tmp_path, capsys):
    run = copied(CODEX_WEBSOCKET, tmp_path)
    assert len(capture_lines(run)) == 3  # three turns of one socket, nothing else
    cassette = cassette_of(run)
    assert capsys.readouterr().err.splitlines() == [
        "warning: 3 WebSocket exchanges left out of the cassette: VCR.py replays HTTP exchanges only",
        "0 interactions in a VCR.py cassette",
    ]
    assert cassette.read_text() == "interactions: []\nversion: 1\n"
    assert deserialize(cassette.read_text(), yamlserializer) == ([], [])


def test_a_mixed_capture_keeps_only_its_answered_http_exchanges(tmp_path, capsys):
    """Socket turns between HTTP exchanges, an exchange whose upstream never answered and a damaged line: the
    cassette holds the HTTP exchanges that got an answer, in order, and each kind left out is one warning."""
    sockets, http = capture_lines(CODEX_WEBSOCKET), capture_lines(CODEX_HTTP)
    unanswered = http[1] | {"response": None, "error": "connection refused", "complete": False}
    lines = [sockets[0], http[0], sockets[1], "{not json", unanswered, http[1], sockets[2], http[2]]
    cassette = cassette_of(run_with_traffic(tmp_path, lines))
    assert capsys.readouterr().err.splitlines() == [
        "warning: line 4: not valid JSON, skipped",
        "warning: 3 WebSocket exchanges left out of the cassette: VCR.py replays HTTP exchanges only",
        "warning: 1 exchange without a response left out of the cassette: there is nothing to replay",
        "3 interactions in a VCR.py cassette",
    ]
    requests, responses = deserialize(cassette.read_text(), yamlserializer)
    assert [
        (request.method, request.uri, response["status"]["code"]) for request, response in zip(requests, responses)
    ] == [(entry["request"]["method"], entry["request"]["url"], entry["response"]["status"]) for entry in http]


def test_odd_bodies_headers_and_reasons_come_back_exactly(tmp_path):
    """A capture may hold anything: bytes that are not UTF-8, a carriage return, a reason phrase on several lines
    or outside ASCII, a body the capture could not decode, one header name in two spellings. vcrpy reads each
    back as it was stored."""

    def line(reason: str, request: dict, response: dict) -> dict:
        return {
            "schema": 1, "kind": "http", "proxy": "p", "complete": True, "timing": {"start": 1.0},
            "request": {"method": "POST", "url": "https://api.example.test/v1/x?a=1", "headers": [], **request},
            "response": {"status": 200, "reason": reason, "headers": [], **response},
        }  # fmt: skip

    odd = [
        line("two\nlines\n\n", {"body": "ÿ\n\n", "body_format": "text"},
             {"body": "data: x\n\n\n", "body_format": "text"}),
        line("Fine é", {"headers": [["X-Trace", "1"], ["x-trace", "2"], ["Content-Length", "3"]],
                        "body": {"q": "é"}, "body_format": "json"},
             {"body": "a\r\nb  \n", "body_format": "text", "content_encoding": "gzip",
              "headers": [["Content-Encoding", "gzip"], ["Content-Length", "9"], ["Connection", "close"]]}),
        line("OK", {"headers": [["content-encoding", "compress"]], "body": "H4sIAAAA", "body_format": "base64"},
             {"body": "//79", "body_format": "base64"}),
    ]  # fmt: skip
    cassette = cassette_of(run_with_traffic(tmp_path, odd))
    requests, responses = deserialize(cassette.read_text(), yamlserializer)
    assert [request.body for request in requests] == [
        "ÿ\n\n".encode(),
        '{"q":"é"}'.encode(),
        b"\x1f\x8b\x08\x00\x00\x00",
    ]
    assert [response["body"]["string"] for response in responses] == [b"data: x\n\n\n", b"a\r\nb  \n", b"\xff\xfe\xfd"]
    # vcrpy's httpx stub replays the phrase as ASCII: one outside it is left for httpx to take from the code.
    assert [response["status"]["message"] for response in responses] == ["two\nlines\n\n", "", "OK"]
    headers = [item["request"]["headers"] for item in yaml.safe_load(cassette.read_text())["interactions"]]
    assert headers == [{}, {"X-Trace": ["1", "2"]}, {"content-encoding": ["compress"]}]  # still compressed: kept
    assert responses[1]["headers"] == {}  # decoded when captured: its encoding, length and connection go


def test_the_cassette_is_made_again_only_when_the_capture_changed(private_data_dir, capsys):
    run = copied(CODEX_HTTP, private_data_dir)
    assert export.main(["--format", "vcr"]) == 0
    assert capsys.readouterr().out == f"vcr: {run}/traffic.vcr.yaml\n"
    assert export.main(["--run", run.name, "--format", "vcr"]) == 0
    assert capsys.readouterr().out.endswith("(up to date: the capture has not changed; --force writes it)\n")
    assert export.main(["--format", "vcr", "--force"]) == 0
    assert "(up to date" not in capsys.readouterr().out
    later = (run / "traffic.vcr.yaml").stat().st_mtime + 5
    os.utime(run / "traffic.jsonl", (later, later))
    assert export.main(["--format", "vcr"]) == 0
    assert "(up to date" not in capsys.readouterr().out
    # A cassette put in its place (copied in, written by hand) is not one this machine made: it is made again.
    (run / "traffic.vcr.yaml").write_text("interactions: []\nversion: 1\n")
    assert export.main(["--format", "vcr"]) == 0
    assert "(up to date" not in capsys.readouterr().out
    assert len(yaml.safe_load((run / "traffic.vcr.yaml").read_text())["interactions"]) == 3


def test_a_folder_without_a_capture_is_one_error_line(tmp_path):
    folder = tmp_path / "20260101-000000-empty"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "export", "--format", "vcr", "--run", str(folder)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == f"error: {folder}/traffic.jsonl: no such file (is {folder} a run folder?)\n"
    assert not (folder / "traffic.vcr.yaml").exists()
