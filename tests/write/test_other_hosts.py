"""Traffic with other hosts (the forward proxy's): never a turn unless a reader recognises a model call, each host
shown with its kind, requests, bytes, errors and decoded telemetry events in report.md and insight.jsonl, every
exchange in the SQL view `requests`, hosts that appear or vanish in the diff, and no token left unmasked."""

import base64
import json
import re

import pytest
from secret_oracles import leaks, scanners_findings, shown
from side_traffic import (
    EVENT_TOKEN,
    FORWARD,
    HOSTILE_EVENT,
    HOSTILE_HOST,
    MASKED,
    RAW_TOKEN,
    side,
    side_lines,
    side_run,
)

from probe.analyse.hosts.events import EVENTS_PER_EXCHANGE
from probe.analyse.hosts.totals import KEPT_PER_HOST, OtherHosts
from probe.analysis.report import analyze_run
from probe.analysis.sql import connect
from probe.read.traffic import from_entry
from probe.write.diff import diff_runs

OUTPUTS = ("report.md", "report.html", "turns.jsonl", "insight.jsonl")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = side_run(tmp_path_factory.mktemp("data") / "codex" / "20261126-100000-side")
    _, warnings = analyze_run(folder)
    assert warnings == []
    return folder


def records(run, kind: str) -> list[dict]:
    lines = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    return [line for line in lines if line["record"] == kind]


def section(run) -> str:
    report = (run / "report.md").read_text()
    return report[report.index("\n## Other hosts\n") : report.index("\n## Endpoints\n")]


def test_only_model_calls_are_turns_the_forward_proxys_one_included(run):
    turns = [json.loads(line) for line in (run / "turns.jsonl").read_text().splitlines()]
    assert [(turn["number"], turn["proxy"], turn["api"]) for turn in turns] == [
        (1, "model", "openai.responses"), (15, FORWARD, "openai.responses")]  # fmt: skip
    report = (run / "report.md").read_text()
    assert "- Totals: 2 exchanges (2 HTTP, 0 WebSocket)" in report
    assert "### #15 POST `/v1/responses` → 200" in report and "### #2 " not in report


def test_the_report_lists_each_host_with_its_kind_requests_bytes_errors_and_events(run):
    shown = section(run)
    assert "13 requests to 12 hosts besides the model API's" in shown
    rows = {
        "`statsig.anthropic.com` | telemetry | 1 | POST ×1 | 180 | 16 | 0 | 3",
        "`us.i.posthog.com` | telemetry | 1 | POST ×1 |",
        "`otel.example.com` | telemetry | 2 | POST ×2 |",
        "`o1.ingest.sentry.io` | telemetry | 1 | POST ×1 |",
        "`registry.npmjs.org` | update-check | 1 | GET ×1 | 0 | 28 | 0 | 0",
        "`auth.openai.com` | oauth | 1 | POST ×1 |",
        "`mcp.example.com` | mcp | 1 | POST ×1 |",
        "`example.org` | web-fetch | 1 | GET ×1 | 0 | 15 |",
        "`pinned.example.com` | unknown | 1 | CONNECT ×1 | 0 | 0 | 1 | 0",
        "`127.0.0.9` | unknown | 1 | CONNECT ×1 | 0 | 0 | 1 | 0",
        "`offline.example.net` | unknown | 1 | POST ×1 | 7 | 0 | 1 | 0",
    }
    for row in rows:
        assert f"| {row}" in shown, row
    assert "- Error ×1: `tls: the client refused the run's certificate for pinned.example.com`" in shown
    assert "- Error ×1: `refused: CONNECT to 127.0.0.9:8080, a loopback address outside the run's proxies`" in shown
    assert "- Error ×1: `connect: offline.example.net: Name or service not known`" in shown
    assert "- Events: `tengu_init` ×2, `tengu_exit` ×1" in shown
    # What was asked of each host, by method and path (its query left out).
    assert "- Requests: `POST /v1/logs` ×1, `POST /v1/traces` ×1" in shown
    assert "- Requests: `GET /@anthropic-ai%2fclaude-code` ×1" in shown
    assert "- Events: `event: TypeError` ×1, `session` ×1" in shown


def test_telemetry_is_decoded_into_named_events_in_every_format(run):
    events = {record["host"]: record["events"] for record in records(run, "host") if record["events"]}
    assert events["statsig.anthropic.com"] == {"tengu_init": 2, "tengu_exit": 1}
    # OTLP logs in protobuf (named by their event_name field or event.name attribute) and traces in JSON.
    assert events["otel.example.com"] == {"claude_code.api_request": 1, "claude_code.tool_result": 2,
                                          "agent.turn": 1, "tool.call": 1}  # fmt: skip
    assert events["o1.ingest.sentry.io"] == {"event: TypeError": 1, "session": 1}
    posthog = events["us.i.posthog.com"]
    assert posthog["task_started"] == 1 and posthog[HOSTILE_EVENT] == 1
    [leaked] = [name for name in posthog if name.startswith("leaked ")]
    assert re.fullmatch(r"leaked \[REDACTED sha256:[0-9a-f]{8}\]", leaked)  # the token in a name, masked


def test_hostile_host_and_event_names_are_inert_in_the_report(run):
    shown = section(run)
    assert HOSTILE_HOST not in shown and HOSTILE_EVENT not in shown  # as code spans, their tags broken
    assert "`<\u200bimg src=x onerror=alert(1)>.evil`" in shown
    assert "<\u200bscript>alert('event')<\u200b/script>" in shown


