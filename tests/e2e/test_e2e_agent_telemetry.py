"""--agent-telemetry with real agents against the mock: Claude Code, codex and gemini-cli each send their own account
(api_request or its like, with token counts, and the typed prompt) to the run's receiver; the manifest counts it, no
secret of the prompt reaches telemetry.jsonl, and where the user already sends the agent's telemetry elsewhere (their
variables, or their own settings with --home own) one line says what the run overrides, and their files stay as
they were."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, read_traffic
from refusing_proxy import RefusingProxy
from secret_corpus import CORPUS
from test_mock_only import OWN_HOMES, XDG, fake_home, hashes

from probe.capture import agents
from probe.runs.targets import load_target

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NAME, TEXT, SECRET = CORPUS[0]  # DB_PASSWORD=…: a secret the prompt carries, which the agents log with it
PROMPT = f"write a hello world function; my .env says {TEXT}"
ELSEWHERE = "http://collector.example:4318"
# case -> (target, home, the user's own files beside the fake login, the user's variables, the override the run names)
CLAUDE_SETTINGS = {"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": ELSEWHERE, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": ELSEWHERE}}
CASES = {
    "claude-code": ("claude-code", "private", {}, {"OTEL_EXPORTER_OTLP_ENDPOINT": ELSEWHERE},
                    "$OTEL_EXPORTER_OTLP_ENDPOINT"),
    # Its own settings' env wins over the environment it is started with: the run's --settings win over them.
    "claude-code-own": ("claude-code", "own", {".claude/settings.json": json.dumps(CLAUDE_SETTINGS)}, {},
                        "env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT in "),
    "codex": (
        "codex",
        "own",
        {".codex/config.toml": f'[otel]\nexporter = {{ otlp-http = {{ endpoint = "{ELSEWHERE}/v1/logs" }} }}\n'},
        {},
        "otel in ",
    ),
    "gemini": (
        "gemini",
        "own",
        {".gemini/settings.json": json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}},
                                              "telemetry": {"enabled": True, "otlpEndpoint": ELSEWHERE}})},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ELSEWHERE},
        "telemetry in ",
    ),
}  # fmt: skip
# Each agent's record of a model call with its token counts, and of the typed prompt (codex's and gemini's by name in
# their attributes, Claude Code's by its event name).
CALLS = {"claude-code": "api_request", "codex": "codex.sse_event", "gemini": "gemini_cli.api_response"}
PROMPTS = {"claude-code": "user_prompt", "codex": "codex.user_prompt", "gemini": "gemini_cli.user_prompt"}
TOKENS = {"claude-code": "input_tokens", "codex": "input_token_count", "gemini": "input_token_count"}


def event_name(record: dict) -> str:
    attributes = record.get("attributes") or {}
    return attributes.get("event.name") or record.get("name") or ""


@pytest.fixture(scope="module", params=[pytest.param(name, marks=pytest.mark.xdist_group(f"telemetry-{name}"))
                                        for name in CASES])  # fmt: skip
def made(request, tmp_path_factory):
    target, home, files, variables, said = CASES[request.param]
    own_files, own_variables, flags = OWN_HOMES[(target, "api-key")]
    user_home = fake_home(tmp_path_factory.mktemp(request.param), own_files | files if home == "own" else files)
    before, proxy = hashes(user_home), RefusingProxy()
    program = str(agents.ensure_installed(load_target(target)))
    environ = {
        name: value for name, value in os.environ.items() if not name.startswith(("XDG_", "ANTHROPIC_", "OTEL_"))
    }
    environ |= {name: str(user_home / place) for name, place in XDG.items()} | (own_variables if home == "own" else {})
    environ |= {"HOME": str(user_home), "PROBE_DATA_DIR": str(user_home.parent / "data"), **variables}
    environ["PATH"] = f"{Path(program).parent}{os.pathsep}{environ['PATH']}"
    argv = ["--target", target, "--upstream", "mock", "--home", home, "--agent-telemetry", "--prompt", PROMPT]
    argv += ["--timeout", "120", *(("--", *flags) if home == "own" and flags else ())]
    try:
        command = [sys.executable, "-m", "probe.pipeline", *argv]
        environ = proxy.environment(environ)
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)
    finally:
        proxy.close()
    (run,) = (user_home.parent / "data" / target).glob("*")
    return target, result, run, proxy.seen, before, hashes(user_home), said


def test_the_agents_own_account_lands_masked_and_counted_and_the_users_set_up_is_left_as_it_was(made):
    target, result, run, seen, before, after, said = made
    assert result.returncode == 0, result.stderr[-3000:]
    assert seen == []  # nothing went to the user's collector, nor anywhere else off this machine
    lines = [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines()]
    assert lines and not [line for line in lines if "unreadable" in line]
    calls = [line for line in lines if event_name(line) == CALLS[target]]
    assert calls, sorted({event_name(line) for line in lines})
    # The agent's own count of the input tokens (codex logs its counts as text).
    assert any(int(line["attributes"].get(TOKENS[target]) or 0) > 0 for line in calls)
    assert [line for line in lines if event_name(line) == PROMPTS[target]]
    text = (run / "telemetry.jsonl").read_text()
    assert SECRET not in text and json.dumps(SECRET)[1:-1] not in text
    account = json.loads((run / "manifest.json").read_text())["account"]["telemetry"]
    assert account["state"] == "on" and account["endpoint"].startswith("http://127.0.0.1:")
    assert account["records"] == len(lines) and account["exports"] == len({line["export"] for line in lines})
    assert (account["dropped"], account["refused"]) == (0, 0)  # every export came with the run's token
    # What of the user's own set-up the run overrides: said in one line, and kept in the manifest.
    assert any(said in entry for entry in account["overrides"]), account["overrides"]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("agent telemetry: ")]
    assert said in line
    assert after == before or {name: after.get(name) for name in before} == before


# The key each agent's model-call record is matched by (probe.analyse.account): Claude Code's request id equals the
# answer's request-id header; codex's and gemini-cli's records carry no id of an exchange of their own.
KEYS = {"claude-code": "request id", "codex": "session id", "gemini": "response id"}


def insight(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]


def test_the_report_matches_every_model_exchange_to_the_agents_record_and_compares_their_tokens(made):
    target, result, run, *_ = made
    assert result.returncode == 0, result.stderr[-3000:]
    [account] = [record["account"] for record in insight(run) if record["record"] == "account"]
    model_calls = [record for record in insight(run) if record["record"] == "turn"]
    assert account["state"] == "on" and account["exchanges"] == len(model_calls) > 0
    assert account["matched"] == account["exchanges"] and account["findings"] == [], account
    rows = [record for record in insight(run) if record["record"] == "account_exchange"]
    assert {row["number"] for row in rows if row["number"] is not None} <= {call["number"] for call in model_calls}
    keys = {key for counts in account["keys"].values() for key in counts if key != "None"}
    assert any(KEYS[target] in key for key in keys), account["keys"]
    # The agent's count of the input tokens beside the API's usage, for every exchange both sides counted.
    compared = [row for row in rows if row["agent_count"] and row["api_count"]]
    counted = [row for row in compared if row["agent_count"]["input_tokens"] is not None]
    assert counted and all(row["api_count"]["input_tokens"] is not None for row in counted)
    report = (run / "report.md").read_text()
    section = report[report.index("## The agent's own account") :]
    assert f"{account['matched']} of {account['exchanges']} model exchanges matched" in section
    assert "### The agent's counts beside the API's" in section and KEYS[target] in section
    # Every record, metrics included, counted once: the kinds add up to the manifest's count.
    records = json.loads((run / "manifest.json").read_text())["account"]["telemetry"]["records"]
    assert account["records"] == records == sum(entry["count"] for entry in account["read"])
    assert f"telemetry.jsonl holds {records:,} records, each counted once below." in section
    # Each exchange's cache read and write beside the wire's, and the agent's totals beside the wire's, agreeing.
    assert all("cache_read_tokens" in row["api_count"] for row in compared)
    totals = [record for record in insight(run) if record["record"] == "account_total"]
    summed = [row for row in totals if "input" in row["agent_count"] and "input" in row["api_count"]]
    assert summed and all(row["disagreements"] == [] for row in summed), totals
    assert "### The agent's totals beside the wire's" in section
    # Its transcript, where it is kept, holds no secret of the prompt either.
    if (run / "transcript.jsonl").exists():
        text = (run / "transcript.jsonl").read_text()
        assert "write a hello world function" in text and SECRET not in text and json.dumps(SECRET)[1:-1] not in text


def test_model_calls_sent_around_the_proxy_are_the_agents_records_with_no_exchange(tmp_path, claude_program):
    """Claude Code given a second base URL the target does not redirect (its own settings' env, straight to a mock
    started apart): the proxy sees none of its model calls, while its own account logs each of them, and the join
    names every one as a record of a request with no exchange."""
    server = subprocess.Popen([sys.executable, "-m", "probe.mock", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        direct = server.stdout.readline().split("mock listening on ", 1)[1].strip().rstrip("/")
        environ = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"))
        environ["PATH"] = f"{Path(claude_program).parent}{os.pathsep}{environ['PATH']}"
        settings = json.dumps({"env": {"ANTHROPIC_BASE_URL": direct}})
        command = [sys.executable, "-m", "probe.pipeline", "--target", "claude-code", "--upstream", "mock",
                   "--workdir", "fresh", "--timeout", "120", "--prompt", "write a hello world function",
                   "--", "--settings", settings]  # fmt: skip
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "data" / "claude-code").iterdir()
    records = [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines()]
    logged = [record for record in records if event_name(record) == "api_request"]
    assert len(logged) >= 2  # the prompt, then its tool's result
    assert not [entry for entry in read_traffic(run) if "/v1/messages" in entry["request"]["path"]]
    [account] = [record["account"] for record in insight(run) if record["record"] == "account"]
    unmatched = [row for row in insight(run) if row["record"] == "account_exchange" and row["number"] is None]
    assert len([row for row in unmatched if row["name"] == "api_request"]) == len(logged)
    assert len(account["findings"]) >= len(logged)
    assert all(row["agent_count"]["input_tokens"] for row in unmatched if row["name"] == "api_request")
    section = (run / "report.md").read_text().split("## The agent's own account", 1)[1]
    assert "### Unmatched" in section and section.count("api_request") >= len(logged)
