"""`import FILE --account TELEMETRY`: the same telemetry, written as OTLP JSON lines, as one whole OTLP JSON file,
as gemini-cli's telemetry outfile (the OpenTelemetry JS SDK's objects, pretty-printed one after another) and as
Copilot CLI's file exporter's lines, reads into the same flat records of telemetry.jsonl, masked; a file that is
none of these is one line before any run folder is made."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from probe.capture.imports import account_file
from probe.common.errors import RunError
from probe.common.paths import PROJECT_ROOT

SECRET = "sk-ant-api03-" + "Zx9Qw" * 18  # planted in a prompt the agent logged
START, END = [1795767348, 889000000], [1795767348, 982000000]
RESOURCE = {"service.name": "github-copilot", "service.version": "1.0.102"}
SCOPE = {"name": "github.copilot", "version": "1.0.102"}
SPAN_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4.1",
    "gen_ai.usage.input_tokens": 12212,
    "gen_ai.response.finish_reasons": ["tool_calls"],
    "gen_ai.input.messages": f'[{{"role":"user","content":"use {SECRET}"}}]',
}
LOG_ATTRIBUTES = {"event.name": "gemini_cli.user_prompt", "prompt_id": "p-1", "prompt": f"deploy with {SECRET}"}
POINT_ATTRIBUTES = {"gen_ai.token.type": "input", "server.port": 18977}


def key_values(plain: dict) -> list[dict]:
    """OTLP/JSON's attribute list, as an exporter writes it."""

    def value(item):
        if isinstance(item, bool):
            return {"boolValue": item}
        if isinstance(item, int):
            return {"intValue": str(item)}
        if isinstance(item, list):
            return {"arrayValue": {"values": [value(each) for each in item]}}
        return {"stringValue": item}

    return [{"key": key, "value": value(item)} for key, item in plain.items()]


def nanos(time: list[int]) -> str:
    return str(time[0] * 10**9 + time[1])


def otlp_exports() -> list[dict]:
    """One export request per signal, as the OpenTelemetry Collector's file exporter writes them."""
    resource = {"attributes": key_values(RESOURCE)}
    span = {
        "traceId": "24005217583d1ce65cab7852d4cae2ef", "spanId": "838d5857b5071335",
        "parentSpanId": "3e5e65013bdb11ed", "name": "chat gpt-4.1", "kind": 3, "startTimeUnixNano": nanos(START),
        "endTimeUnixNano": nanos(END), "attributes": key_values(SPAN_ATTRIBUTES), "status": {"code": 1},
        "events": [{"name": "first_chunk", "timeUnixNano": nanos(END), "attributes": key_values({"n": 1})}],
    }  # fmt: skip
    log = {"timeUnixNano": nanos(START), "observedTimeUnixNano": nanos(START), "attributes": key_values(LOG_ATTRIBUTES),
           "body": {"stringValue": "User prompt."}, "traceId": "24005217583d1ce65cab7852d4cae2ef",
           "spanId": "838d5857b5071335"}  # fmt: skip
    point = {"startTimeUnixNano": nanos(START), "timeUnixNano": nanos(END), "attributes": key_values(POINT_ATTRIBUTES),
             "asInt": "24532"}  # fmt: skip
    metric = {"name": "gen_ai.client.inference.usage.input_tokens", "unit": "{token}", "sum": {"dataPoints": [point]}}
    return [
        {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": SCOPE, "spans": [span]}]}]},
        {"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": SCOPE, "logRecords": [log]}]}]},
        {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"scope": SCOPE, "metrics": [metric]}]}]},
    ]


