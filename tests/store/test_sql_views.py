"""The SQL views, loaded from the runs' files a few runs at a time: the same rows as the views they replace (which
unnested every value with its whole line), on the bundled samples, sub-agent captures and generated sessions; the
counts of a request of thousands of tools; and a run that cannot be loaded (it names gigabytes by number, or needs
more than the memory limit) left out in one line while the other runs answer."""

import gc
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import sql_reference
from conftest import PROJECT_ROOT

from probe.analysis import sql
from probe.analysis.report import analyze_run
from probe.read.ends import LIST_READ
from probe.read.whole_turns import whole_turns

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import generate  # (bench/ is not a package)

SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
SUBAGENTS = PROJECT_ROOT / "tests" / "data" / "subagents"
COMPARED = ["turn_values", "turn_lines", *sql_reference.VIEWS]  # every view the slow definitions had


def tools_request(count: int) -> dict:
    """A Responses API exchange whose request carries `count` tools and whose answer calls one of them."""
    tools = [{"type": "function", "name": f"tool_{index}", "description": "d", "parameters": {"type": "object"}}
             for index in range(count)]  # fmt: skip
    call = {"type": "function_call", "name": "tool_1", "arguments": '{"a": 1}', "call_id": "call_1"}
    usage = {"input_tokens": 10, "output_tokens": 2}
    completed = {"type": "response.completed", "response": {"id": "resp_1", "output": [call], "usage": usage}}
    body = {"model": "gpt-5", "input": [{"role": "user", "content": "hi"}], "tools": tools, "stream": True}
    return {"schema": 1, "kind": "http", "id": "f1", "proxy": "model", "complete": True, "error": None,
            "timing": {"start": 1000.0, "first_byte": 1000.005, "end": 1000.25},
            "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "path": "/v1/responses",
                        "headers": [["content-type", "application/json"]], "body": body, "body_format": "json"},
            "response": {"status": 200, "headers": [["content-type", "text/event-stream"]], "body_format": "text",
                         "body": f"event: response.completed\ndata: {json.dumps(completed)}\n\n"}}  # fmt: skip


