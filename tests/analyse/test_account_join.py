"""The agent's own account joined to the wire, on real runs of Claude Code, codex and gemini-cli against the mock
(tests/data/account: each run's traffic.jsonl beside the telemetry.jsonl its agent sent): every model exchange
matched and the key named, the agent's counts beside the API's, recomputed here from the raw files; a record taken
out or added gives its finding; and the SQL view `account` says what the report says."""

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from markdown_it import MarkdownIt

from probe.analyse.account.match import match_requests
from probe.analyse.account.wire import WireCall
from probe.analyse.prices import MOCK_PRICES, prices_from
from probe.analysis import sql
from probe.analysis.report import analyze_run
from probe.common import markdown as md
from probe.read.account.event import REQUEST, AccountEvent
from probe.read.account.lines import AccountReading, read_account
from probe.read.sse import parse

FIXTURES = PROJECT_ROOT / "tests" / "data" / "account"
# Each agent, the record that says what a model call counted (compared with the API's usage), the record matched by
# the most exact key, and that key.
AGENTS = {
    "claude-code": ("api_request", "api_request", "request id"),
    "codex": ("codex.sse_event", "codex.sse_event", "session id and time"),
    "gemini": ("gemini_cli.api_response", "gen_ai.client.inference.operation.details", "response id"),
}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_folder(root: Path, target: str, telemetry: list[dict] | None = None) -> Path:
    """A run folder holding the fixture's files (its telemetry.jsonl replaced by `telemetry`, given), analysed."""
    run = root / target / "20261127-000000"
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json", "telemetry.jsonl", "transcript.jsonl"):
        if (FIXTURES / target / name).exists():
            shutil.copy(FIXTURES / target / name, run / name)
    if telemetry is not None:
        (run / "telemetry.jsonl").write_text("".join(json.dumps(record) + "\n" for record in telemetry))
    with prices_from(MOCK_PRICES):
        analyze_run(run)
    return run