def copilot_lines() -> list[dict]:
    """The same span and metric as Copilot CLI 1.0.102's file exporter writes them (COPILOT_OTEL_FILE_EXPORTER_PATH),
    a line each: its shape as measured against the mock."""
    common = {"resource": {"attributes": RESOURCE, "schemaUrl": "https://opentelemetry.io/schemas/1.44.0"},
              "instrumentationScope": SCOPE}  # fmt: skip
    span = {
        "type": "span", "traceId": "24005217583d1ce65cab7852d4cae2ef", "spanId": "838d5857b5071335",
        "parentSpanId": "3e5e65013bdb11ed", "name": "chat gpt-4.1", "kind": 2, "startTime": START, "endTime": END,
        "attributes": SPAN_ATTRIBUTES, "status": {"code": 1},
        "events": [{"name": "first_chunk", "attributes": {"n": 1}, "time": END, "droppedAttributesCount": 0}],
    }  # fmt: skip
    point = {"attributes": POINT_ATTRIBUTES, "startTime": START, "endTime": END, "value": 24532}
    metric = {"type": "metric", "name": "gen_ai.client.inference.usage.input_tokens", "description": "Input tokens.",
              "unit": "{token}", "dataPoints": [point]}  # fmt: skip
    return [span | common, metric | common]


def sdk_objects() -> list[dict]:
    """The same span, log record and metric as gemini-cli 0.61.0's telemetry outfile holds them: the JS SDK's
    objects as safeJsonStringify writes them (their private fields too), its shape as measured against the mock."""
    resource = {"_rawAttributes": [[key, value] for key, value in RESOURCE.items()] + [["host.id", None]],
                "_asyncAttributesPending": False}  # fmt: skip
    span = {
        "_spanContext": {"traceId": "24005217583d1ce65cab7852d4cae2ef", "spanId": "838d5857b5071335",
                         "traceFlags": 1},
        "kind": 2, "parentSpanContext": {"traceId": "24005217583d1ce65cab7852d4cae2ef", "spanId": "3e5e65013bdb11ed"},
        "attributes": SPAN_ATTRIBUTES, "links": [],
        "events": [{"name": "first_chunk", "attributes": {"n": 1}, "time": END, "droppedAttributesCount": 0}],
        "startTime": START, "resource": resource, "instrumentationScope": SCOPE, "name": "chat gpt-4.1",
        "status": {"code": 1}, "endTime": END, "_ended": True, "_duration": [0, 93000000],
        "_spanProcessor": {"_spanProcessors": [{"_exporter": {"writeStream": {"path": "/elsewhere"}}}]},
    }  # fmt: skip
    log = {"hrTime": START, "hrTimeObserved": START,
           "spanContext": {"traceId": "24005217583d1ce65cab7852d4cae2ef", "spanId": "838d5857b5071335"},
           "resource": resource, "instrumentationScope": SCOPE, "attributes": LOG_ATTRIBUTES, "_body": "User prompt.",
           "_attributesCount": 3, "_isReadonly": True}  # fmt: skip
    point = {"attributes": POINT_ATTRIBUTES, "startTime": START, "endTime": END, "value": 24532}
    descriptor = {"name": "gen_ai.client.inference.usage.input_tokens", "type": "COUNTER", "unit": "{token}",
                  "valueType": 0}  # fmt: skip
    metrics = {"resource": resource, "scopeMetrics": [{"scope": SCOPE, "metrics": [
        {"descriptor": descriptor, "aggregationTemporality": 1, "dataPointType": 3, "dataPoints": [point]}
    ]}]}  # fmt: skip
    return [span, log, metrics]


