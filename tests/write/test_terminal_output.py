"""Every command that prints captured text prints it inert: escape sequences, C0 and C1 controls and bidirectional
formatting characters are shown as their escapes (`\\x1b`, `\\u202e`), never sent to the terminal."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import captured_exchange, run_manifest

from probe.analysis import analyze, export, sql
from probe.common.errors import RunError, inert_json, inert_lines, one_line, run_main, warn
from probe.runs.importer import import_renderer
from probe.runs.targets import main as targets_main
from probe.write import diff, live_feed

# A window title, a cleared screen, a CSI in its one-byte form, a right-to-left override, an isolate, an OSC 8 link.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202egnp.exe\u2066\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\"
# What no printed line may hold raw: controls but tab and line breaks, and the bidirectional formatting characters.
RAW = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SHOWN = ("\\x1b", "\\x07", "\\x9b", "\\u202e", "\\u2066")  # each hostile character, as it is shown instead


def assert_inert(output: str, *fields: str) -> None:
    """Nothing raw in `output`, every hostile character shown as its escape, and each field there to see (as
    `name` followed by the escape that starts HOSTILE)."""
    assert not RAW.search(output), RAW.search(output)
    assert all(escape in output for escape in SHOWN), output
    for field in fields:
        assert f"{field}\\x1b" in output or f"{field}\\\\x1b" in output, (field, output)


def hostile_run(data_dir: Path, name: str, side: str) -> Path:
    """A codex run whose every captured field (tool names and descriptions, model, user-agent, instructions,
    prompt, the tool a model called; the manifest's label, prompt and agent version) holds HOSTILE."""
    run = data_dir / "codex" / name
    run.mkdir(parents=True)
    tools = [
        {"type": "function", "name": f"tool{side}{HOSTILE}", "parameters": {"type": "object"}},
        {"type": "function", "name": "shell", "description": f"describe{side}{HOSTILE}", "parameters": {}},
    ]
    request = {
        "model": f"model{side}{HOSTILE}",
        "instructions": f"instruct{side}{HOSTILE}",
        "tools": tools,
        "stream": True,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"ask{HOSTILE}"}]}],
    }
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": f"call{side}{HOSTILE}",
        "arguments": "{}",
    }
    usage = {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}
    events = [
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": {"id": "resp_1", "model": f"model{side}{HOSTILE}", "usage": usage}},
    ]
    stream = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    headers = [["content-type", "application/json"], ["user-agent", f"agent{side}{HOSTILE}"]]
    entry = captured_exchange("/v1/responses", request, stream, request_headers=headers, proxy=f"proxy{HOSTILE}")
    (run / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    manifest = run_manifest(
        label=f"label{side}{HOSTILE}",
        prompt=f"prompt{side}{HOSTILE}",
        agent={"version": f"version{side}{HOSTILE}"},
        started_at="2026-01-01T00:00:00+0000",
    )
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


@pytest.fixture
def runs(private_data_dir) -> tuple[Path, Path]:
    return hostile_run(private_data_dir, "20260101-000000-a", "A"), hostile_run(
        private_data_dir, "20260101-000001-b", "B"
    )


def test_the_helper_shows_what_a_terminal_would_obey_and_keeps_the_rest():
    assert one_line("a\x1b[31mb\x07\x9b\u202e\u2066\u200e\u061c\u200b\ufeff\U000e0041\ud800\x00\x7f") == (
        "a\\x1b[31mb\\x07\\x9b\\u202e\\u2066\\u200e\\u061c\\u200b\\ufeff\\U000e0041\\ud800\\x00\\x7f"
    )
    assert one_line("one\ntwo\r\n\tthree\u2028") == "one\\ntwo\\r\\n\\tthree\\u2028"
    assert inert_lines("one\ntwo\r\n\tthree\rfour\x1b") == "one\ntwo\r\n\tthree\\rfour\\x1b"
    kept = "é漢字🙂 👩\u200d💻 \u200c ok \\x1b"  # letters, emoji with their joiner, and a backslash as typed
    assert one_line(kept) == inert_lines(kept) == kept
    value = {"k\u202e": ["x\x1b\x9b\x7f\u2028\U000e0041\u200d"]}
    shown = inert_json(json.dumps(value, ensure_ascii=False))
    assert json.loads(shown) == value and not RAW.search(shown) and "\\u202e" in shown and "\\udb40\\udc41" in shown


def test_diff_prints_every_captured_field_inert(runs, capsys):
    assert diff.main(["--run", str(runs[0]), "--run", str(runs[1])]) == 0
    out, err = capsys.readouterr()
    assert_inert(out, "toolA", "toolB", "modelA", "agentB", "versionA", "instructB+}", "describeB+}")
    assert not RAW.search(err)


def test_report_md_and_the_analyze_command_hold_nothing_raw(runs, capsys):
    assert analyze.main(["--run", str(runs[0])]) == 0
    assert not RAW.search("".join(capsys.readouterr()))
    report = (runs[0] / "report.md").read_text()
    assert_inert(report, "toolA", "modelA", "agentA", "versionA", "promptA", "instructA", "describeA", "callA", "ask")


@pytest.mark.parametrize("form", ["table", "csv", "json", None])
def test_sql_prints_every_captured_field_inert(runs, capsys, form):
    query = (
        "SELECT r.label, r.prompt, r.agent_version, t.model, c.name, e.proxy FROM runs r JOIN turns t USING (run) "
        "JOIN tool_calls c USING (run) JOIN exchanges e USING (run) ORDER BY r.run"
    )
    assert sql.main([query] + (["--format", form] if form else [])) == 0
    out, err = capsys.readouterr()
    if form == "json":
        assert [row["label"] for row in json.loads(out)] == [f"labelA{HOSTILE}", f"labelB{HOSTILE}"]  # whole
        out = out.replace("\\u001b", "\\x1b").replace("\\u0007", "\\x07").replace("\\u009b", "\\x9b")
    assert_inert(out, "labelA", "promptB", "versionA", "modelB", "callA", "proxy")
    assert not RAW.search(err)


def test_targets_prints_a_target_file_inert(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROBE_TARGETS_DIR", str(tmp_path))
    escaped = "\\e]0;pwned\\a\\e[2J\\x9b31m\\u202egnp.exe\\u2066"  # YAML's escapes for HOSTILE's first part
    (tmp_path / "demo.yaml").write_text(
        "name: demo\n"
        f'description: "demo{escaped}"\n'
        "renderer: probe.apis.generic.report\n"
        f'proxies:\n  - {{name: api, listen: 0, upstream: "https://api.example.com/", purpose: "purpose{escaped}"}}\n'
        "agent: {command: [demo]}\n"
    )
    (tmp_path / "broken.yaml").write_text(f'name: broken\n"key{escaped}": 1\n')
    assert targets_main([]) == 1
    out, _ = capsys.readouterr()
    assert_inert(out, "demo", "purpose", "key")


def test_export_and_its_warnings_print_nothing_raw(runs, capsys):
    with (runs[0] / "traffic.jsonl").open("a") as file:
        file.write(json.dumps({"schema": 1, "kind": "http", "request": HOSTILE}) + "\n" + HOSTILE + "\n")
    assert export.main(["--run", str(runs[0])]) == 0
    out, err = capsys.readouterr()
    assert "1 exchange" in err and "warning: line 2" in err and not RAW.search(out + err)


def test_the_live_feed_prints_the_exchange_inert(runs):
    raw = (runs[0] / "traffic.jsonl").read_bytes()
    assert_inert(live_feed.line_for(raw, import_renderer("probe.apis.openai_responses.report")), "proxy", "modelA")


def test_warnings_and_error_lines_are_inert(capsys):
    warn(f"odd {HOSTILE}")

    def failing(argv):
        raise RunError(f"no run {HOSTILE}\nsecond line")

    assert run_main(failing, []) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 2 and err.startswith("warning: odd \\x1b") and "error: no run \\x1b" in err
    assert_inert(err)


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path):
    # `invoke sql "…" | head`: head reads its lines and closes the pipe while the table is still being printed.
    script = [sys.executable, "-m", "probe.analysis.sql", "select range from range(200000)"]
    reader = subprocess.Popen(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                              env=os.environ | {"PROBE_DATA_DIR": str(tmp_path)})  # fmt: skip
    assert reader.stdout.readline().strip() == b"range"
    reader.stdout.close()
    errors = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 141, errors  # as a shell reports a program the closed pipe stopped
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
