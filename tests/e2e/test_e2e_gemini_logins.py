"""The real gemini-cli with its other logins, by `python -m probe.pipeline --target gemini --upstream mock --login
NAME`: "Login with Google" (the Code Assist API, its account calls and the Gemini turns it wraps) and Vertex AI,
each through its own proxy, with the stand-in credentials the target gives it against the mock."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, read_traffic

from probe.read.sse import parse
from probe.read.whole_turns import whole_turns
from probe.redact.secrets import fingerprint
from probe.runs.logins import choose_login
from probe.runs.targets import load_target

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("gemini-logins")]
PROMPT = "write a hello world function"
MOCK_TOKEN = "ya29." + "MockNotARealToken-agent-probe-000000"  # the google login's mock_env
MOCK_PROJECT = "agent-probe-mock-project"  # the project the mock's onboarding gives (probe.mock.code_assist_api)
MOCK_VERTEX_KEY = "AIza" + "MockNotARealVertexKey-agent-probe-00"  # the vertex login's mock_env


def pipeline(login: str, program: str, data_dir: Path) -> tuple[subprocess.CompletedProcess, Path]:
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "gemini", "--upstream", "mock", "--login", login,
         "--prompt", PROMPT, "--workdir", "fresh", "--timeout", "120"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    [run] = (data_dir / "gemini").iterdir()
    return result, run


@pytest.fixture(scope="module")
def google_run(tmp_path_factory, gemini_program):
    result, run = pipeline("google", gemini_program, tmp_path_factory.mktemp("data"))
    return result, run, read_traffic(run)


def test_the_google_login_onboards_then_completes_a_tool_round_trip_on_code_assist(google_run):
    result, run, entries = google_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["login"] == "google"
    assert list(manifest["login_seen"]) == ["google"]  # the login its requests showed, at the run's end
    assert manifest["agent"]["env"]["GOOGLE_CLOUD_ACCESS_TOKEN"] == fingerprint(MOCK_TOKEN)
    assert "GEMINI_API_KEY" not in manifest["agent"]["env"]  # the API-key login's stand-in is not this one's
    # The settings file the login writes into the private home (removed with it after the run).
    settings = json.loads(choose_login(load_target("gemini"), "google").files[".gemini/settings.json"])
    assert settings["security"]["auth"]["selectedType"] == "oauth-personal"
    assert settings["privacy"] == {"usageStatisticsEnabled": False}

    # Every request went to the Code Assist API, through its own proxy, with the stand-in token as its bearer.
    assert {entry["proxy"] for entry in entries} == {"codeassist"}
    paths = [entry["request"]["path"] for entry in entries]
    assert paths[:2] == ["/v1internal:loadCodeAssist", "/v1internal:onboardUser"]
    assert "/v1internal:listExperiments" in paths and "/v1internal:retrieveUserQuota" in paths
    streamed = [entry for entry in entries if entry["request"]["path"] == "/v1internal:streamGenerateContent?alt=sse"]
    assert len(streamed) == 2
    headers = {name.lower(): value for name, value in streamed[0]["request"]["headers"]}
    assert headers["authorization"] == fingerprint("Bearer " + MOCK_TOKEN)
    # The wrapper names the model and the project onboarding gave; the Gemini request is inside it.
    body = streamed[0]["request"]["body"]
    assert body["model"] == "gemini-3.8-flash" and body["project"] == fingerprint(
        MOCK_PROJECT
    )  # masked as a project id
    assert PROMPT in json.dumps(body["request"]["contents"])
    chunks = [event.data for event in parse(streamed[0]["response"]["body"])]
    assert all(set(chunk) == {"response", "traceId"} for chunk in chunks)
    [call] = [
        part["functionCall"]
        for chunk in chunks
        for part in chunk["response"]["candidates"][0]["content"]["parts"]
        if "functionCall" in part
    ]
    assert call["name"] == "run_shell_command"
    [answer] = [
        part["functionResponse"]
        for part in streamed[1]["request"]["body"]["request"]["contents"][-1]["parts"]
        if "functionResponse" in part
    ]
    assert answer["id"] == call["id"] and "agent-probe tool call" in json.dumps(answer["response"])
    for path in run.rglob("*"):
        if path.is_file():
            assert MOCK_TOKEN.encode() not in path.read_bytes(), f"the stand-in token reached {path}"


def test_the_google_login_is_reported_like_any_gemini_turn(google_run):
    _, run, entries = google_run
    report = (run / "report.md").read_text()
    assert f"- Read as: `gemini.generate_content` ×{len(entries)} (`probe.apis.gemini.report`)" in report
    assert "- Unrecognised: 0 kinds" in report and "login `google`" in report
    assert "**Code Assist account call**: loadCodeAssist (account set-up: the user's tier and Cloud project)" in report
    assert "**Code Assist account call**: onboardUser (onboarding: the user joins a tier" in report
    assert "- Tools: 1 call of 1 tool, 0 failed" in report
    assert "`gemini-3.8-flash` $" in report and "`gemini-3.5-flash-lite` $" in report  # priced by model
    turns = list(whole_turns(run / "turns.jsonl"))
    assert all(turn["unrecognised"] == [] and turn["unknown"] == [] for turn in turns)
    model_turns = [turn for turn in turns if turn["usage"] is not None]
    assert [turn["model"] for turn in model_turns] == ["gemini-3.5-flash-lite", "gemini-3.8-flash", "gemini-3.8-flash"]
    assert all(turn["usage"]["input"] > 0 and turn["usage"]["output"] > 0 for turn in model_turns)
    first = model_turns[1]
    assert [part["kind"] for part in first["output"][0]["parts"]] == ["reasoning", "text", "tool_call"]
    assert first["usage"]["reasoning"] > 0 and first["config"]["project"] == fingerprint(MOCK_PROJECT)


def test_the_vertex_login_completes_a_tool_round_trip_through_its_proxy(tmp_path, gemini_program):
    result, run = pipeline("vertex", gemini_program, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    entries = read_traffic(run)
    assert {entry["proxy"] for entry in entries} == {"vertex"}
    paths = [entry["request"]["path"] for entry in entries]
    assert paths == [
        "/v1beta1/publishers/google/models/gemini-3.5-flash-lite:generateContent",
        "/v1beta1/publishers/google/models/gemini-3.8-flash:streamGenerateContent?alt=sse",
        "/v1beta1/publishers/google/models/gemini-3.8-flash:streamGenerateContent?alt=sse",
    ]
    headers = {name.lower(): value for name, value in entries[1]["request"]["headers"]}
    assert headers["x-goog-api-key"] == fingerprint(MOCK_VERTEX_KEY)
    assert "functionResponse" in json.dumps(entries[2]["request"]["body"]["contents"][-1])
    assert json.loads((run / "manifest.json").read_text())["login_seen"] == {"vertex": len(entries)}
    report = (run / "report.md").read_text()
    assert "- Unrecognised: 0 kinds" in report and "login `vertex`, home" in report
    assert "- Tools: 1 call of 1 tool, 0 failed" in report