def section(run: Path) -> str:
    report = (run / "report.md").read_text()
    return report[report.index("## The agent's own account") : report.index("## Endpoints")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("account")
    return {target: run_folder(root, target) for target in AGENTS}


def model_calls(traffic: Path) -> list[dict]:
    """The run's model exchanges, by path: the Messages API's, the Responses WebSocket's turns, Gemini's."""
    found = []
    for entry in lines(traffic):
        path = entry["request"]["path"]
        if re.search(r"/v1/messages(\?|$)|/v1/responses$|:(stream)?[gG]enerateContent", path):
            found.append(entry)
    return found


def agent_counts(telemetry: Path, name: str) -> list[tuple[int, int]]:
    """Input (cached included) and output tokens of each of the agent's records called `name`, from the raw file."""
    counts = []
    for record in lines(telemetry):
        fields = record.get("attributes") or {}
        if (fields.get("event.name") if name.startswith("codex.") else record.get("name")) != name:
            continue
        if name == "api_request":
            parts = ("input_tokens", "cache_read_tokens", "cache_creation_tokens")
            counts.append((sum(int(fields[part]) for part in parts), int(fields["output_tokens"])))
        elif name == "codex.sse_event" and fields.get("event.kind") == "response.completed":
            counts.append((int(fields["input_token_count"]), int(fields["output_token_count"])))
        elif name == "gemini_cli.api_response":  # thinking is output, as the API bills it
            output = int(fields["output_token_count"]) + int(fields["thoughts_token_count"])
            counts.append((int(fields["input_token_count"]), output))
    return counts


def records_of_requests(telemetry: Path, name: str) -> list[dict]:
    """The agent's records called `name` that tell of a request (the GenAI details of a response: those naming it)."""
    found = []
    for record in lines(telemetry):
        fields = record.get("attributes") or {}
        named = name in (record.get("name"), fields.get("event.name"))
        if named and (name != "gen_ai.client.inference.operation.details" or fields.get("gen_ai.response.id")):
            found.append(record)
    return found


def messages_usage(entry: dict) -> tuple[int, int]:
    """A Messages API answer's usage from its raw SSE: input (cache reads and writes added) and output."""
    usage = {}
    for event in parse(entry["response"]["body"]):
        if event.data.get("type") == "message_start":
            usage |= event.data["message"]["usage"]
        elif event.data.get("type") == "message_delta":
            usage |= event.data["usage"]
    parts = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(usage.get(part) or 0 for part in parts), usage["output_tokens"]


COLUMNS = (
    "input (all)",
    "uncached input",
    "cache read",
    "cache write",
    "output",
    "cost",
    "first token / byte",
    "duration",
    "check",
)  # the comparison table's, after exchange, record and key


def exchange_rows(text: str) -> list[dict[str, tuple[str, str] | str]]:
    """Each row of the section's comparison table: each column's agent and wire sides (the check as it is)."""
    part = text[text.index("### The agent's counts beside the API's") :]
    found = []
    for line in part.splitlines():
        if not line.startswith("| #"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")][3:]
        row: dict = {name: tuple(cell.split(" / ")) for name, cell in zip(COLUMNS, cells[:-1])}
        found.append(row | {"check": cells[-1]})
    return found


def count(cell: str) -> int | None:
    return None if cell == "—" else int(cell.replace(",", ""))


def table_counts(text: str) -> list[tuple[int, int, int, int]]:
    """The agent's and the API's input (all of it) and output tokens of each row of the section's comparison
    table."""
    return [(count(row["input (all)"][0]), count(row["input (all)"][1]), count(row["output"][0]),
             count(row["output"][1])) for row in exchange_rows(text) if row["input (all)"][0] != "—"]  # fmt: skip


@pytest.mark.parametrize("target", AGENTS)
def test_every_model_exchange_is_matched_and_its_key_named(runs, target):
    counted, record, key = AGENTS[target]
    run, text = runs[target], section(runs[target])
    exchanges = len(model_calls(run / "traffic.jsonl"))
    assert exchanges >= 2
    assert f"{exchanges} of {exchanges} model exchanges matched" in text and "0 unmatched" in text
    counts = agent_counts(run / "telemetry.jsonl", counted)
    named = len(records_of_requests(run / "telemetry.jsonl", record))
    assert f"| `{record}` | {named} of {named} matched by {key} ×{named} |" in text
    # The agent's counts beside the API's: each row's agent side is what telemetry.jsonl says, and they agree.
    rows = table_counts(text)
    assert sorted(counts) == sorted((row[0], row[2]) for row in rows)
    assert all(row[0] == row[1] and row[2] == row[3] for row in rows)
    assert "Every record of a request matched an exchange, and every exchange a record." in text


def test_claude_codes_counts_and_cost_beside_the_raw_usage_and_the_sql_view(runs):
    run = runs["claude-code"]
    calls = model_calls(run / "traffic.jsonl")
    records = [record["attributes"] for record in lines(run / "telemetry.jsonl") if record["name"] == "api_request"]
    by_id = {dict(entry["response"]["headers"])["request-id"]: entry for entry in calls}
    assert sorted(by_id) == sorted(record["request_id"] for record in records)  # the mock's ids, logged by the agent
    text = section(run)
    columns, rows = sql.query([run], "SELECT * FROM account ORDER BY n")
    view = [dict(zip(columns, row)) for row in rows]
    assert [row["matched_by"] for row in view] == ["request id"] * len(records)
    for row, record in zip(view, sorted(records, key=lambda record: record["event.sequence"])):
        entry = by_id[record["request_id"]]
        api_input, api_output = messages_usage(entry)
        assert (row["api_input_tokens"], row["api_output_tokens"]) == (api_input, api_output)
        agent_input = sum(int(record[part]) for part in ("input_tokens", "cache_read_tokens", "cache_creation_tokens"))
        assert (row["agent_input_tokens"], row["agent_output_tokens"]) == (agent_input, int(record["output_tokens"]))
        assert float(row["agent_cost_usd"]) == pytest.approx(record["cost_usd"])
        # The report's row of that exchange shows the same numbers, and our cost equals the agent's.
        [shown] = [row for row in exchange_rows(text) if row["input (all)"] == (f"{api_input:,}",) * 2]
        assert shown["output"] == (f"{api_output}",) * 2 and shown["cost"][0] == f"${record['cost_usd']:.6f}"
        assert float(row["cost_usd"]) == pytest.approx(record["cost_usd"], abs=1e-6)
        assert row["disagreements"] == 0
    # The typed prompt's id ties both requests to it, its text from the transcript (the telemetry logs it only as
    # `<REDACTED>`); the tool's decision and result to the answer that asked.
    [prompt] = [record["attributes"] for record in lines(run / "telemetry.jsonl") if record["name"] == "user_prompt"]
    transcript = [line["record"] for line in lines(run / "transcript.jsonl")]
    ours = [record for record in transcript if record.get("promptId") == prompt["prompt.id"]]
    [typed] = [record for record in ours if isinstance(record["message"]["content"], str)]
    assert prompt["prompt"] == "<REDACTED>"
    assert f"| `{prompt['prompt.id']}` | 08\\:16\\:11.950 | {typed['message']['content']} | #1, #2 |" in text
    assert "| tool decision | `Bash` | accept | #1 | call id | 0 ms |" in text
    insight = [record for record in lines(run / "insight.jsonl") if record["record"] == "account"]
    assert insight[0]["account"]["matched"] == len(records) and insight[0]["account"]["findings"] == []


def test_a_record_taken_out_or_added_is_a_finding(tmp_path):
    telemetry = lines(FIXTURES / "claude-code" / "telemetry.jsonl")
    requests = [index for index, record in enumerate(telemetry) if record.get("name") == "api_request"]
    bypassed = json.loads(json.dumps(telemetry[requests[0]]))
    bypassed["attributes"]["request_id"] = "req_bypassed0000000000000000"
    bypassed["attributes"]["input_tokens"] = 7
    edited = [record for index, record in enumerate(telemetry) if index != requests[-1]] + [bypassed]
    run = run_folder(tmp_path, "claude-code", edited)
    text = section(run)
    assert "1 of 2 model exchanges matched" in text
    assert "- exchange #2 has no record in the account" in text
    assert (f"- api_request (line {len(edited)}, request id req_bypassed0000000000000000, model claude-opus-5-5) "
            "has no exchange: a request that bypassed the proxy?") in text  # fmt: skip
    _, rows = sql.query([run], "SELECT n, matched_by, agent_input_tokens FROM account ORDER BY n NULLS LAST")
    assert rows == [(1, "request id", 12435), (2, None, None), (None, None, 7 + 9859)]


def test_without_an_account_one_line_says_why(tmp_path):
    manifest = json.loads((FIXTURES / "codex" / "manifest.json").read_text())
    states = {
        "off": ({"state": "off", "why": "--agent-telemetry was not given"}, "switched off for this run"),
        "none": ({"state": "none", "why": "aider keeps none"}, "keeps no account of its own"),
        "older": (None, "No account of the agent's own was recorded"),
    }
    for name, (telemetry, words) in states.items():
        run = tmp_path / name / "codex" / "20261127-000000"
        run.mkdir(parents=True)
        shutil.copy(FIXTURES / "codex" / "traffic.jsonl", run / "traffic.jsonl")
        written = dict(manifest, account={"telemetry": telemetry}) if telemetry else dict(manifest, account=None)
        (run / "manifest.json").write_text(json.dumps(written))
        analyze_run(run)
        text = section(run)
        assert words in text and len([line for line in text.splitlines() if line]) == 2, text
        assert "### " not in text


def test_an_exchange_whose_records_are_gone_is_matched_by_time_no_more(tmp_path):
    """codex's records carry no request id: matched by session and time, the exchange left without its own records
    (the last request, and its completed response) is the one named, not an earlier one taken instead."""
    telemetry = lines(FIXTURES / "codex" / "telemetry.jsonl")
    names = [(record.get("attributes") or {}).get("event.name") for record in telemetry]
    last = {
        max(i for i, name in enumerate(names) if name == kind)
        for kind in ("codex.websocket_request", "codex.sse_event")
    }
    run = run_folder(tmp_path, "codex", [record for index, record in enumerate(telemetry) if index not in last])
    text = section(run)
    assert "2 of 3 model exchanges matched" in text and "- exchange #4 has no record in the account" in text
    assert "| `codex.sse_event` | 1 of 1 matched by session id and time ×1 |" in text


def test_a_garbage_or_hostile_account_is_read_around_and_shown_inert(tmp_path):
    payload = "<img src=x onerror=alert(1)>[x](javascript:alert(1))"
    telemetry = lines(FIXTURES / "claude-code" / "telemetry.jsonl")
    prompt = next(record for record in telemetry if record.get("name") == "user_prompt")
    prompt["attributes"] |= {"prompt": payload + "\n## heading", "prompt.id": payload}
    hostile = {"signal": "logs", "service": "claude-code", "name": "tool_decision", "time": 1e300,
               "attributes": {"tool_name": payload, "decision": "| x |", "tool_use_id": ["not", "text"],
                              "request_id": {"a": 1}, "duration_ms": "9" * 400}}  # fmt: skip
    run = run_folder(tmp_path, "claude-code", [*telemetry, hostile])
    with (run / "telemetry.jsonl").open("a") as file:
        file.write("not json\n[1, 2]\n" + "x" * (5 * 1024 * 1024) + "\n")
        file.write(json.dumps({"signal": "logs", "received": 1.0, "unreadable": payload, "size": 3}) + "\n")
        file.write(json.dumps({"signal": "logs", "service": payload, "name": "api_request", "attributes": {}}) + "\n")
    with prices_from(MOCK_PRICES):
        analyze_run(run)
    text = section(run)
    assert "2 of 2 model exchanges matched" in text  # what could be read still is
    assert (
        "Not read: 1 export(s) the receiver could not read, 3 line(s) of telemetry.jsonl that were no record, 1 "
        "record(s) of services no reader knows"
    ) in text
    assert "is longer than 4,194,304 bytes: skipped" in text
    # Rendered by a previewer that passes HTML through, nothing of it is markup: the payload is text or code.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<img" not in rendered and 'href="javascript' not in rendered and "<h2>heading" not in rendered
    assert md.inline(payload) in text  # the prompt's id, in a code span
    assert "&lt;img src=x onerror=alert(1)&gt;\\[x\\](javascript\\:alert(1)) ## heading" in text
    assert f"| tool decision | {md.inline(payload)} | \\| x \\| | none |" in text
    page = (run / "report.html").read_text()
    assert "The agent's own account" in page and "2 of 2 model exchanges matched" in page


def test_records_the_receiver_left_out_past_its_bounds_are_counted_not_read_as_events(tmp_path):
    telemetry = lines(FIXTURES / "claude-code" / "telemetry.jsonl")
    why = "1,990,000 records left out past the bound of 10,000 records per export: the first 10,000 were kept"
    note = {"signal": "logs", "received": 1.0, "encoding": "protobuf", "export": 9, "dropped": 1_990_000, "why": why}
    run = run_folder(tmp_path, "claude-code", [*telemetry, note])
    reading = AccountReading()
    assert len(list(read_account(run / "telemetry.jsonl", "claude-code", reading))) == len(
        list(read_account(FIXTURES / "claude-code" / "telemetry.jsonl", "claude-code", AccountReading()))
    )
    assert reading.dropped_records == 1_990_000 and reading.bad_lines == 0
    text = section(run)
    assert "2 of 2 model exchanges matched" in text
    assert "Not kept: 1,990,000 record(s) the receiver left out past its bounds." in text


def test_each_disagreement_is_flagged_and_sized(tmp_path):
    telemetry = lines(FIXTURES / "claude-code" / "telemetry.jsonl")
    first = next(record for record in telemetry if record.get("name") == "api_request")
    first["attributes"] |= {"cost_usd": 0.0412, "output_tokens": first["attributes"]["output_tokens"] + 3}
    run = run_folder(tmp_path, "claude-code", telemetry)
    text = section(run)
    assert "1 with counts that disagree" in text
    assert ("| the agent counted 43 output tokens; the API's usage says 40 (+3); the agent counted $0.041200; the "
            "API's usage prices to $0.060399 (-0.019199) |") in text  # fmt: skip
    _, rows = sql.query([run], "SELECT n, agent_cost_usd, cost_usd, disagreements FROM account ORDER BY n")
    n, agent, ours, count = rows[0]
    assert (n, float(agent), float(ours), count) == (1, 0.0412, 0.060399, 2) and rows[1][3] == 0


def test_a_prompt_id_on_the_wire_keeps_records_to_their_own_requests():
    """A Code Assist body names its prompt (`user_prompt_id`): two prompts' requests, close in time, each take the
    record of their own prompt, not the nearest one, and the key says so; a record of a third prompt takes none."""
    calls = [
        WireCall(1, 10.0, 10.5, None, "s", "prompt-a", None, "m", 5, 1, None, None, 500.0),
        WireCall(2, 10.2, 10.6, None, "s", "prompt-b", None, "m", 7, 2, None, None, 400.0),
    ]
    events = [
        AccountEvent(REQUEST, "gemini_cli.api_request", 1, 10.0, session="s", prompt="prompt-b"),
        AccountEvent(REQUEST, "gemini_cli.api_request", 2, 10.2, session="s", prompt="prompt-a"),
        AccountEvent(REQUEST, "gemini_cli.api_request", 3, 10.3, session="s", prompt="prompt-c"),
    ]
    found = {match.event.line: (match.call.number if match.call else None, match.key) for match in
             match_requests(events, calls)}  # fmt: skip
    assert found == {1: (2, "prompt id and time"), 2: (1, "prompt id and time"), 3: (None, None)}


def test_genai_spans_of_any_service_are_read_and_matched_by_response_id(tmp_path):
    """Copilot CLI's and opencode's spans follow OpenTelemetry's GenAI conventions: read whatever their service
    calls itself, a `chat` span is a model call with its tokens and duration, an `execute_tool` span a tool's."""
    spans = [
        {"signal": "traces", "service": "an-agent", "name": "chat gpt-5", "time": 10.0, "end": 10.25,
         "attributes": {"gen_ai.operation.name": "chat", "gen_ai.response.id": "resp_1", "gen_ai.usage.input_tokens": 5,
                        "gen_ai.usage.output_tokens": 1, "gen_ai.response.model": "gpt-5"}},
        {"signal": "traces", "service": "an-agent", "name": "execute_tool bash", "time": 10.3, "end": 10.4,
         "attributes": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "bash",
                        "gen_ai.tool.call.id": "call_1"}},
        {"signal": "traces", "service": "an-agent", "name": "no conventions", "time": 10.5, "attributes": {}},
    ]  # fmt: skip
    path = tmp_path / "telemetry.jsonl"
    path.write_text("".join(json.dumps(span) + "\n" for span in spans))
    reading = AccountReading()
    events = list(read_account(path, "", reading))
    assert [(event.kind, event.input_tokens, event.output_tokens, event.duration_ms) for event in events] == [
        ("model call", 5, 1, 250.0), ("tool result", None, None, 100.0)]  # fmt: skip
    assert reading.unknown_services == {"an-agent": 1}
    call = WireCall(1, 9.9, 10.2, None, None, None, "resp_1", "gpt-5", 5, 1, None, None, 300.0, ("call_1",))
    [match] = match_requests(events, [call])
    assert (match.call, match.key) == (call, "response id")


def test_ai_sdk_spans_and_qwens_response_id_are_read_as_their_services_send_them(tmp_path):
    """opencode 1.18.33's AI SDK spans: each provider call (`ai.streamText.doStream`) a model call matched by its
    response id, the outer `ai.streamText` that repeats its counts no call, `ai.toolCall` a tool's; Qwen Code
    0.24.4's api_response names its response as `response_id`."""
    records = [
        {"signal": "traces", "service": "opencode", "name": "ai.streamText", "time": 10.0, "end": 10.5,
         "attributes": {"ai.usage.inputTokens": 7, "ai.usage.outputTokens": 3, "session.id": "ses_1"}},
        {"signal": "traces", "service": "opencode", "name": "ai.streamText.doStream", "time": 10.0, "end": 10.5,
         "attributes": {"ai.response.id": "resp_1", "ai.usage.inputTokens": 7, "ai.usage.outputTokens": 3,
                        "ai.usage.inputTokenDetails.cacheReadTokens": 2, "ai.response.model": "gpt-5-mini",
                        "session.id": "ses_1"}},
        {"signal": "traces", "service": "opencode", "name": "ai.toolCall", "time": 10.6, "end": 10.7,
         "attributes": {"ai.toolCall.id": "call_1", "ai.toolCall.name": "bash", "session.id": "ses_1"}},
        {"signal": "traces", "service": "opencode", "name": "sql.execute", "time": 10.8, "attributes": {}},
        {"signal": "logs", "service": "qwen-code", "name": "qwen-code.api_response", "time": 11.0,
         "attributes": {"response_id": "chatcmpl-2", "input_token_count": 9, "output_token_count": 4}},
    ]  # fmt: skip
    path = tmp_path / "telemetry.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    events = list(read_account(path, "", AccountReading()))
    read = [(event.kind, event.name, event.response_id, event.input_tokens, event.output_tokens) for event in events]
    assert read == [
        ("model call", "ai.streamText.doStream", "resp_1", 7, 3), ("tool result", "ai.toolCall", None, None, None),
        ("model call", "qwen-code.api_response", "chatcmpl-2", 9, 4)]  # fmt: skip
    assert (events[0].session, events[0].cache_read_tokens, events[0].duration_ms) == ("ses_1", 2, 500.0)
    assert (events[1].call_id, events[1].tool) == ("call_1", "bash")
    calls = [WireCall(1, 9.9, 10.6, None, "ses_1", None, "resp_1", "gpt-5-mini", 7, 3, 2, None, 700.0, ("call_1",)),
             WireCall(2, 10.9, 11.2, None, None, None, "chatcmpl-2", "gpt-4.1", 9, 4, None, None, 300.0)]  # fmt: skip
    assert [(found.call.number, found.key) for found in match_requests(events, calls)] == [
        (1, "response id"), (2, "response id")]  # fmt: skip


def test_an_account_of_metrics_only_says_so_in_one_line(tmp_path):
    """Continue CLI 1.5.47 exports metrics only: the one finding names them, and says why nothing can be matched."""
    point = {"time": 10.0, "start": 9.0, "value": 2935, "attributes": {"type": "input"}}
    metrics = [{"signal": "metrics", "service": "continue-cli", "name": f"continue_cli_{name}", "points": [point]}
               for name in ("token_usage", "cost_usage", "session_count")]  # fmt: skip
    run = run_folder(tmp_path, "codex", metrics + [{"signal": "metrics", "service": "other", "points": []}])
    text = section(run)
    assert (
        "0 of 3 model exchanges matched to the agent's 4 records (0 read as events, 4 metric records); 1 unmatched"
        in text
    )
    found = [line for line in text.splitlines() if line.startswith("- ")]
    assert found == ["- the account holds only metrics (3 of continue-cli, 1 of other): totals of the run, no record "
                     "of each request, so none of its exchanges can be matched"]  # fmt: skip
