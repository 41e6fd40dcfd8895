"""The real codex CLI, run by `invoke pipeline --upstream mock` over both of its transports."""

import json

import pytest
from codex_pipeline import PROMPT, run_pipeline
from conftest import FRESH_RUNS, read_traffic
from losses import assert_run_loses_nothing

pytestmark = pytest.mark.e2e


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("http", marks=FRESH_RUNS),
        pytest.param("websocket", marks=pytest.mark.xdist_group("codex-websocket")),  # made once, by one worker
    ],
)
def codex_run(request, tmp_path_factory, codex_program):
    """The HTTP run is the session's fresh codex run (the same pipeline, made once for these checks and its
    readers); the WebSocket run is made here."""
    if request.param == "http":
        result, run = request.getfixturevalue("fresh_pipelines")["codex"]
        return request.param, result, run
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    result, run = run_pipeline(data_dir, codex_program, request.param)
    return request.param, result, run


def model_requests(entries: list[dict]) -> list[dict]:
    """Every request body codex sent to the model, HTTP bodies and WebSocket frames alike."""
    bodies = []
    for entry in entries:
        if entry["kind"] == "http" and entry["request"]["method"] == "POST":
            bodies.append(entry["request"]["body"])
        for frame in entry.get("messages", []):
            if frame["from"] == "client":
                bodies.append(frame["body"])
    return bodies


def test_pipeline_completes_and_prints_where_things_are(codex_run):
    _transport, result, run = codex_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"run folder: {run.relative_to(run.parents[2])}" in result.stdout or "run folder:" in result.stdout
    assert "report: " in result.stdout and str(run.name) in result.stdout
    assert 'return "Hello, world!"' in result.stdout  # codex printed the mock's final answer
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["agent"]["version"] == "codex-cli 0.169.0"
    assert manifest["prompt"] == PROMPT and manifest["target"] == "codex"
    assert manifest["exchanges"] == len(read_traffic(run))
    assert [proxy["name"] for proxy in manifest["proxies"]] == ["model", "backend", "chatgpt"]


def test_tool_loop_is_captured_in_full(codex_run):
    transport, _, run = codex_run
    entries = read_traffic(run)
    bodies = model_requests(entries)
    full = [body for body in bodies if any(item.get("type") == "additional_tools" for item in body.get("input", []))]
    # Over HTTP every request re-sends everything (~68 KB); over WebSocket only the first one does.
    assert len(full) == (2 if transport == "http" else 1)
    assert all(len(json.dumps(body)) > 60_000 for body in full)
    tools = next(item for item in full[0]["input"] if item["type"] == "additional_tools")["tools"]
    assert {"functions", "clock"} <= {namespace["name"] for namespace in tools}
    outputs = [item for body in bodies for item in body.get("input", []) if item.get("type") == "function_call_output"]
    assert len(outputs) == 1 and "Sleep completed" in outputs[0]["output"]  # codex really ran the tool
    if transport == "http":
        assert [entry["request"]["method"] for entry in entries if entry["proxy"] == "model"] == ["GET", "POST", "POST"]
        assert entries[0]["response"]["status"] == 426
        posts = [entry for entry in entries if entry["request"]["method"] == "POST"]
        # codex hangs up after response.completed; the exchanges are still whole and marked complete.
        assert all(entry["complete"] for entry in posts)
        assert all(entry["response"]["body"].rstrip().endswith("}") for entry in posts)
    else:
        assert all(entry["kind"] == "websocket" and entry["complete"] for entry in entries)
        assert bodies[0]["generate"] is False and bodies[0]["input"] == []
        assert all(body.get("previous_response_id") for body in bodies[1:])
        assert [item["type"] for item in bodies[-1]["input"]] == ["function_call_output"]  # only the new item


def test_report_shows_what_codex_sent_and_got(codex_run):
    transport, _, run = codex_run
    report = (run / "report.md").read_text()
    assert "- Run: target `codex`, status **complete**, agent exit code 0" in report
    assert "**Tools declared (" in report and "clock: sleep" in report
    assert "| user | input_text | write a hello world function |" in report
    assert "You are Codex" in report  # the system prompt, sent as a developer message
    assert "I will call sleep once before answering." in report  # reasoning summary
    assert "**Tool call** `clock.sleep`" in report
    assert "output of clock.sleep: Wall time:" in report
    assert 'return "Hello, world!"' in report
    assert "| input | cached | output | reasoning | total |" in report
    assert "- Unrecognised: 0 kinds" in report
    if transport == "websocket":
        assert "Continues response `resp_" in report and "from exchange #2" in report
        assert "No usage and no output (a warm-up request answers like this)." in report
    else:
        assert "### #1 GET `/v1/responses` → 426 (model)" in report


def test_every_text_the_fresh_run_captured_reaches_an_output(codex_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, _, run = codex_run
    assert_run_loses_nothing(run)
