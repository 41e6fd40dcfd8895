"""Checks of the agent's own account on an end-to-end run against the mock: its model-call records in
telemetry.jsonl beside the wire's usage, the manifest's `account.telemetry` (every export with the run's token),
the report's section (every exchange matched, and by which key), and no secret of the corpus nor the run's key in
telemetry.jsonl."""

import json
import re
from pathlib import Path

from secret_corpus import CORPUS

from probe.read.sse import parse


def telemetry(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines()]


def wire_usage(entry: dict) -> tuple[int, int]:
    """The input and output tokens the API's usage says: a Chat Completions stream's last chunk with usage, or a
    Responses stream's response.completed."""
    found = None
    for event in parse(entry["response"]["body"]):
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("usage"):
            found = (data["usage"]["prompt_tokens"], data["usage"]["completion_tokens"])
        elif data.get("type") == "response.completed":
            found = (data["response"]["usage"]["input_tokens"], data["response"]["usage"]["output_tokens"])
    assert found is not None, entry["request"]["path"]
    return found


def section(run: Path) -> str:
    report = (run / "report.md").read_text()
    return report[report.index("## The agent's own account") : report.index("## Endpoints")]


def assert_account_kept(run: Path, key: str) -> dict:
    """The manifest's account.telemetry: on, at a receiver of this machine, counting telemetry.jsonl's records, no
    override (the test's environment sets none); neither a secret of the corpus nor the run's `key` in the file."""
    said = json.loads((run / "manifest.json").read_text())["account"]["telemetry"]
    records = telemetry(run)
    assert said["state"] == "on" and said["endpoint"].startswith("http://127.0.0.1:") and said["overrides"] == []
    assert said["records"] == len(records) > 0 and said["exports"] >= 1
    assert (said["dropped"], said["refused"]) == (0, 0)  # every export came with the run's token, and whole
    assert not [record for record in records if "unreadable" in record]
    text = (run / "telemetry.jsonl").read_text()
    assert key not in text and not [secret for _, _, secret in CORPUS if secret in text]
    return said


def assert_model_calls_joined(
    run: Path, entries: list[dict], name: str, counts: tuple[str, str], key: str, last_may_be_lost: bool = False
) -> str:
    """Each model exchange has the agent's `name` record whose `counts` attributes (input, output) equal the API's
    usage, and the report matches all of them by `key`, their counts agreeing; returns the report's section. With
    `last_may_be_lost`, the last exchange's record may be missing (an agent that exits before its last export), and
    the report then names that exchange, and only it, as one with no record."""
    records = [record for record in telemetry(run) if record.get("name") == name]
    logged = sorted((int(record["attributes"][counts[0]]), int(record["attributes"][counts[1]])) for record in records)
    wire = [wire_usage(entry) for entry in entries]
    text, count, matched = section(run), len(entries), len(records)
    if matched < count and last_may_be_lost:
        assert matched == count - 1 and f"- exchange #{count} has no record in the account" in text
        wire = wire[:-1]
    else:
        assert "Every record of a request matched an exchange, and every exchange a record." in text
    assert logged == sorted(wire)
    assert f"{matched} of {count} model exchanges matched" in text and "; 0 with counts that disagree" in text
    assert f"| `{name}` | {matched} of {matched} matched by {key} ×{matched} |" in text
    rows = [line for line in text.splitlines() if line.startswith("| #")]
    for agent_input, agent_output in logged:  # input (all) first, output after the cache's columns: each agreeing
        shown = rf"^\| #\d+ \|.*?\| {agent_input:,} / {agent_input:,} \|.*\| {agent_output:,} / {agent_output:,} \|"
        assert any(re.search(shown, row) for row in rows), (agent_input, agent_output, rows)
    return text
