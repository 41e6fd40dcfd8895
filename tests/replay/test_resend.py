"""`invoke resend` against the mock, on a bundled sample copied away: the re-sent body is the recorded one with the
edits made and nothing else, the answers are compared with the recorded one (tokens, cache, cost, tool calls,
text), --repeat shows the spread, and a bad edit, a turn that is no HTTP request, or a send nobody confirmed is one
line each, before anything is sent."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from probe.common.errors import UsageError, run_main
from probe.replay.resend import confirm, main
from probe.runs import provenance

DATA = PROJECT_ROOT / "data"
CLAUDE = "claude-code/20261125-122623-sample-mock"
PRICES = str(DATA / "sample-prices.yaml")
GEMINI = "gemini/20261125-122632-sample-mock"
WEBSOCKET = "codex/20261125-122558-sample-websocket"
CONNECTION = ("host", "content-length", "connection")


def copied(tmp_path: Path, *runs: str) -> Path:
    for run in runs:
        shutil.copytree(DATA / run, tmp_path / "data" / run)
    return tmp_path / "data"


def resend(data: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PROBE_DATA_DIR=str(data), **(env or {}))
    return subprocess.run([sys.executable, "-m", "probe.replay.resend", *options], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip


def refused(data: Path, monkeypatch, capsys, *options: str, keep: bool = False) -> list[str]:
    """Its error lines, from a resend in this process that stops before anything is sent (exit code 2); `keep`:
    what it printed on stdout is left for the caller to read."""
    monkeypatch.setenv("PROBE_DATA_DIR", str(data))
    capsys.readouterr()
    assert run_main(main, list(options)) == 2
    said = capsys.readouterr()
    if keep:
        print(said.out, end="")
    return said.err.splitlines()


def lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]


def new_runs(data: Path, target: str) -> list[Path]:
    return sorted((data / target).glob("*-resend"))


@pytest.mark.slow
def test_a_tool_dropped_is_the_only_change_sent_and_three_answers_are_compared_with_the_recorded_one(tmp_path):
    data = copied(tmp_path, CLAUDE)
    origin = data / CLAUDE
    result = resend(data, "--run", str(origin), "--turn", "1", "--upstream", "mock", "--drop-tool", "Bash",
                    "--repeat", "3", "--yes", "--prices", PRICES)  # fmt: skip
    assert result.returncode == 0, result.stderr
    # Shown before sending: the request without Bash, its size and its estimated cost.
    assert (
        "model claude-opus-5-5; instructions 16,474 characters; 11 tools; 1 history item; 45,450 bytes" in result.stdout
    )
    assert "  edits: --drop-tool Bash\n" in result.stdout
    assert (
        "  estimated cost: $0.046372 a send, its input uncached and its output 40 tokens as recorded ($0.139116 for 3 "
        "sends)\n"
    ) in result.stdout
    assert "it goes to the bundled mock model" in result.stdout
    [run] = new_runs(data, "claude-code")
    recorded = lines(origin)[0]["request"]
    sent = lines(run)
    assert len(sent) == 3
    expected = dict(recorded["body"], tools=[tool for tool in recorded["body"]["tools"] if tool["name"] != "Bash"])
    assert len(expected["tools"]) == len(recorded["body"]["tools"]) - 1 == 11
    for line in sent:
        assert line["request"]["body"] == expected
        assert line["request"]["path"] == recorded["path"]
        # The recorded headers, in their order and spelling (the mock's key in the place of the recorded mask), but
        # for those of the connection.
        names = [name for name, _ in line["request"]["headers"] if name.lower() not in CONNECTION]
        assert names == [name for name, _ in recorded["headers"] if name.lower() not in CONNECTION]
        assert dict(line["request"]["headers"])["x-api-key"] == "[REDACTED sha256:3f7183a1]"  # the mock's key, masked
    manifest = json.loads((run / "manifest.json").read_text())
    digest = hashlib.sha256((origin / "traffic.jsonl").read_bytes()).hexdigest()
    assert manifest["origin"] == {"run": CLAUDE, "path": str(origin.resolve()), "kind": "resend", "at": 1,
                                  "traffic_sha256": digest, "traffic_changed": False,
                                  "edits": ["--drop-tool Bash"]}  # fmt: skip
    assert "warning" not in result.stdout and "Warning" not in (run / "resend.md").read_text()
    assert manifest["label"] == "resend" and manifest["status"] == "complete"
    page = (run / "resend.md").read_text()
    assert page in result.stdout  # printed, and kept in the run folder
    assert "| input tokens | 12,436 | 11,445 | 11,445 | 11,445 |" in page
    assert "| cache write | 9,862 | 8,871 | 8,871 | 8,871 |" in page
    assert "| cost | $0.060406 | $0.055451 | $0.055451 | $0.055451 |" in page  # both priced
    # Without Bash, the mock calls another of the tools it is given, and says so: the text differs too.
    assert "| tool calls | Bash | ToolSearch | ToolSearch | ToolSearch |" in page
    assert "Over 3 sends: 1 distinct text, 1 distinct set of tool calls." in page
    assert "| input tokens | 11,445 | 11,445 | 11,445 |" in page  # min, median, max
    assert "| cost | $0.055451 | $0.055451 | $0.055451 |" in page
    diff = (
        "```diff\n--- recorded #1\n+++ send 3\n@@ -1 +1 @@\n-Let me run Bash first.\n+Let me run ToolSearch first.\n```"
    )
    assert diff in page
    assert (run / "report.md").is_file() and "resend.md" not in os.listdir(origin)


def test_each_edit_that_does_not_apply_is_one_line_and_nothing_is_sent(tmp_path, monkeypatch, capsys):
    data = copied(tmp_path, CLAUDE)
    origin = str(data / CLAUDE)
    assert refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", "--upstream", "mock", "--yes",
                   "--drop-tool", "Nope", "--drop-history", "5", "--set", "a=notjson", "--unset",
                   "metadata.nothere") == [
        "error: --drop-tool Nope: the request has no tool 'Nope' (its tools: Agent, Bash, Edit, ListAgents, Read, "
        "ReportFindings, ScheduleWakeup, Skill, ToolSearch, Workflow, DeferredToolPlaceholder, Write)",
        "error: --drop-history 5: the request's history has 3 items (numbered from 1)",
        "error: --set a: 'notjson' is not JSON (a string goes in double quotes)",
        "error: --unset metadata.nothere: the request has no field 'nothere' there",
    ]  # fmt: skip
    refusals = {
        ("--turn", "9"): "has no exchange 9",
        ("--turn", "2", "--add-tool", "[1]"): "error: --add-tool [1]: a tool is a JSON object",
        ("--turn", "2", "--add-tool", "@nowhere.json"): "error: --add-tool @nowhere.json: No such file or directory",
        ("--turn", "2", "--repeat", "0"): "error: argument --repeat: from 1 to 50",
        ("--turn", "2", "--target", "codex"): "is a run of 'claude-code', not of 'codex'",
        ("--turn", "2", "--temperature", "hot"): "error: argument --temperature: 'hot' is not a number",
    }
    for options, said in refusals.items():
        [line] = refused(data, monkeypatch, capsys, "--run", origin, "--upstream", "mock", "--yes", *options)
        assert line.startswith("error: ") and said in line, (options, line)
    # Dropping the call a tool result answers is allowed, and warned about: the API may refuse it.
    monkeypatch.setenv("PROBE_DATA_DIR", str(data))
    assert run_main(main, ["--run", origin, "--turn", "2", "--upstream", "mock", "--drop-history", "2"]) == 2
    said = capsys.readouterr()
    assert "  warning: 1 tool result answers a call no longer in the history: the API may refuse the request\n" in (
        said.out
    )
    assert said.err == "error: standard input is not a terminal, so nobody can confirm: give --yes to send\n"
    # A run folder comes from anyone: a proxy its target has not, or a path HTTP cannot carry as it is is not sent.
    traffic = data / CLAUDE / "traffic.jsonl"
    entries = [json.loads(line) for line in traffic.read_text().splitlines()]
    entries[1]["proxy"] = "elsewhere"
    traffic.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    assert refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", "--upstream", "mock", "--yes") == [
        "error: exchange 2 went through proxy 'elsewhere', which claude-code has not (its proxies: api): it cannot be "
        "sent the way it went"
    ]
    entries[1]["proxy"] = "api"
    entries[1]["request"]["path"] = "/v1/messages HTTP/1.1\r\nX-Injected: 1"
    traffic.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    assert refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", "--upstream", "mock", "--yes") == [
        f"error: exchange 2 of {origin}: its method or path is not one HTTP can send"
    ]
    assert new_runs(data, "claude-code") == []


def test_a_real_upstream_is_named_and_nothing_is_sent_unless_someone_confirms_or_the_key_is_at_hand(
    tmp_path, monkeypatch, capsys
):
    data = copied(tmp_path, CLAUDE, "opencode/20261125-123535-sample-mock")
    origin = str(data / CLAUDE)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
    assert refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", keep=True) == [
        "error: standard input is not a terminal, so nobody can confirm: give --yes to send"
    ]
    said = capsys.readouterr().out
    assert "  the recorded context goes to api.anthropic.com (the target's upstream)\n" in said
    assert "  its x-api-key: your key from ANTHROPIC_API_KEY\n" in said and "sk-ant-test" not in said
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", "--yes") == [
        "error: the request's x-api-key is masked: ANTHROPIC_API_KEY in your environment gives the key to send"
    ]
    # Recorded with a login whose key is not the masked header's: that header is named, and sent as its mask.
    manifest = json.loads((data / CLAUDE / "manifest.json").read_text())
    (data / CLAUDE / "manifest.json").write_text(json.dumps(manifest | {"login": "oauth"}))
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-test-not-a-token")
    refused(data, monkeypatch, capsys, "--run", origin, "--turn", "2", keep=True)
    said = capsys.readouterr().out
    assert "  the request holds 1 masked secret: sent as the masks, never unmasked" in said
    assert "  no key from the environment fills its masked x-api-key: an API that checks it will refuse the" in said
    # A request that holds a masked secret says so, once.
    opencode = str(data / "opencode/20261125-123535-sample-mock")
    refused(data, monkeypatch, capsys, "--run", opencode, "--turn", "2", "--upstream", "mock", keep=True)
    said = capsys.readouterr().out
    assert said.count("masked secret") == 1
    assert "  the request holds 1 masked secret: sent as the masks, never unmasked" in said
    assert new_runs(data, "claude-code") == [] and new_runs(data, "opencode") == []


@pytest.mark.slow
def test_a_websocket_turn_is_re_sent_as_its_apis_http_request(tmp_path):
    data = copied(tmp_path, WEBSOCKET)
    origin = data / WEBSOCKET
    result = resend(data, "--run", str(origin), "--turn", "2", "--upstream", "mock", "--yes", "--drop-history", "1",
                    "--set", 'instructions="Be terse."')  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "POST /v1/responses (its WebSocket turn as its API's HTTP request)" in result.stdout
    assert "previous_response_id left out" in result.stdout
    [run] = new_runs(data, "codex")
    [line] = lines(run)
    [message] = [each["body"] for each in lines(origin)[1]["messages"] if each["from"] == "client"]
    assert line["kind"] == "http" and line["request"]["method"] == "POST" and line["request"]["path"] == "/v1/responses"
    # The client message less its event type, the first history item (the first not a developer message) dropped.
    # (the tools codex declares in an `additional_tools` item neither instruct nor converse; the answer the request
    # continued is the recorded connection's, and its name is left out)
    conversing = [index for index, item in enumerate(message["input"])
                  if item.get("type") == "message" and item.get("role") != "developer"]  # fmt: skip
    assert message["input"][0]["type"] == "additional_tools" and conversing[0] > 0
    expected = {key: value for key, value in message.items() if key not in ("type", "previous_response_id")}
    expected |= {"instructions": "Be terse."}
    expected["input"] = [item for index, item in enumerate(message["input"]) if index != conversing[0]]
    assert line["request"]["body"] == expected
    headers = dict((name.lower(), value) for name, value in line["request"]["headers"])
    assert headers["content-type"] == "application/json" and "sec-websocket-key" not in headers
    assert "| tool calls | clock.sleep | clock.sleep |" in (run / "resend.md").read_text()


@pytest.mark.slow
def test_a_gemini_request_asks_another_model_in_its_path_and_samples_as_told(tmp_path):
    data = copied(tmp_path, GEMINI)
    origin = data / GEMINI
    result = resend(data, "--run", str(origin), "--turn", "2", "--upstream", "mock", "--yes", "--model", "gemini-x",
                    "--temperature", "0.25", "--max-tokens", "64")  # fmt: skip
    assert result.returncode == 0, result.stderr
    [run] = new_runs(data, "gemini")
    [line] = lines(run)
    recorded = lines(origin)[1]["request"]
    assert recorded["path"] == "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse"
    assert line["request"]["path"] == "/v1beta/models/gemini-x:streamGenerateContent?alt=sse"
    config = recorded["body"]["generationConfig"] | {"temperature": 0.25, "maxOutputTokens": 64}
    assert line["request"]["body"] == recorded["body"] | {"generationConfig": config}
    assert "| model | gemini-3.8-flash | gemini-x |" in (run / "resend.md").read_text()


def test_at_a_terminal_it_sends_only_when_told_yes(monkeypatch):
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    for reply in ("y", "YES ", "yes"):
        monkeypatch.setattr("builtins.input", lambda prompt, reply=reply: reply)
        confirm(False)
    for reply in ("", "n", "no", "sure"):
        monkeypatch.setattr("builtins.input", lambda prompt, reply=reply: reply)
        with pytest.raises(UsageError, match=r"^not sent$"):
            confirm(False)
    confirm(True)  # --yes: nobody is asked


def edited(origin: Path, number: int, text: str) -> None:
    """Exchange `number`'s last message says `text`, written into the run folder's traffic.jsonl after the run."""
    traffic = origin / "traffic.jsonl"
    entries = [json.loads(line) for line in traffic.read_text().splitlines()]
    entries[number - 1]["request"]["body"]["messages"][-1]["content"] = text
    traffic.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_an_exchange_edited_since_the_run_was_recorded_is_said_before_sending(tmp_path, monkeypatch, capsys):
    """A capture that is no longer the one its manifest's digest names: said before asking, as a replay says it of a
    run recorded here (the same words), and otherwise as not the capture its manifest names."""
    data = copied(tmp_path, CLAUDE)
    origin = data / CLAUDE
    traffic = origin / "traffic.jsonl"
    refused(data, monkeypatch, capsys, "--run", str(origin), "--turn", "1", "--upstream", "mock", keep=True)
    assert "warning" not in capsys.readouterr().out  # as recorded
    edited(origin, 1, "Print every environment variable.")
    refused(data, monkeypatch, capsys, "--run", str(origin), "--turn", "1", "--upstream", "mock", keep=True)
    said = capsys.readouterr().out
    assert (
        f"  warning: {traffic} is not the capture its manifest names (traffic_sha256): it changed after the run was "
        "recorded: exchange 1 is sent as the file holds it now\n"
    ) in said
    # Recorded here: signed by this machine's key, as a capture signs it, before the capture was changed.
    manifest = json.loads((origin / "manifest.json").read_text())
    manifest[provenance.FIELD] = provenance.sign(manifest)
    (origin / "manifest.json").write_text(json.dumps(manifest))
    assert provenance.recorded_here(manifest)
    refused(data, monkeypatch, capsys, "--run", str(origin), "--turn", "2", "--upstream", "mock", keep=True)
    said = capsys.readouterr().out
    assert (
        f"  warning: {traffic} is not the capture recorded on this machine: it changed after the run was signed: "
        "exchange 2 is sent as the file holds it now\n"
    ) in said  # (a replay's words: tests/replay/test_replay.py)


@pytest.mark.slow
def test_a_resend_of_an_edited_exchange_says_so_in_its_manifest_and_its_page(tmp_path):
    data = copied(tmp_path, CLAUDE)
    origin = data / CLAUDE
    edited(origin, 1, "Print every environment variable.")
    result = resend(data, "--run", str(origin), "--turn", "1", "--upstream", "mock", "--yes")
    assert result.returncode == 0, result.stderr
    said = (
        f"{origin / 'traffic.jsonl'} is not the capture its manifest names (traffic_sha256): it changed after the run"
    )
    assert f"  warning: {said} was recorded: exchange 1 is sent as the file holds it now\n" in result.stdout
    [run] = new_runs(data, "claude-code")
    [line] = lines(run)
    assert line["request"]["body"]["messages"][-1]["content"] == "Print every environment variable."  # as edited
    origin_record = json.loads((run / "manifest.json").read_text())["origin"]
    digest = hashlib.sha256((origin / "traffic.jsonl").read_bytes()).hexdigest()
    assert origin_record["traffic_changed"] is True and origin_record["traffic_sha256"] == digest
    page = (run / "resend.md").read_text()
    assert (
        "Warning: " in page and "it changed after the run was recorded: exchange 1 was sent as the file held it" in page
    )
