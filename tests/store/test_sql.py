"""invoke sql: DuckDB over every run's own files, checked against totals worked out from traffic.jsonl alone."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT

from probe.analysis import sql
from probe.common.errors import UsageError
from probe.read.sse import parse
from probe.read.whole_turns import whole_turns

pytestmark = pytest.mark.e2e


def events_of(entry: dict) -> list:
    """The JSON events of one captured exchange: SSE events, or a WebSocket's server frames."""
    if entry["kind"] == "websocket":
        return [frame["body"] for frame in entry.get("messages", []) if frame["from"] == "server"]
    body = (entry.get("response") or {}).get("body")
    return [event.data for event in parse(body)] if isinstance(body, str) else []


def usage_from_traffic(run: Path) -> dict[str, list[tuple[int, int]]]:
    """(input, output) tokens per exchange, read straight from the capture by each API's own event shapes."""
    found = []
    for line in (run / "traffic.jsonl").read_text().splitlines():
        entry = json.loads(line)
        tokens = None
        for event in events_of(entry):
            if not isinstance(event, dict):
                continue
            if event.get("type") == "response.completed":  # OpenAI Responses
                usage = event["response"]["usage"]
                tokens = (usage["input_tokens"], usage["output_tokens"])
            elif event.get("type") == "message_start":  # Anthropic Messages: input first, output at the end
                usage = event["message"]["usage"]
                tokens = (
                    usage["input_tokens"]
                    + usage.get("cache_read_input_tokens", 0)
                    + usage.get("cache_creation_input_tokens", 0),
                    0,
                )
            elif event.get("type") == "message_delta" and tokens is not None:
                tokens = (tokens[0], event["usage"]["output_tokens"])
        if tokens is not None:
            found.append(tokens)
    return found


def rows(data_dir: Path, query: str, monkeypatch) -> list[dict]:
    monkeypatch.setenv("PROBE_DATA_DIR", str(data_dir))
    columns, found = sql.query(sql.list_runs(), query)
    return [dict(zip(columns, row)) for row in found]


@FRESH_RUNS
def test_token_totals_match_the_capture(fresh_runs, monkeypatch):
    data_dir, codex_run, claude_run = fresh_runs
    for run in (codex_run, claude_run):
        expected = usage_from_traffic(run)
        assert expected and sum(tokens[0] for tokens in expected) > 1000
        [totals] = rows(
            data_dir,
            "SELECT sum(input_tokens) AS input, sum(output_tokens) AS output, count(input_tokens) AS turns "
            f"FROM turns WHERE run = '{run.name}'",
            monkeypatch,
        )
        assert totals == {
            "input": sum(tokens[0] for tokens in expected),
            "output": sum(tokens[1] for tokens in expected),
            "turns": len(expected),
        }
    # A count the API does not send is NULL, never 0: Anthropic reports no reasoning tokens, OpenAI does.
    reported = {
        row["run"]: row["reasoning"]
        for row in rows(
            data_dir, "SELECT run, count(reasoning_tokens) AS reasoning FROM turns GROUP BY run", monkeypatch
        )
    }
    assert reported[claude_run.name] == 0 and reported[codex_run.name] > 0