def test_no_token_is_left_unmasked_in_any_output(run):
    for name in OUTPUTS:
        text = (run / name).read_text()
        assert RAW_TOKEN not in text and EVENT_TOKEN not in text, name
    # What the capture masked stays masked as it was: its fingerprint is the same wherever it shows.
    traffic = (run / "traffic.jsonl").read_text()
    assert MASKED in traffic and "sha256:1a2b3c4d" not in section(run)


def test_the_secret_scanners_find_no_token_of_the_side_traffic_in_the_outputs(run, tmp_path):
    secrets = [RAW_TOKEN, EVENT_TOKEN]
    capture = run / "traffic.jsonl"  # (made as --keep-secrets would: the scanners see its tokens)
    outputs = [path for path in run.rglob("*") if path.is_file() and path.name != "traffic.jsonl"]
    assert {path.name for path in outputs} >= set(OUTPUTS)
    found = scanners_findings([capture, *outputs], tmp_path)  # the scanners started once for all
    assert leaks([finding for finding in found if finding[1] == shown(capture)], secrets)
    assert leaks([finding for finding in found if finding[1] != shown(capture)], secrets) == []


def test_the_requests_view_lists_every_exchange_of_every_proxy(run):
    connection = connect([run])
    rows = connection.execute(
        "SELECT n, proxy, host, method, status, kind, bytes_sent, bytes_received, error, events FROM requests "
        "ORDER BY n"
    ).fetchall()
    assert len(rows) == 15
    assert rows[0] == (1, "model", None, "POST", 200, "model-api", 75, 372, None, 0)
    assert rows[1] == (2, FORWARD, "statsig.anthropic.com", "POST", 200, "telemetry", 180, 16, None, 3)
    assert rows[10][:6] == (11, FORWARD, "pinned.example.com", "CONNECT", None, "unknown")
    assert rows[10][8].startswith("tls: ")
    assert rows[11][4:6] == (403, "unknown") and rows[11][8].startswith("refused: ")
    assert rows[14] == (15, FORWARD, "api.openai.com", "POST", 200, "model-api", 75, 372, None, 0)
    kinds = connection.execute("SELECT kind, count(*) FROM requests GROUP BY kind ORDER BY kind").fetchall()
    assert kinds == [("mcp", 1), ("model-api", 2), ("oauth", 1), ("telemetry", 5), ("unknown", 4),
                     ("update-check", 1), ("web-fetch", 1)]  # fmt: skip


def test_the_diff_names_hosts_that_appear_or_vanish(run, tmp_path):
    lines = [line for line in side_lines() if "statsig" not in line["request"]["url"]]
    lines += [side("GET", "https://pypi.org/pypi/aider-chat/json"), side("POST", "https://o1.ingest.sentry.io/x", {})]
    other = side_run(tmp_path / "codex" / "20261126-100100-side", lines)
    text, warnings = diff_runs(run, other)
    assert warnings == []
    hosts = text[text.index("## Other hosts") :].split("\n\n")[1]
    assert hosts.splitlines() == [
        "- Only in A: `statsig.anthropic.com` (telemetry, 1 request)",
        "- Only in B: `pypi.org` (update-check, 1 request)",
        "- `o1.ingest.sentry.io`: telemetry, requests 1 → 2",
    ]
    assert "- Structural changes: other hosts" in text
    same, _ = diff_runs(run, run)
    assert "Other hosts" not in same


def test_events_are_bounded_and_an_unreadable_body_is_a_note():
    names = [{"eventName": f"e{index % (KEPT_PER_HOST + 50)}"} for index in range(EVENTS_PER_EXCHANGE + 100)]
    batch = from_entry(side("POST", "https://statsig.anthropic.com/v1/rgstr", {"events": names}), 1, 1)
    broken = side("POST", "https://otel.example.com/v1/traces", request_headers=[["content-type", "x/proto"]])
    broken["request"] |= {"body": base64.b64encode(b"\xff\xff\xff not protobuf").decode(), "body_format": "base64"}
    hosts = OtherHosts()
    assert hosts.add(batch)["event_count"] == EVENTS_PER_EXCHANGE
    hosts.add(from_entry(broken, 2, 2))
    statsig, otel = hosts.hosts.values()
    assert len(statsig.events) == KEPT_PER_HOST and sum(statsig.events.values()) + statsig.events_more == 600
    assert otel.notes == ["exchange #2: otlp body not readable (ValueError)"] and not otel.events


def test_an_analysis_that_goes_on_from_the_last_one_counts_the_hosts_as_a_fresh_one(tmp_path):
    lines = side_lines()
    grown = side_run(tmp_path / "codex" / "20261126-100200-side", lines[:8])
    analyze_run(grown)  # its reading is kept in .analysis/, and the next analysis reads only the lines added
    with (grown / "traffic.jsonl").open("a") as traffic:
        late = side("POST", "https://statsig.anthropic.com/v1/rgstr", {"events": [{"eventName": "late"}]})
        traffic.writelines(json.dumps(line) + "\n" for line in [*lines[8:], late])
    analyze_run(grown)
    fresh = tmp_path / "codex" / "20261126-100300-side"
    fresh.mkdir()
    for name in ("traffic.jsonl", "manifest.json"):
        (fresh / name).write_bytes((grown / name).read_bytes())
    analyze_run(fresh)
    assert (grown / "insight.jsonl").read_text() == (fresh / "insight.jsonl").read_text()
    assert section(grown) == section(fresh) and "- Events: `tengu_init` ×2, `tengu_exit` ×1, `late` ×1" in section(
        grown
    )
