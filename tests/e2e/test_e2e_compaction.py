"""A real compaction, made against the mock by resuming the session's fresh run: Claude Code 2.1.330 told `/compact`,
codex 0.169.0 given an auto-compact limit its resumed history passes. The report's "Compactions" table puts each
beside its summarisation request, whose number is recomputed here from traffic.jsonl, with the tokens the agent
logged (read here from its raw telemetry and session file), and insight.jsonl and the SQL view say the same."""

import json
import re

import pytest
from conftest import FRESH_RUNS, pipeline_against_mock

from probe.analysis import sql

pytestmark = [pytest.mark.e2e, pytest.mark.slow, FRESH_RUNS]
# codex compacts before the turn when its last count passes the limit; the request after the compaction counts less
# than that (about 120 tokens, measured here: 17,002 before, 16,884 after), so the limit sits just below the count.
BELOW_LAST_COUNT = 50


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def model_requests(run) -> list[tuple[int, dict]]:
    """Each model exchange's number (as the report counts them, from 1 over traffic.jsonl) and its request body."""
    return [(number, entry["request"].get("body") or {})
            for number, entry in enumerate(lines(run / "traffic.jsonl"), start=1)]  # fmt: skip


def summarising_request(run, target: str) -> int:
    """The one request on the wire that asked for the summary: Claude Code's newest user message asks for a
    <summary> block; codex's input ends with a compaction_trigger item."""
    found = []
    for number, body in model_requests(run):
        if target == "claude-code" and body.get("messages"):
            newest = body["messages"][-1]
            found += [number] if "<summary>" in json.dumps(newest.get("content")) else []
        elif target == "codex" and body.get("input"):
            found += [number] if body["input"][-1].get("type") == "compaction_trigger" else []
    assert len(found) == 1, found
    return found[0]


def last_count(run) -> int:
    """The total tokens the API's last answer of a run counted (its response.completed usage)."""
    totals = re.findall(r'total_tokens\\*": (\d+)', (run / "traffic.jsonl").read_text())  # in the SSE text
    return int(totals[-1])


def logged(run, target: str) -> list[tuple[str, str, int | None, int | None]]:
    """What the agent logged of its compactions, from its raw files: (record, source, tokens before, after)."""
    found = []
    if (run / "telemetry.jsonl").exists():
        for record in lines(run / "telemetry.jsonl"):
            if record.get("name") == "compaction":
                fields = record["attributes"]
                found.append(("compaction", "telemetry.jsonl", int(fields["pre_tokens"]), int(fields["post_tokens"])))
    for line in lines(run / "transcript.jsonl"):
        record = line["record"]
        if record.get("subtype") == "compact_boundary":
            told = record["compactMetadata"]
            found.append(("compact_boundary", "transcript.jsonl", told["preTokens"], told["postTokens"]))
        elif record.get("type") == "compacted":
            found.append(("compacted", "transcript.jsonl", None, None))
    return found


@pytest.mark.parametrize("target", ["claude-code", "codex"])
def test_a_compaction_sits_beside_its_summarisation_request(target, fresh_pipelines, tmp_path, claude_program,
                                                            codex_program):  # fmt: skip
    earlier_result, earlier = fresh_pipelines[target]
    assert earlier_result.returncode == 0, earlier_result.stderr[-2000:]
    if target == "claude-code":
        result, run = pipeline_against_mock(target, claude_program, tmp_path, "/compact", "--port", "api=0",
                                            "--resume", str(earlier))  # fmt: skip
    else:
        limit = f"model_auto_compact_token_limit={last_count(earlier) - BELOW_LAST_COUNT}"
        result, run = pipeline_against_mock(target, codex_program, tmp_path, "now say it in French", "--port",
                                            "model=0", "--mock-transport", "http", "--resume", str(earlier),
                                            agent_args=("-c", limit))  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    number = summarising_request(run, target)
    expected = logged(run, target)
    # Claude Code logs it twice (its telemetry's compaction event, its session file's boundary); codex once.
    assert [name for name, *_ in expected] == {"claude-code": ["compaction", "compact_boundary"],
                                               "codex": ["compacted"]}[target]  # fmt: skip
    report = (run / "report.md").read_text()
    table = report[report.index("### Compactions") :].split("\n\n## ")[0]
    for name, source, before, after in expected:
        (row,) = [row for row in table.splitlines() if f"`{name}` ({source} line " in row]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[4] == f"#{number}", row
        assert cells[2] == ("not logged" if before is None else f"{before:,} → {after:,}"), row
        if target == "claude-code":
            assert cells[1] == "manual"
    records = [record for record in lines(run / "insight.jsonl") if record["record"] == "account_compaction"]
    assert sorted((r["name"], r["source"], r["tokens_before"], r["tokens_after"], r["number"]) for r in records) == (
        sorted((name, source, before, after, number) for name, source, before, after in expected)
    )
    _, rows = sql.query([run], "SELECT record, n, tokens_before, tokens_after, found_by FROM account_compactions")
    assert sorted(row[:4] for row in rows) == sorted((name, number, before, after)
                                                     for name, _, before, after in expected)  # fmt: skip
    # The same compaction against the model's window: found on the wire and in the account, its shares recomputed
    # from its tokens and window (a resumed run that compacts first has no turn before: the request is its own); the
    # report's summary counts it.
    agents = {record["id"]: record for record in lines(run / "insight.jsonl") if record["record"] == "agent"}
    (compaction,) = [each for agent in agents.values() for each in (agent["window"] or {}).get("compactions", [])]
    wire = {"claude-code": ["a request asking for a summary block"],
            "codex": ["a compaction_trigger item", "a compaction in the answer"]}[target]  # fmt: skip
    assert (compaction["request"], compaction["found_by"]) == (number, [*wire, "the agent's account"])
    assert compaction["trigger_turn"] <= number and compaction["share_before"] == round(
        compaction["tokens_before"] / compaction["window"], 4)  # fmt: skip
    if compaction["after_turn"] is not None:
        assert compaction["after_turn"] > number and compaction["tokens_after"] < compaction["tokens_before"]
    summary = next(line for line in report.splitlines() if line.startswith("- Window: "))
    assert f"compacted once at {compaction['share_before']:.1%}" in summary, summary
    # codex names the summarising response in its record: the exact key; Claude Code's own record of the request.
    assert {row[4] for row in rows} == {"claude-code": {"its summarisation request's record"},
                                        "codex": {"response id"}}[target]  # fmt: skip