@FRESH_RUNS
def test_runs_exchanges_and_tool_calls_match_the_capture(fresh_runs, monkeypatch):
    data_dir, codex_run, claude_run = fresh_runs
    found = {row["run"]: row for row in rows(data_dir, "SELECT * FROM runs", monkeypatch)}
    for run, target in ((codex_run, "codex"), (claude_run, "claude-code")):
        manifest = json.loads((run / "manifest.json").read_text())
        entries = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
        row = found[run.name]
        assert (row["target"], row["status"], row["exit_code"]) == (target, "complete", 0)
        assert row["agent_version"] == manifest["agent"]["version"] and row["exchanges"] == len(entries)
        exchanges = rows(data_dir, f"SELECT * FROM exchanges WHERE run = '{run.name}' ORDER BY n", monkeypatch)
        assert [(e["method"], e["path"], e["status"]) for e in exchanges] == [
            (entry["request"]["method"], entry["request"]["path"], entry["response"]["status"]) for entry in entries
        ]
        for exchange, entry in zip(exchanges, entries):
            timing = entry["timing"]
            assert exchange["duration_ms"] == pytest.approx((timing["end"] - timing["start"]) * 1000, rel=1e-6)
            if entry["kind"] == "http" and entry["request"].get("body_size") is not None:
                assert exchange["request_bytes"] == entry["request"]["body_size"]
        calls = rows(data_dir, f"SELECT * FROM tool_calls WHERE run = '{run.name}'", monkeypatch)
        assert calls and all(json.loads(call["arguments"]) for call in calls)
        # Each call's result came back in a later request, timed from the end of the answer that asked for it.
        for call in calls:
            asked = entries[call["n"] - 1]
            answered = entries[call["answered_in"] - 1]
            assert call["answered_in"] > call["n"] and call["call_id"] in json.dumps(answered["request"]["body"])
            wait = (answered["timing"]["start"] - asked["timing"]["end"]) * 1000
            assert call["wait_ms"] == pytest.approx(wait, abs=0.1) and call["result_size"] > 0
        [agent] = rows(data_dir, f"SELECT * FROM agents WHERE run = '{run.name}'", monkeypatch)
        # The main agent is called main; codex's turn metadata names its path, /root, which is a detail.
        assert agent["agent"] == "main" and agent["name"] == "main"
        assert agent["path"] == {"codex": "/root", "claude-code": None}[target]
        assert {call["agent_name"] for call in calls} == {"main"}
        assert agent["parent"] is None and agent["requests"] == len(entries)
        assert agent["tool_calls"] == len(calls) and agent["spawned_in"] is None


@FRESH_RUNS
def test_the_instructions_size_by_agent_version_is_one_query(fresh_runs, monkeypatch):
    data_dir, codex_run, _ = fresh_runs
    turns = list(whole_turns(codex_run / "turns.jsonl"))
    longest = max(sum(len(block["text"]) for block in turn["system"]) for turn in turns)
    [row] = rows(
        data_dir,
        "SELECT r.agent_version, max(t.instructions_chars) AS chars FROM runs r JOIN turns t USING (run) "
        "WHERE r.target = 'codex' GROUP BY ALL",
        monkeypatch,
    )
    assert row == {"agent_version": "codex-cli 0.169.0", "chars": longest}