def run_folder(data_dir: Path, target: str, name: str, traffic: list[dict] | Path) -> Path:
    run = data_dir / target / name
    run.mkdir(parents=True)
    if isinstance(traffic, Path):
        shutil.copy(traffic, run / "traffic.jsonl")
    else:
        (run / "traffic.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in traffic))
    manifest = {"schema": 1, "target": target, "status": "complete", "agent": {"version": "made"},
                "started_at": "2026-01-01T00:00:00+0000"}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """The bundled samples, the sub-agent captures, generated sessions (codex over HTTP and WebSocket, 200-turn
    Messages sessions), a request of 300 tools, all analysed, and a sample's turns.jsonl rewritten as schema 1."""
    data_dir = tmp_path_factory.mktemp("views")
    found = [shutil.copytree(sample, data_dir / sample.parent.name / sample.name) for sample in SAMPLES]
    for target in ("claude-code", "codex"):
        found.append(run_folder(data_dir, target, "20260102-000000-subagents", SUBAGENTS / target / "traffic.jsonl"))
    for shape, target in (("codex", "codex"), ("growing", "claude-code")):
        traffic = tmp_path_factory.mktemp(shape) / "traffic.jsonl"
        generate(traffic, 2, 6, shape)
        found.append(run_folder(data_dir, target, f"20260103-000000-{shape}", traffic))
    # (named after a view: a path holding one is read as it is)
    found.append(run_folder(data_dir, "codex", "20260104-000000-turn_values", [tools_request(300)]))
    for run in found:
        analyze_run(run)
    old = shutil.copytree(found[0], found[0].with_name("20260105-000000-schema-1"))
    lines = [json.dumps(dict(turn, schema=1)) for turn in whole_turns(old / "turns.jsonl")]
    (old / "turns.jsonl").write_text("".join(line + "\n" for line in lines))
    return [*found, old]


def rows_of(connection, view: str) -> tuple[list, list]:
    """A view's columns with their types, and its rows in an order of their own (the views promise none)."""
    columns = connection.execute(f"DESCRIBE {view}").fetchall()
    rows = connection.execute(f"SELECT * FROM {view}").fetchall()
    return [column[:2] for column in columns], sorted(rows, key=lambda row: json.dumps(row, default=str))


def test_every_view_gives_the_rows_the_slow_definitions_gave(runs):
    fast = sql.connect(runs)
    slow = sql.connect(runs)
    slow.execute(f"CREATE OR REPLACE VIEW turn_values AS {sql_reference.TURN_VALUES}")
    slow.execute(f"CREATE OR REPLACE VIEW turn_lines AS {sql_reference.WHOLE_LINES}")
    for name, query in sql_reference.VIEWS.items():
        slow.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")
    counts = {}
    for view in COMPARED:
        expected = rows_of(slow, view)
        assert rows_of(fast, view) == expected, view
        counts[view] = len(expected[1])
    # Every view has rows to compare: tool calls, sub-agents and context categories among them.
    assert min(counts.values()) >= len(runs) and counts["tool_calls"] > 100, counts
    assert fast.execute("SELECT count(*) FROM agents WHERE parent IS NOT NULL").fetchone()[0] >= 4


def test_a_request_of_many_tools_gives_its_counts(tmp_path):
    run = run_folder(tmp_path / "data", "codex", "20260101-000000-tools", [tools_request(20_000)])
    analyze_run(run)
    [turn] = whole_turns(run / "turns.jsonl")
    hashes = ",".join(tool["hash"] for tool in turn["tools"])
    found = sql.query([run], "SELECT tools, tools_sha256, tool_calls FROM turns")[1]
    # Too many to read whole (probe.read.thinning): the line lists the first and last tools, and `tools` counts
    # every tool the request sent.
    assert len(turn["tools"]) == LIST_READ and turn["left_out"][0]["where"] == "request tools"
    assert found == [(20_000, hashlib.sha256(hashes.encode()).hexdigest(), 1)]
    # The tools read, the input item and the answer's item, each once.
    assert sql.query([run], "SELECT count(*), max(number) FROM turn_values")[1] == [(LIST_READ + 2, LIST_READ + 1)]
    assert sql.query([run], "SELECT name, arguments FROM tool_calls")[1] == [("tool_1", '{"a":1}')]


def test_a_gemini_request_of_many_tools_counts_them_all(tmp_path):
    declarations = [{"name": f"tool_{index}", "description": "d"} for index in range(12_000)]
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "tools": [{"functionDeclarations": declarations}],
    }
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1}}  # fmt: skip
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"
    exchange = {**tools_request(0), "request": {"method": "POST", "url": url, "path": url[url.index("/v1beta"):],
                "headers": [["content-type", "application/json"]], "body": body, "body_format": "json"},
                "response": {"status": 200, "headers": [["content-type", "application/json"]], "body": answer,
                             "body_format": "json"}}  # fmt: skip
    run = run_folder(tmp_path / "data", "gemini", "20260101-000000-tools", [exchange])
    analyze_run(run)
    [turn] = whole_turns(run / "turns.jsonl")
    assert len(turn["tools"]) == LIST_READ and turn["left_out"][0]["where"] == "request tools[0].functionDeclarations"
    assert sql.query([run], "SELECT api, tools FROM turns")[1] == [("gemini.generate_content", 12_000)]


def tool_values(tools: int, description: str = "") -> list[dict]:
    return [{"name": f"t{index}", "type": "function", "description": description, "hash": f"{index:016x}"}
            for index in range(tools)]  # fmt: skip


def named_table(run: Path, tools: int, lines: int, step: int = 1, description: str = "") -> Path:
    """A hand-made turns.jsonl: a table of `tools` tools on its first line, and `lines` lines naming the first
    `step`, 2 × `step`, … of them: a few MB naming gigabytes, had each list to be made whole."""
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"schema": 1, "target": "codex", "status": "complete"}))
    values = tool_values(tools, description)
    with (run / "turns.jsonl").open("w") as file:
        for number in range(1, lines + 1):
            line = {"schema": 2, "number": number, "api": "openai.responses", "tools": [[0, min(tools, number * step)]]}
            line |= {"new": {"from": 0, "values": values}} if number == 1 else {}
            file.write(json.dumps(line) + "\n")
    return run


def by_name(run: Path) -> str:
    return run.name


def normal_and_hostile(data_dir: Path, hostile: Path) -> list[Path]:
    normal = [shutil.copytree(sample, data_dir / sample.parent.name / sample.name) for sample in SAMPLES[:2]]
    return [normal[0], hostile, normal[1]]


