"""HAR export: every exchange an entry with HAR 1.2's required fields, bodies and frames whole, times from the
capture, secrets as masked as in traffic.jsonl, and the file read back by the real mitmdump."""

import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, run_with_traffic

from probe.analysis import analyze, export
from probe.capture.proxies import find_mitmdump
from probe.common.errors import RunError

SAMPLES = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*"))
HTTP_SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
WEBSOCKET_SAMPLE = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"

# HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the fields every object must have.
REQUIRED = {
    "log": {"version", "creator", "entries"},
    "creator": {"name", "version"},
    "entry": {"startedDateTime", "time", "request", "response", "cache", "timings"},
    "request": {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"},
    "response": {
        "status",
        "statusText",
        "httpVersion",
        "cookies",
        "headers",
        "content",
        "redirectURL",
        "headersSize",
        "bodySize",
    },
    "content": {"size", "mimeType"},
    "timings": {"send", "wait", "receive"},
}


def copied(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.parent.name / run.name
    copy.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy2(run / name, copy / name)
    return copy


def exported(run: Path, tmp_path: Path) -> tuple[dict, list[dict]]:
    copy = copied(run, tmp_path)
    path, written = export.export_har(copy, None)
    assert written and path == copy / "traffic.har"
    entries = [json.loads(line) for line in (copy / "traffic.jsonl").read_text().splitlines()]
    return json.loads(path.read_text()), entries


def check_fields(name: str, value: dict) -> None:
    missing = REQUIRED[name] - set(value)
    assert not missing, f"{name} lacks {missing}"


@pytest.mark.parametrize("run", SAMPLES, ids=[run.parent.name + "/" + run.name.split("-sample-")[1] for run in SAMPLES])
def test_every_exchange_is_an_entry_with_every_required_field(run, tmp_path):
    har, entries = exported(run, tmp_path)
    check_fields("log", har["log"])
    assert har["log"]["version"] == "1.2"
    check_fields("creator", har["log"]["creator"])
    assert har["log"]["creator"]["name"] == "agent-probe"
    assert len(har["log"]["entries"]) == len(entries)
    for entry, captured in zip(har["log"]["entries"], entries):
        check_fields("entry", entry)
        check_fields("request", entry["request"])
        check_fields("response", entry["response"])
        check_fields("content", entry["response"]["content"])
        check_fields("timings", entry["timings"])
        for pair in entry["request"]["headers"] + entry["response"]["headers"]:
            assert set(pair) >= {"name", "value"}
        assert entry["request"]["method"] == captured["request"]["method"]
        assert entry["request"]["url"] == captured["request"]["url"]
        assert entry["response"]["status"] == captured["response"]["status"]
        # Times come from the capture: the start, and the parts of the exchange in milliseconds.
        timing = captured["timing"]
        assert datetime.fromisoformat(entry["startedDateTime"]).timestamp() == pytest.approx(timing["start"])
        if "end" in timing and "request_end" in timing:
            assert entry["time"] == pytest.approx((timing["end"] - timing["start"]) * 1000, abs=0.01)
            started = timing.get("response_headers", timing.get("first_byte"))
            assert entry["timings"]["wait"] == pytest.approx((started - timing["request_end"]) * 1000, abs=0.01)
        if captured["request"].get("body_format") == "json":
            assert json.loads(entry["request"]["postData"]["text"]) == captured["request"]["body"]


def test_a_streamed_answer_goes_whole_into_the_content(tmp_path):
    har, entries = exported(HTTP_SAMPLE, tmp_path)
    streamed = [(entry, captured) for entry, captured in zip(har["log"]["entries"], entries)
                if captured["response"].get("body_format") == "text"]  # fmt: skip
    assert streamed
    for entry, captured in streamed:
        content = entry["response"]["content"]
        assert content["mimeType"].startswith("text/event-stream")
        assert content["text"] == captured["response"]["body"]
        assert content["text"].count("\ndata: ") + content["text"].startswith("data: ") >= 10
        assert content["size"] == len(captured["response"]["body"].encode())


def test_websocket_exchanges_carry_their_messages(tmp_path):
    har, entries = exported(WEBSOCKET_SAMPLE, tmp_path)
    sockets = [(entry, captured) for entry, captured in zip(har["log"]["entries"], entries)
               if captured["kind"] == "websocket"]  # fmt: skip
    assert sockets
    for entry, captured in sockets:
        assert entry["_resourceType"] == "websocket"
        messages = entry["_webSocketMessages"]
        assert len(messages) == len(captured["messages"])
        for message, frame in zip(messages, captured["messages"]):
            assert message["type"] == ("send" if frame["from"] == "client" else "receive")
            assert message["time"] == frame["t"] and message["opcode"] == 1
            body = frame["body"]
            assert (json.loads(message["data"]) if frame.get("body_format") == "json" else message["data"]) == body


def test_secrets_stay_as_masked_as_in_the_capture(tmp_path):
    run = copied(HTTP_SAMPLE, tmp_path)
    fingerprint = "[REDACTED sha256:0123456789ab]"
    lines = (run / "traffic.jsonl").read_text().splitlines()
    entry = json.loads(lines[1])
    entry["request"]["headers"].append(["authorization", f"Bearer {fingerprint}"])
    lines[1] = json.dumps(entry)
    (run / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    path, _ = export.export_har(run, None)
    har = json.loads(path.read_text())
    headers = {pair["name"]: pair["value"] for pair in har["log"]["entries"][1]["request"]["headers"]}
    assert headers["authorization"] == f"Bearer {fingerprint}"


def test_mitmdump_reads_back_every_flow(tmp_path):
    for run in (HTTP_SAMPLE, WEBSOCKET_SAMPLE):
        _har, entries = exported(run, tmp_path / run.name)
        result = subprocess.run(
            [find_mitmdump(), "-n", "-r", str(tmp_path / run.name / run.parent.name / run.name / "traffic.har")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        seen = re.findall(r"^\S+: (GET|POST) (\S+)$", result.stdout, re.M)
        assert seen == [(entry["request"]["method"], entry["request"]["url"]) for entry in entries]
        statuses = re.findall(r"^\s+<< (\d{3})", result.stdout, re.M)
        assert [int(status) for status in statuses] == [entry["response"]["status"] for entry in entries]


def test_the_export_is_made_again_only_when_the_capture_changed(private_data_dir, capsys):
    run = copied(HTTP_SAMPLE, private_data_dir)
    assert analyze.main(["--run", "latest"]) == 0
    assert export.main([]) == 0
    assert capsys.readouterr().out.endswith(f"har: {run}/traffic.har\n")
    assert export.main(["--run", run.name]) == 0
    assert "(up to date" in capsys.readouterr().out
    assert analyze.main(["--run", "latest"]) == 0
    assert "(up to date" in capsys.readouterr().out  # the two rules share the run's ledger
    later = (run / "traffic.har").stat().st_mtime + 5
    os.utime(run / "traffic.jsonl", (later, later))
    assert export.main([]) == 0
    assert "(up to date" not in capsys.readouterr().out


def test_bad_runs_and_outputs_are_one_line_errors(private_data_dir, tmp_path):
    with pytest.raises(RunError, match="no run"):
        export.main(["--run", "nothing-here"])
    run = copied(HTTP_SAMPLE, private_data_dir)
    with pytest.raises(RunError, match="capture file"):
        export.main(["--run", str(run), "--output", str(tmp_path / "traffic.jsonl")])


def test_odd_exchanges_still_become_entries(tmp_path):
    """A capture may hold anything: a URL without a host, an empty method, an odd status, a header that is not
    Latin-1, a frame with no time. Each still becomes an entry, and the HAR stays JSON that mitmdump reads."""
    odd = [
        {"schema": 1, "kind": "http", "proxy": "p", "complete": True, "timing": {"start": 1.0},
         "request": {"method": "POST", "url": "not a url", "path": "x", "headers": [["x-name", "é漢"]],
                     "body": "hi", "body_format": "text"},
         "response": {"status": 200, "headers": [], "body": None, "body_format": "empty"}},
        {"schema": 1, "kind": "http", "proxy": "p", "complete": True, "timing": {},
         "request": {"method": "", "url": "", "headers": []},
         "response": {"status": 599, "headers": [["content-encoding", "gzip"]], "body": "x", "body_format": "text"}},
        {"schema": 1, "kind": "websocket", "proxy": "p", "complete": True, "timing": {"start": 1},
         "request": {"method": "GET", "url": "ws://h/x", "headers": []}, "response": {"status": 101, "headers": []},
         "messages": [{"from": "client", "t": "bad", "body": "AAAA", "body_format": "base64"}]},
    ]  # fmt: skip
    path, _ = export.export_har(run_with_traffic(tmp_path, odd), None)
    entries = json.loads(path.read_text())["log"]["entries"]
    assert [entry["request"]["url"] for entry in entries] == [
        "http://unknown.invalid/x", "http://unknown.invalid/", "ws://h:80/x"
    ]  # fmt: skip
    assert entries[0]["request"]["postData"]["text"] == "hi"
    assert {"name": "x-name", "value": "é漢"} in entries[0]["request"]["headers"]
    assert entries[1]["response"]["content"]["text"] == "x"  # stored decoded: not decoded again
    assert entries[2]["_webSocketMessages"][0]["data"] == "AAAA" and entries[2]["_webSocketMessages"][0]["opcode"] == 2
    result = subprocess.run([find_mitmdump(), "-n", "-r", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and len(re.findall(r"^\S+: ", result.stdout, re.M)) == 3


def test_a_keep_secrets_capture_exports_masked_unless_keep_secrets_is_given_again(tmp_path):
    run = copied(HTTP_SAMPLE, tmp_path)
    key = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"  # made up, in two pieces
    lines = (run / "traffic.jsonl").read_text().splitlines()
    entry = json.loads(lines[1])
    entry["request"]["headers"].append(["x-debug", f"key={key}"])
    entry["request"]["url"] += "?session_token=plainsecret42"
    lines[1] = json.dumps(entry)
    (run / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    masked_har, _ = export.export_har(run, None)
    masked_flows, _ = export.export_mitm(run, None, force=True)
    raw_har, _ = export.export_har(run, None, keep_secrets=True)
    raw_flows, _ = export.export_mitm(run, None, keep_secrets=True)
    assert (masked_har.name, masked_flows.name) == ("traffic.har", "flows.mitm")
    assert (raw_har.name, raw_flows.name) == ("traffic.unmasked.har", "flows.unmasked.mitm")
    for path in (masked_har, masked_flows):
        data = path.read_bytes()
        assert key.encode() not in data and b"plainsecret42" not in data and b"[REDACTED sha256:" in data
    for path in (raw_har, raw_flows):
        assert key.encode() in path.read_bytes() and b"plainsecret42" in path.read_bytes()
    # An export that follows writes the masked file again, never the unmasked one in its place.
    assert export.export_har(run, None, force=True)[0] == masked_har and key.encode() not in masked_har.read_bytes()