@FRESH_RUNS
def test_formats_and_errors_through_the_command(fresh_runs, tmp_path):
    data_dir, codex_run, _ = fresh_runs
    env = {"PROBE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}

    def invoke(*args):
        return subprocess.run([sys.executable, "-m", "invoke", "sql", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    query = f"SELECT n, status FROM exchanges WHERE run = '{codex_run.name}' ORDER BY n"
    entries = [json.loads(line) for line in (codex_run / "traffic.jsonl").read_text().splitlines()]
    result = invoke(query, "--format", "csv")
    assert result.returncode == 0, result.stderr
    expected = [f"{number},{entry['response']['status']}" for number, entry in enumerate(entries, 1)]
    assert result.stdout.splitlines() == ["n,status", *expected]
    result = invoke(query, "--format", "json")
    assert json.loads(result.stdout) == [{"n": n, "status": e["response"]["status"]} for n, e in enumerate(entries, 1)]
    result = invoke(query)
    assert result.stdout.splitlines()[0].split() == ["n", "status"] and f"({len(entries)} rows)" in result.stdout
    result = invoke("SELECT nonsense FROM turns")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: sql: Binder Error") and result.stderr.count("\n") == 1


def test_odd_run_folders_do_not_break_the_views(tmp_path, monkeypatch):
    """A damaged turns.jsonl line, a manifest of the wrong types and an empty data folder give rows or none, never
    an error; captured text in a table cell is shown inert."""
    monkeypatch.setenv("PROBE_DATA_DIR", str(tmp_path))
    assert sql.query(sql.list_runs(), "SELECT * FROM turns") == (sql.query([], "SELECT * FROM turns")[0], [])
    run = tmp_path / "codex" / "20260101-000000-odd"
    run.mkdir(parents=True)
    sample = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
    shutil.copy(sample / "turns.jsonl", run / "turns.jsonl")
    with (run / "turns.jsonl").open("a") as file:
        file.write('{"number": "x\\u001b[31m", "usage": 7\n{not json}\n')
    (run / "manifest.json").write_text(json.dumps({"target": ["codex"], "status": 7, "agent": "v"}))
    found = rows(tmp_path, "SELECT n, input_tokens FROM turns ORDER BY n NULLS LAST", monkeypatch)
    assert [row["n"] for row in found[:3]] == [1, 2, 3]
    [row] = rows(tmp_path, "SELECT * FROM runs", monkeypatch)
    assert row["run"] == run.name and row["exchanges"] >= 3
    assert sql.shown("a\x1b[31mb\nc") == "a\\x1b[31mb\\nc"
    with pytest.raises(UsageError, match=r"^sql: Parser Error"):
        sql.query([], "SELEC 1")


SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
BAD_MANIFESTS = {
    "cut off": lambda text: text.encode()[: len(text) // 2],
    "plain text": lambda text: b"status: complete\n",
    "UTF-16": lambda text: text.encode("utf-16"),
    "over 16 MB": lambda text: json.dumps(json.loads(text) | {"prompt": "x" * (17 << 20)}).encode(),
    "a lone surrogate": lambda text: text.replace('"sample-http"', '"\\ud800"').encode(),  # DuckDB's refusal only
}


def sample_copy(data_dir: Path, name: str) -> Path:
    run = data_dir / "codex" / name
    shutil.copytree(SAMPLE, run)
    return run


@pytest.mark.parametrize("damage", BAD_MANIFESTS)
def test_a_run_whose_manifest_cannot_be_read_is_left_out_with_one_warning(private_data_dir, capsys, damage):
    good = sample_copy(private_data_dir, "20260101-000000-good")
    bad = sample_copy(private_data_dir, "20260101-000001-bad")
    (bad / "manifest.json").write_bytes(BAD_MANIFESTS[damage]((SAMPLE / "manifest.json").read_text()))
    assert sql.main(["SELECT run, label, exchanges FROM runs", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["run,label,exchanges", f"{good.name},sample-http,3"]
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(f"warning: {bad}: manifest.json ") and warning.endswith(": the run is left out")
    warnings = []
    assert sql.query([good, bad], "SELECT DISTINCT run FROM turns", warnings) == (["run"], [(good.name,)])
    assert len(warnings) == 1
    assert sql.query([good, bad], "SELECT count(*) FROM runs") == (["count_star()"], [(1,)])  # warnings unasked


def test_damaged_turns_lines_are_left_out_with_a_warning_naming_file_and_lines(private_data_dir):
    run = sample_copy(private_data_dir, "20260101-000000-damaged")
    with (run / "turns.jsonl").open("a") as file:
        file.write('{not json}\n{"number": "x", "usage": 7}\n\n[1, 2]\n"text"\n{"kind": "http"}\n{"number": 9, "mo')
    warnings = []
    query = "SELECT r.exchanges, count(t.n), count(t.model) FROM runs r JOIN turns t USING (run) GROUP BY ALL"
    turns = list(whole_turns(SAMPLE / "turns.jsonl"))
    models = sum(1 for turn in turns if turn.get("model"))
    assert sql.query([run], query, warnings)[1] == [(3, 3, models)]  # the sample's turns, and no row of NULLs
    assert warnings == [f"{run}/turns.jsonl: 6 damaged lines left out (lines 4, 5, 7, 8, 9, 10)"]
    assert sql.query([run], "SELECT count(*) FROM exchanges")[1] == [(3,)]
    many = "".join(f"{{broken {number}\n" for number in range(12))
    (run / "turns.jsonl").write_text((SAMPLE / "turns.jsonl").read_text() + many)
    warnings = []
    sql.query([run], "SELECT 1", warnings)
    assert warnings == [
        f"{run}/turns.jsonl: 12 damaged lines left out (lines 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 and 2 more)"
    ]
