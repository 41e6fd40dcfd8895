"""A HAR holding the corpus's credentials raw (in a request's text, fields, headers and URL, an answer streamed in
pieces, WebSocket frames) is imported, and two established secret scanners (detect-secrets, secretlint) find none of
them in the run folder it makes, nor does a plain search, raw or JSON-escaped; the import says the source held
secrets unmasked."""

import json
import os
import subprocess
import sys

from conftest import PROJECT_ROOT
from secret_corpus import CORPUS, SECRETS
from secret_oracles import leaks, scanners_findings, shown

TEXT = "\n\n".join(text for _, text, _ in CORPUS)
HEADERS = [
    ("authorization", "Bearer " + SECRETS[32]),
    ("x-debug", "db=postgres://admin:" + SECRETS[19] + "@db/prod"),
    ("cookie", "sessionid=" + SECRETS[25]),
]


def pieces(text: str, size: int = 7) -> list[str]:
    """The text as a model streams it: a few characters per delta, so no delta holds a whole secret."""
    return [text[start : start + size] for start in range(0, len(text), size)]


def streamed() -> list[dict]:
    events = [{"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}}]
    events += [{"type": "response.output_text.delta", "item_id": "msg_1", "delta": piece} for piece in pieces(TEXT)]
    usage = {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}
    return events + [{"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-5", "usage": usage}}]


def raw_har() -> dict:
    request = {
        "model": "gpt-5",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": TEXT}]}],
        "api_key": SECRETS[0],
        "metadata": {"db": {"password": SECRETS[2]}},
    }
    events = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in streamed())
    headers = [{"name": name, "value": value} for name, value in [("content-type", "application/json"), *HEADERS]]
    url = "https://api.openai.com/v1/responses?session_token=" + SECRETS[30]
    answer = {"status": 200, "headers": [{"name": "content-type", "value": "text/event-stream"}]}
    socket_frames = [
        {"type": "send", "time": 1767225600.5, "opcode": 1, "data": json.dumps({"type": "response.create", **request})}
    ]
    socket_frames += [
        {"type": "receive", "time": 1767225601.0, "opcode": 1, "data": json.dumps(event)} for event in streamed()
    ]
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "a browser", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2026-01-01T00:00:00.000Z",
                    "request": {
                        "method": "POST",
                        "url": url,
                        "headers": headers,
                        "postData": {"text": json.dumps(request)},
                    },
                    "response": answer | {"content": {"mimeType": "text/event-stream", "text": events}},
                    "timings": {"send": 1, "wait": 20, "receive": 200},
                },
                {
                    "startedDateTime": "2026-01-01T00:00:00.400Z",
                    "request": {"method": "GET", "url": url.replace("https", "wss"), "headers": headers},
                    "response": {"status": 101, "headers": []},
                    "_webSocketMessages": socket_frames,
                },
            ],
        }
    }


def test_a_har_holding_raw_secrets_imports_into_a_run_no_scanner_finds_one_in(tmp_path):
    source, data_dir = tmp_path / "session.har", tmp_path / "data"
    source.write_text(json.dumps(raw_har()))
    result = subprocess.run(
        [sys.executable, "-m", "probe.import_capture", str(source), "--label", "DB_PASSWORD=" + SECRETS[0]],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PROBE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    [run] = (data_dir / "imported").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["note"].startswith("the source held ") and "secrets unmasked" in manifest["note"]
    assert (
        f"warning: {manifest['note']}" in result.stderr
        and f"- Note: {manifest['note']}" in (run / "report.md").read_text()
    )
    turns = [json.loads(line) for line in (run / "turns.jsonl").read_text().splitlines()]
    assert [turn["kind"] for turn in turns] == ["http", "websocket"] and all(turn["usage"] for turn in turns)
    printed = tmp_path / "printed.txt"
    printed.write_text(result.stdout + result.stderr)
    outputs = [path for path in run.rglob("*") if path.is_file()] + [printed]
    assert {path.name for path in outputs} >= {"traffic.jsonl", "manifest.json", "report.md", "turns.jsonl"}
    found = scanners_findings([source, *outputs], tmp_path)  # the scanners started once for all
    # They find the corpus's secrets in the source itself: otherwise a clean result would prove nothing.
    raw = leaks([finding for finding in found if finding[1] == shown(source)], SECRETS)
    assert len({finding[2] for finding in raw}) >= 5, raw
    assert leaks([finding for finding in found if finding[1] != shown(source)], SECRETS) == []
    for path in outputs:
        text = path.read_text(errors="replace")
        held = [name for name, _, secret in CORPUS if secret in text or json.dumps(secret)[1:-1] in text]
        assert held == [], path.name