def flat(path: Path, tmp_path: Path) -> tuple[dict, list[dict]]:
    """The manifest record and the telemetry.jsonl lines the file reads into (without each export's number)."""
    out = tmp_path / f"{path.name}.telemetry.jsonl"
    read = account_file.write_telemetry(path, account_file.sniff(path), out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(line.pop("received") is None and line.pop("encoding") == "json" for line in lines)
    return read.telemetry, lines


def by_signal(lines: list[dict]) -> dict:
    return {line["signal"]: {key: value for key, value in line.items() if key != "export"} for line in lines}


@pytest.fixture
def written(tmp_path) -> dict[str, Path]:
    files = {
        "lines": "\n".join(json.dumps(each) for each in otlp_exports()) + "\n",
        "whole": json.dumps(otlp_exports()[0], indent=2),
        "gemini": "".join(json.dumps(each, indent=2) + "\n" for each in sdk_objects()),
        "copilot": "".join(json.dumps(each) + "\n" for each in copilot_lines()),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return {name: tmp_path / name for name in files}


def test_every_format_reads_into_the_same_flat_records(written, tmp_path):
    records = {name: flat(path, tmp_path) for name, path in written.items()}
    otlp = by_signal(records["lines"][1])
    assert set(otlp) == {"traces", "logs", "metrics"}
    span, log, metric = otlp["traces"], otlp["logs"], otlp["metrics"]
    assert span["name"] == "chat gpt-4.1" and span["service"] == "github-copilot" and span["kind"] == 3
    assert span["attributes"]["gen_ai.usage.input_tokens"] == 12212 and span["time"] == pytest.approx(1795767348.889)
    assert span["parent_span_id"] == "3e5e65013bdb11ed" and span["events"][0]["attributes"] == {"n": 1}
    assert log["name"] == "gemini_cli.user_prompt" and log["attributes"]["prompt_id"] == "p-1"
    assert metric["points"][0]["value"] == 24532 and metric["kind"] == "sum"
    # The secret the agent logged is masked wherever it stood, even inside a JSON string of messages.
    assert SECRET not in json.dumps(records) and "[REDACTED sha256:" in log["attributes"]["prompt"]
    assert "[REDACTED sha256:" in span["attributes"]["gen_ai.input.messages"]
    assert by_signal(records["whole"][1]) == {"traces": span}
    assert by_signal(records["gemini"][1]) == otlp  # the SDK's private fields (its exporter's file path) left out
    assert by_signal(records["copilot"][1]) == {"traces": span, "metrics": metric}
    formats = {
        name: (summary["format"], summary["exports"], summary["records"]) for name, (summary, _) in records.items()
    }
    assert formats == {
        "lines": ("OTLP JSON", 3, 3), "whole": ("OTLP JSON", 1, 1),
        "gemini": ("OpenTelemetry JS SDK objects (gemini-cli's telemetry outfile)", 3, 3),
        "copilot": ("Copilot CLI's telemetry file", 2, 2),
    }  # fmt: skip
    assert [line["export"] for line in records["lines"][1]] == [0, 1, 2]


def test_values_of_no_known_shape_are_skipped_and_a_cut_file_keeps_what_was_read(tmp_path):
    exports = otlp_exports()
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(exports[0]) + '\n[1, 2]\n{"other": true}\n' + json.dumps(exports[1]) + '\n{"resourceL')
    summary, lines = flat(path, tmp_path)
    assert [line["signal"] for line in lines] == ["traces", "logs"]
    assert (
        summary["exports"] == 2 and summary["skipped"] == 2 and summary["stopped"].startswith("not JSON after export 2")
    )


def importing(data_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "probe.import_capture", *argv], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "PROBE_DATA_DIR": str(data_dir)}, timeout=300,
    )  # fmt: skip


def test_import_with_an_account_keeps_it_masked_and_a_file_of_no_shape_is_one_line(written, tmp_path):
    har = tmp_path / "session.har"
    entry = {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "url": "https://api.openai.com/v1/chat/completions", "headers": []},
        "response": {"status": 200, "content": {"text": '{"ok": true}', "mimeType": "application/json"}},
    }
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    garbage = tmp_path / "notes.txt"
    garbage.write_text("these are my notes, not telemetry\n")
    for account in (garbage, tmp_path / "missing.jsonl"):
        result = importing(tmp_path / "refused", str(har), "--account", str(account))
        assert result.returncode != 0 and result.stdout == "" and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: --account {account}")
        assert not (tmp_path / "refused").exists()  # no run folder begun
    with pytest.raises(RunError, match="not an agent's telemetry file"):
        account_file.sniff(garbage)
    result = importing(tmp_path / "data", str(har), "--account", str(written["gemini"]))
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (tmp_path / "data" / "imported").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["account"] == {"telemetry": {
        "state": "on", "from": "imported", "source": "gemini", "exports": 3, "records": 3,
        "format": "OpenTelemetry JS SDK objects (gemini-cli's telemetry outfile)",
    }}  # fmt: skip
    assert "the account file held 2 secrets (now masked" in manifest["note"]
    telemetry = (run / "telemetry.jsonl").read_text()
    assert SECRET not in telemetry and [json.loads(line)["name"] for line in telemetry.splitlines()] == [
        "chat gpt-4.1", "gemini_cli.user_prompt", "gen_ai.client.inference.usage.input_tokens",
    ]  # fmt: skip