def test_a_run_naming_gigabytes_is_left_out_in_one_line_and_the_others_answer(private_data_dir, capsys):
    hostile = named_table(private_data_dir / "codex" / "20260101-000000-hostile", 8_000, 8_000)
    runs = normal_and_hostile(private_data_dir, hostile)
    assert sql.main(["SELECT run, count(*) AS turns, sum(tools) AS tools FROM turns GROUP BY run ORDER BY run",
                     "--format", "csv"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    expected = [f"{run.name},{len(list(whole_turns(run / 'turns.jsonl')))}" for run in sorted(runs[::2], key=by_name)]
    assert [line.rsplit(",", 1)[0] for line in out.splitlines()] == ["run,turns", *expected]
    [warning] = [line for line in err.splitlines() if "skipped" in line]
    sizes = [len(json.dumps(value, separators=(",", ":"))) for value in tool_values(8_000)]
    # Each line names one more tool than the last: 32,004,000 values, each reckoned as its bytes and 64 more.
    named = sum(sum(sizes[:count]) + 64 * count for count in range(1, 8_001))
    size = (hostile / "turns.jsonl").stat().st_size
    assert warning == (f"warning: sql: run {hostile} skipped: its turns.jsonl ({size / 1e6:.1f} MB) names "
                       f"32,004,000 values by number ({named / 1e6:,.1f} MB to read), more than 67.1 MB")  # fmt: skip
    # A run that names as much as the file holds, as every run an agent makes does, is read.
    fine = named_table(private_data_dir / "codex" / "20260101-000001-fine", 8_000, 8_000, step=0)
    warnings = []
    assert sql.query([fine], "SELECT count(*), sum(tools) FROM turns", warnings)[1] == [(8_000, 0)]
    assert warnings == []


def test_a_run_over_the_memory_limit_is_left_out_in_one_line_and_the_others_answer(private_data_dir, capsys):
    hostile = named_table(private_data_dir / "codex" / "20260101-000000-large", 100_000, 1, description="d" * 100)
    runs = normal_and_hostile(private_data_dir, hostile)
    query = "SELECT run, count(*) FROM exchanges GROUP BY run ORDER BY run"
    assert sql.main([query, "--format", "csv", "--memory-limit", "128MB"]) == 0
    out, err = capsys.readouterr()
    expected = [f"{run.name},{len(list(whole_turns(run / 'turns.jsonl')))}" for run in sorted(runs[::2], key=by_name)]
    assert out.splitlines() == ["run,count_star()", *expected]
    [warning] = [line for line in err.splitlines() if "skipped" in line]
    assert warning.startswith(f"warning: sql: run {hostile} skipped: Out of Memory Error: ")
    assert sql.query(runs, "SELECT count(*) FROM runs", memory_limit="1GB")[1] == [(3,)]  # within the default


@pytest.mark.parametrize(
    "limit, message",
    [("10MB", "expected at least 128MB, got '10MB'"), ("lots", "expected an amount of memory such as 2GB or 512MiB")],
)
def test_a_memory_limit_is_checked(private_data_dir, limit, message):
    with pytest.raises(sql.UsageError, match=f"^argument --memory-limit: {message}"):
        sql.main(["SELECT 1", "--memory-limit", limit])


def test_duckdb_is_bounded_and_spills_into_a_folder_of_its_own(private_data_dir, monkeypatch):
    """Within its memory limit, on a few threads, spilling into a temporary folder removed with the connection: not
    DuckDB's default `.tmp` in the current folder (a checkout, a run folder)."""
    run = shutil.copytree(SAMPLES[0], private_data_dir / SAMPLES[0].parent.name / SAMPLES[0].name)
    monkeypatch.chdir(run)
    before = sorted(path.name for path in run.iterdir())
    connection = sql.connect([run], memory_limit="256MB")
    settings = dict(connection.execute("SELECT name, value FROM duckdb_settings()").fetchall())
    spill = Path(settings["temp_directory"])
    assert spill.parent == Path(tempfile.gettempdir()) and spill.name.startswith("probe-sql-") and spill.is_dir()
    assert settings["memory_limit"] == "244.1 MiB" and 1 <= int(settings["threads"]) <= 4
    turns = len(list(whole_turns(run / "turns.jsonl")))
    assert connection.execute("SELECT count(*) FROM turn_lines").fetchone() == (turns,)
    connection.close()
    del connection
    gc.collect()
    assert not spill.exists() and sorted(path.name for path in run.iterdir()) == before


def test_json_is_strict_where_a_value_makes_orjson_give_way(private_data_dir, capsys):
    """A sum past 64 bits (HUGEINT), which orjson cannot write, sends the rows to Python's writer: a NaN or an
    infinity beside it is null there too, as orjson writes it, and the whole number stays exact."""
    private_data_dir.mkdir()
    query = f"SELECT 'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS low, {2**127 - 1}::HUGEINT AS big"
    assert sql.main([query, "--format", "json"]) == 0

    def refused(constant: str):
        raise ValueError(f"not JSON: {constant}")

    rows = json.loads(capsys.readouterr().out, parse_constant=refused)
    assert rows == [{"nan": None, "low": None, "big": 2**127 - 1}]
