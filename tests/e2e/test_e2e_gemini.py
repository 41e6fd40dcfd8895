"""The real gemini-cli, run by `invoke pipeline --target gemini --upstream mock`: a new API, Gemini's, with its
reader, renderer and mock, and the settings file the target writes into the agent's home."""

import json
import os

import pytest
from conftest import pipeline_against_mock, read_traffic, tokens_line
from losses import assert_run_loses_nothing
from transcript_checks import assert_transcript_kept

from probe.read.sse import parse
from probe.redact.secrets import fingerprint

# One worker runs the module: its tests share the module's run.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("gemini")]
PROMPT = "write a hello world function"
MOCK_KEY = "AIza" + "MockNotARealKey-agent-probe-0000000"  # what the target's mock_env gives gemini-cli


@pytest.fixture(scope="module")
def gemini_run(tmp_path_factory, gemini_program):
    result, run = pipeline_against_mock("gemini", gemini_program, tmp_path_factory.mktemp("data"), PROMPT)
    return result, run, read_traffic(run)


def chunks(entry: dict) -> list[dict]:
    return [event.data for event in parse(entry["response"]["body"])]


def parts(chunk_list: list[dict]) -> list[dict]:
    return [part for chunk in chunk_list for part in chunk["candidates"][0]["content"]["parts"]]


def test_gemini_completes_a_tool_round_trip_against_the_mock(gemini_run):
    result, run, entries = gemini_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent"]["version"] == "0.61.0"
    assert manifest["agent"]["argv"][1:] == ["--prompt", PROMPT, "--yolo"]
    assert manifest["agent"]["env"]["GEMINI_API_KEY"] == fingerprint(MOCK_KEY)
    assert manifest["exchanges"] == len(entries) == 3 and all(entry["complete"] for entry in entries)


def test_the_routing_call_then_two_streamed_turns_with_the_function_response(gemini_run):
    _, _, entries = gemini_run
    paths = [entry["request"]["path"] for entry in entries]
    assert paths[0].startswith("/v1beta/models/") and paths[0].endswith(":generateContent")
    assert paths[1] == paths[2] and paths[1].endswith(":streamGenerateContent?alt=sse")
    routing = entries[0]["request"]["body"]
    assert routing["generationConfig"]["responseMimeType"] == "application/json"
    assert json.loads(entries[0]["response"]["body"]["candidates"][0]["content"]["parts"][0]["text"])
    task = entries[1]["request"]["body"]
    assert len(json.dumps(task["systemInstruction"])) > 10_000
    assert PROMPT in [part.get("text") for part in task["contents"][0]["parts"]]
    declarations = [item for tool in task["tools"] for item in tool["functionDeclarations"]]
    assert "run_shell_command" in {item["name"] for item in declarations}
    headers = {name.lower(): value for name, value in entries[1]["request"]["headers"]}
    assert headers["x-goog-api-key"] == fingerprint(MOCK_KEY)
    [call] = [part["functionCall"] for part in parts(chunks(entries[1])) if "functionCall" in part]
    assert call["name"] == "run_shell_command" and call["args"]["command"] == "echo agent-probe tool call"
    answer = entries[2]["request"]["body"]["contents"][-1]
    [response] = [part["functionResponse"] for part in answer["parts"] if "functionResponse" in part]
    assert response["id"] == call["id"] and response["name"] == "run_shell_command"
    assert "agent-probe tool call" in json.dumps(response["response"])


def test_the_report_shows_thoughts_the_call_and_the_token_numbers(gemini_run):
    _, run, entries = gemini_run
    report = (run / "report.md").read_text()
    usage = [entries[0]["response"]["body"]["usageMetadata"]]
    usage += [chunk["usageMetadata"] for entry in entries[1:] for chunk in chunks(entry) if "usageMetadata" in chunk]
    assert len(usage) == 3
    # Gemini's prompt count holds the cached tokens; its candidates count leaves the thoughts out. A count a
    # turn did not send is absent, not 0.
    turns = [
        {
            "input": item["promptTokenCount"] + item.get("toolUsePromptTokenCount", 0),
            "cache_read": item.get("cachedContentTokenCount"),
            "output": item["candidatesTokenCount"] + item.get("thoughtsTokenCount", 0),
            "reasoning": item.get("thoughtsTokenCount"),
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Made with: renderer `probe.apis.gemini.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report
    [thought] = [part["text"] for part in parts(chunks(entries[1])) if part.get("thought")]
    assert "**Thinking**" in report and thought.splitlines()[-1] in report
    call = report.index("**Tool call** `run_shell_command`")
    assert '"command": "echo agent-probe tool call"' in report[call : call + 400]
    assert "thoughtSignature (128 chars, opaque)" in report
    assert "**Contents**: + 1 new content; 2 carried over from #2" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report


def test_the_settings_file_stays_in_the_agent_home_and_no_key_reaches_the_run(gemini_run):
    _, run, _ = gemini_run
    home = json.loads((run / "manifest.json").read_text())["agent"]["env"]["HOME"]
    assert not os.path.exists(home)
    for path in run.rglob("*"):
        if path.is_file():
            assert MOCK_KEY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_every_text_the_fresh_run_captured_reaches_an_output(gemini_run):
    """Any value in the capture that appears in no output is a loss (but pieces of tool-argument JSON, which are
    joined and parsed): the real agent's requests and the mock's answers, read as the pipeline read them."""
    _, run, _ = gemini_run
    assert_run_loses_nothing(run)


def test_its_chat_file_is_kept_as_the_transcript(gemini_run):
    """gemini writes its chat file in the private home, as JSON lines: the run keeps it before the home goes."""
    _, run, _ = gemini_run
    assert_transcript_kept(run, "gemini", PROMPT, "Hello, world!")
