"""`export --format mitm`: flows.mitm made from traffic.jsonl on demand, read back by mitmproxy's FlowReader and by
the real mitmdump, with the capture's headers and bodies, a WebSocket's turns as its one flow, odd lines as warnings
and capture files never overwritten."""

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, run_with_traffic
from mitmproxy import io as flow_io

from probe.analysis import export
from probe.capture.proxies import find_mitmdump
from probe.common.errors import RunError

WEBSOCKET_SAMPLE = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"


def copied(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.parent.name / run.name
    copy.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        if (run / name).is_file():
            shutil.copy2(run / name, copy / name)
    return copy


def read_flows(path: Path) -> list:
    with path.open("rb") as file:
        return list(flow_io.FlowReader(file).stream())


def captured(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]


def stored_bytes(body: dict) -> bytes:
    """A body of traffic.jsonl as the bytes the flow should hold."""
    if body.get("body_format") == "base64":
        return base64.b64decode(body["body"])
    if body.get("body_format") == "text":
        return body["body"].encode()
    return b""


def same_body(message, body: dict) -> None:
    if body.get("body_format") == "json":
        assert json.loads(message.raw_content) == body["body"]
    else:
        assert message.raw_content == stored_bytes(body)


def expected_headers(message: dict) -> list[list[str]]:
    """The captured headers, less Content-Encoding where the body was stored decoded."""
    decoded = "content_encoding" in message
    return [pair for pair in message["headers"] if not (decoded and pair[0].lower() == "content-encoding")]


def mitmdump_lists(path: Path) -> list[tuple[str, str]]:
    """The requests the real mitmdump reads from a flow file: (method, URL) each."""
    result = subprocess.run([find_mitmdump(), "-n", "-r", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return re.findall(r"^\S+: (GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) (\S+)$", result.stdout, re.M)


def check_http_flows(run: Path, tmp_path: Path) -> list:
    copy = copied(run, tmp_path)
    path, written = export.export_mitm(copy, None)
    assert written and path == copy / "flows.mitm"
    entries = [entry for entry in captured(copy) if entry["kind"] == "http"]
    flows = read_flows(path)
    assert len(flows) == len(entries) > 0
    for flow, entry in zip(flows, entries):
        assert flow.request.method == entry["request"]["method"] and flow.request.url == entry["request"]["url"]
        assert [list(pair) for pair in flow.request.headers.items(multi=True)] == expected_headers(entry["request"])
        same_body(flow.request, entry["request"])
        assert flow.response.status_code == entry["response"]["status"]
        assert [list(pair) for pair in flow.response.headers.items(multi=True)] == expected_headers(entry["response"])
        same_body(flow.response, entry["response"])
        assert flow.request.timestamp_start == entry["timing"]["start"]
        assert flow.response.timestamp_end == entry["timing"]["end"]
        assert (flow.error.msg if flow.error else None) == entry["error"]
    # mitmdump shows an answered flow that ended with an error twice: answered, then with its error.
    assert mitmdump_lists(path) == [
        (entry["request"]["method"], entry["request"]["url"])
        for entry in entries
        for _ in range(2 if entry["error"] and entry["response"] else 1)
    ]
    return flows


@FRESH_RUNS
def test_a_codex_capture_becomes_its_flows_read_back_by_mitmproxy(fresh_runs, tmp_path):
    _, codex_run, _ = fresh_runs
    flows = check_http_flows(codex_run, tmp_path)
    streamed = [flow for flow in flows if "event-stream" in flow.response.headers.get("content-type", "")]
    assert streamed and all(b"response.completed" in flow.response.raw_content for flow in streamed)


@FRESH_RUNS
def test_a_claude_code_capture_becomes_its_flows_read_back_by_mitmproxy(fresh_runs, tmp_path):
    _, _, claude_run = fresh_runs
    flows = check_http_flows(claude_run, tmp_path)
    messages = [flow for flow in flows if flow.request.path.startswith("/v1/messages")]
    assert messages and all(b"message_stop" in flow.response.raw_content for flow in messages)
    assert all(json.loads(flow.request.raw_content)["model"] for flow in messages)


def test_a_websockets_turns_become_its_one_flow_with_every_frame(tmp_path):
    copy = copied(WEBSOCKET_SAMPLE, tmp_path)
    entries = captured(copy)
    assert len(entries) == 3 and len({entry["flow_id"] for entry in entries}) == 1  # three turns of one socket
    path, _ = export.export_mitm(copy, None)
    [flow] = read_flows(path)
    frames = [frame for entry in entries for frame in entry["messages"]]
    assert len(flow.websocket.messages) == len(frames) > 3
    for message, frame in zip(flow.websocket.messages, frames):
        assert message.from_client == (frame["from"] == "client") and message.timestamp == frame["t"]
        assert json.loads(message.content) == frame["body"]
    assert flow.response.status_code == 101 and flow.request.url == entries[0]["request"]["url"]
    result = subprocess.run([find_mitmdump(), "-n", "-r", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("WebSocket text message") == len(frames)


def socket_turn(flow_id: str, seq: int, ended_by: str, text: str) -> dict:
    return {
        "schema": 1, "kind": "websocket", "id": f"{flow_id}:{seq}", "flow_id": flow_id, "seq": seq, "proxy": "p",
        "complete": ended_by == "terminal-event", "ended_by": ended_by,
        "timing": {"start": 10.0 + seq, "end": 11.0 + seq},
        "request": {"method": "GET", "url": f"http://h/{flow_id}",
                    "headers": [["authorization", "[REDACTED sha256:0123abcd]"]]},
        "response": {"status": 101, "headers": []},
        "messages": [{"from": "client", "t": 10.0 + seq, "body": {"ask": text}, "body_format": "json"},
                     {"from": "server", "t": 10.5 + seq, "body": f"answer {text}", "body_format": "text"}],
    }  # fmt: skip


def http_line(path: str) -> dict:
    return {
        "schema": 1, "kind": "http", "proxy": "p", "complete": True, "timing": {"start": 1.0, "end": 2.0},
        "request": {"method": "POST", "url": f"http://h{path}", "headers": [], "body": {"q": 1}, "body_format": "json"},
        "response": {"status": 200, "headers": [], "body": "ok", "body_format": "text"},
    }  # fmt: skip


def test_interleaved_sockets_are_each_one_flow_given_when_they_end(tmp_path):
    """Turns of two sockets between other exchanges: a socket's flow comes when its last turn is read, one whose
    end was never recorded at the end of the file."""
    lines = [
        socket_turn("a", 0, "terminal-event", "a0"),
        socket_turn("b", 0, "terminal-event", "b0"),
        http_line("/one"),
        socket_turn("a", 1, "next-client-message", "a1"),
        socket_turn("b", 1, "socket-closed", "b1"),
        http_line("/two"),
        socket_turn("a", 2, "terminal-event", "a2"),  # the proxy was killed with socket a still open
    ]
    path, _ = export.export_mitm(run_with_traffic(tmp_path, lines, "20260101-000000-sockets"), None)
    flows = read_flows(path)
    assert [flow.request.path for flow in flows] == ["/one", "/b", "/two", "/a"]
    by_path = {flow.request.path: flow for flow in flows}
    assert [json.loads(message.content)["ask"] for message in by_path["/a"].websocket.messages[::2]] == [
        "a0", "a1", "a2"
    ]  # fmt: skip
    assert [message.content for message in by_path["/b"].websocket.messages] == [
        b'{"ask":"b0"}', b"answer b0", b'{"ask":"b1"}', b"answer b1"
    ]  # fmt: skip
    assert by_path["/b"].websocket.timestamp_end == 12.0 and by_path["/a"].websocket.timestamp_end is None
    assert by_path["/a"].request.headers["authorization"] == "[REDACTED sha256:0123abcd]"
    assert mitmdump_lists(path) == [("POST", "http://h/one"), ("GET", "http://h/b"), ("POST", "http://h/two"),
                                    ("GET", "http://h/a")]  # fmt: skip


def test_odd_captures_give_warnings_and_flows_mitmdump_reads(tmp_path):
    """Damaged lines, a URL with no host, base64 bodies kept as sent, a frame with no time, a cut-off last line:
    one warning line each where something is left out, never a traceback, and a file mitmdump reads."""
    odd = [
        {"schema": 1, "kind": "http", "proxy": "p", "complete": True, "timing": {"start": 1.0},
         "request": {"method": "POST", "url": "not a url", "path": "x", "headers": [["x-name", "é漢"]],
                     "body": "hi", "body_format": "text"},
         "response": {"status": 200, "reason": "Fine \u00e9", "headers": [], "body": None, "body_format": "empty"}},
        {"schema": 1, "kind": "http", "proxy": "p", "complete": False, "error": "upstream stalled", "timing": {},
         "request": {"method": "", "url": "", "headers": [["content-encoding", "compress"]],
                     "body": base64.b64encode(b"\x1f\x9d\x90 not decodable").decode(), "body_format": "base64",
                     "content_encoding_error": "compress: not decoded; kept as sent"},
         "response": None},
        {"schema": 1, "kind": "websocket", "flow_id": "s", "ended_by": "socket-closed", "timing": {"start": 1},
         "request": {"url": "ws://h/x"}, "response": {"status": 101},
         "messages": [{"from": "server", "body": "AAAA", "body_format": "base64"}]},
    ]  # fmt: skip
    damaged = [odd[0], "{not json", [1, 2], *odd[1:]]
    run = run_with_traffic(tmp_path, damaged, tail='{"schema": 1, "kind": "ht')
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.export", "--run", str(run), "--format", "mitm"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "warning: line 2: not valid JSON, skipped",
        "warning: line 3: not a JSON object, skipped",
        "warning: line 6: not valid JSON, skipped (the last line is cut off: the capture was probably killed)",
        "3 flows in mitmproxy's format",
    ]
    assert result.stdout == f"mitm: {run / 'flows.mitm'}\n"
    first, second, socket = read_flows(run / "flows.mitm")
    assert first.request.url == "http://unknown.invalid/x" and first.request.raw_content == b"hi"
    assert first.request.headers["x-name"] == "é漢" and first.response.reason == "Fine \u00e9"
    # Kept as sent: still encoded, so its Content-Encoding stays with it.
    assert second.request.raw_content == b"\x1f\x9d\x90 not decodable"
    assert second.request.headers["content-encoding"] == "compress"
    assert second.response is None and second.error.msg == "upstream stalled"
    [frame] = socket.websocket.messages
    assert frame.content == b"\x00\x00\x00" and not frame.is_text and not frame.from_client
    assert frame.timestamp == 1  # the turn's start: the frame has no time of its own
    assert socket.response.status_code == 101 and socket.websocket.timestamp_end is None  # no end time recorded
    assert mitmdump_lists(run / "flows.mitm") == [
        ("POST", "http://unknown.invalid/x"), ("GET", "http://unknown.invalid/"), ("GET", "ws://h:80/x")
    ]  # fmt: skip


def test_capture_files_are_never_overwritten_and_an_older_flow_file_only_with_force(private_data_dir, capsys):
    run = copied(WEBSOCKET_SAMPLE, private_data_dir)
    for name in ("traffic.jsonl", "manifest.json"):
        before = (run / name).read_bytes()
        with pytest.raises(RunError, match="capture file"):
            export.main(["--run", str(run), "--format", "mitm", "--output", str(run / name)])
        assert (run / name).read_bytes() == before
    # A flows.mitm an older capture wrote as it recorded: kept unless --force says to replace it.
    (run / "flows.mitm").write_bytes(b"captured by an older version")
    with pytest.raises(RunError, match=r"was not made here .* --force replaces it"):
        export.main(["--run", str(run), "--format", "mitm"])
    assert (run / "flows.mitm").read_bytes() == b"captured by an older version"
    assert export.main(["--run", str(run), "--format", "mitm", "--force"]) == 0
    assert len(read_flows(run / "flows.mitm")) == 1
    capsys.readouterr()
    assert export.main(["--run", str(run), "--format", "mitm"]) == 0
    assert (
        capsys.readouterr().out
        == f"mitm: {run}/flows.mitm (up to date: the capture has not changed; --force writes it)\n"
    )
    elsewhere = private_data_dir / "elsewhere.mitm"
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "export", "--format", "mitm", "--run", str(run), "--output", str(elsewhere)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [flow.request.url for flow in read_flows(elsewhere)] == [
        flow.request.url for flow in read_flows(run / "flows.mitm")
    ]
