"""Where the time went, as each output shows it from hand-written `span` and `time` records: the report's Time section
(parts adding up to each row's wall time as shown, the agents in tree order, the critical path and its ends, captured
names masked and inert), the summary line, the SQL views `spans` and `time`, and the diff's changes by part."""

import json
import re

import pytest
from time_records import KEY, records

from probe.analysis import sql
from probe.common import markdown as md
from probe.redact.secrets import mask_tokens_and_urls
from probe.write.diff_time import time_section as diff_section
from probe.write.summary_facts import plain, time_fact
from probe.write.time_parts import apportion
from probe.write.time_section import time_section

SECONDS = re.compile(r"([\d,]+\.\d) s")


def rendered(found: list[dict]) -> str:
    with md.masked_by(mask_tokens_and_urls):
        return "\n".join(time_section(found))


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The rows of the table whose header starts with `first_header`, split into cells."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip(" ") for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_each_row_s_parts_add_up_to_its_wall_time_as_shown_the_widest_part_first():
    text = rendered(records())
    assert "|  | wall | tools | model streaming | model waiting | sub-agents | agent itself | tools by tool |" in text
    rows = table_rows(text, "")
    assert [row[0] for row in rows] == ["**run**", "`main`", "\u00a0\u00a0└ `explore the repo`", "\u00a0\u00a0└ `plan`"]
    for row in rows:
        wall = float(SECONDS.match(row[1]).group(1))
        parts = [float(SECONDS.match(cell).group(1)) for cell in row[2:-1] if cell]
        assert abs(sum(parts) - wall) < 0.1 + 1e-9, row
        shares = [int(re.search(r"\((\d+)%\)", cell).group(1)) for cell in row[2:-1] if cell]
        assert sum(shares) == 100, row
    assert rows[0][:7] == ["**run**", "41.2 s", "20.1 s (49%)", "10.0 s (24%)", "6.0 s (14%)", "4.0 s (10%)",
                           "1.1 s (3%)"]  # fmt: skip
    assert rows[0][7] == "`Bash` 18.0 s, `Read` 2.1 s"
    # Three thirds of 5.0 s: 1.7 + 1.7 + 1.6, never 1.7 × 3 = 5.1.
    assert rows[3][1:7] == ["5.0 s", "", "1.7 s (34%)", "1.7 s (34%)", "", "1.6 s (32%)"]
    assert "No time went to: user." in text
    assert "each moment is counted once" in text


def test_the_critical_path_is_listed_with_its_time_by_part_and_a_long_one_by_its_ends():
    text = rendered(records(path_length=3))
    assert ("Critical path: 3 intervals, 3.0 s, the chain of intervals that set the end time: model streaming 1.3 s "
            "(44%), tools 1.0 s (33%), model waiting 0.7 s (23%).") in text  # fmt: skip
    assert table_rows(text, "step") == [
        ["1", "`main`", "model", "`claude-x`", "1.0 s", "#10"],
        ["2", "`main`", "tool", "`Bash`", "1.0 s", "#10, #11"],
        ["3", "`main`", "model (cache break)", "`claude-x`", "1.0 s", "#12"],
    ]
    long = table_rows(rendered(records(path_length=40)), "step")
    assert [row[0] for row in long] == ["1", "2", "3", "4", "5", "", "36", "37", "38", "39", "40"]
    assert long[5][1:5] == ["… 30 more", "", "", "30.0 s"]
    assert long[-1][2:] == ["tool (open)", "`Bash`", "1.0 s", "#48, #49"]


def test_the_critical_paths_rounded_steps_add_up_to_the_wall_time_shown():
    """A run of 1.0 s (shown in hundredths) whose path is three steps of a third of a second each: they show as
    0.34 + 0.33 + 0.33, never 0.33 × 3, and the path's total is the wall time."""
    found = records(path_length=3)
    run = found[-1]
    parts = {"model_waiting": 0.2, "model_streaming": 0.5, "tools": 0.3, "sub_agents": 0.0, "agent": 0.0}
    path = {"model_waiting": 1 / 6, "model_streaming": 0.5, "tools": 1 / 3}
    run.update(wall_s=1.0, end=run["start"] + 1.0, parts=run["parts"] | parts, critical_steps_s=[1 / 3] * 3,
               critical_s=run["critical_s"] | path)  # fmt: skip
    text = rendered(found)
    assert "Wall time 1.00 s, from the first request" in text
    assert ("Critical path: 3 intervals, 1.00 s, the chain of intervals that set the end time: model streaming "
            "0.50 s (50%), tools 0.33 s (33%), model waiting 0.17 s (17%).") in text  # fmt: skip
    assert [row[4] for row in table_rows(text, "step")] == ["0.34 s", "0.33 s", "0.33 s"]


def test_a_part_too_short_for_the_unit_shows_as_under_one_not_as_nothing():
    """The mock answers within milliseconds: a 2.35 s run shows hundredths, its 20 ms of model waiting as 0.02 s;
    in a 41.2 s run (tenths) 30 ms shows as under 0.1 s."""
    found = records()
    run = found[-1]
    run.update(wall_s=2.35, parts={**run["parts"], "model_waiting": 0.02, "model_streaming": 0.4, "tools": 0.0,
                                   "sub_agents": 1.93, "agent": 0.0})  # fmt: skip
    [row] = [row for row in table_rows(rendered(found), "") if row[0] == "**run**"]
    assert row[:5] == ["**run**", "2.35 s", "1.93 s (82%)", "0.40 s (17%)", "0.02 s (1%)"]
    run.update(wall_s=41.2, parts={**run["parts"], "model_waiting": 0.03, "model_streaming": 39.27})
    [row] = [row for row in table_rows(rendered(found), "") if row[0] == "**run**"]
    assert row[:5] == ["**run**", "41.2 s", "39.3 s (95%)", "1.9 s (5%)", "< 0.1 s"]


def test_captured_names_are_masked_and_inert():
    hostile = "Ba`sh</td><script>x</script>|[a](javascript:b) " + KEY
    text = rendered(records(path_length=2, tool=hostile, sub_agent="explore\n## Injected " + KEY))
    assert KEY not in text and "<script>" not in text and "\n## Injected" not in text
    assert text.count("[REDACTED sha256:") >= 4
    for row in table_rows(text, "step") + table_rows(text, ""):
        assert all("|" not in cell.replace("\\|", "") for cell in row)  # no cell split by a captured pipe
    assert "``Ba`sh<\u200b/td><\u200bscript>x<\u200b/script>\\|[a](javascript:b) [REDACTED sha256:" in text


def test_a_run_without_timed_exchanges_says_so_in_one_line():
    assert time_section([]) == ["", "## Time", "", "No exchange was timed: there is no time to split."]
    without_spans = [record for record in records() if record["record"] == "time"]
    assert time_section(without_spans)[-1] == "No exchange was timed: there is no time to split."
    assert time_fact([]) == ("Time", ["no exchange was timed"])


def test_the_summary_line_gives_the_shares_the_widest_first():
    label, pieces = time_fact(records())
    assert (label, plain(pieces)) == (
        "Time",
        "41.2 s: tools 49%, model streaming 24%, model waiting 14%, sub-agents 10%, agent itself 3%; critical path 3 "
        "intervals",
    )


def test_apportioned_tenths_add_up_to_the_total():
    assert apportion([10 / 3] * 3, 10.0, 0.1) == [34, 33, 33]
    assert apportion([0.04, 0.04, 0.04], 0.12, 0.1) == [1, 0, 0]
    assert apportion([1.0, 5.0], 2.0, 0.1) == [10, 50]  # (not parts of that total: each rounded)


@pytest.fixture
def time_run(tmp_path):
    run = tmp_path / "data" / "claude-code" / "20260101-000000-time"
    run.mkdir(parents=True)
    manifest = {"schema": 1, "target": "claude-code", "status": "complete", "started_at": "2026-01-01T00:00:00+0000"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    agents = [{"record": "agent", "schema": 1, "id": "a-main", "name": "main"},
              {"record": "agent", "schema": 1, "id": "a-explore", "name": "explore the repo"}]  # fmt: skip
    (run / "insight.jsonl").write_text("".join(json.dumps(record) + "\n" for record in agents + records()))
    return run


def test_the_sql_views_type_the_spans_and_the_time(time_run):
    # The run's path in three steps, each the stretch of the run it stands for (as the time model writes them).
    insight = [json.loads(line) for line in (time_run / "insight.jsonl").read_text().splitlines()]
    for record in insight:
        if record["record"] == "time" and record["agent"] is None:
            record["critical_steps_s"] = [39.2, 1.0, 1.0]
    (time_run / "insight.jsonl").write_text("".join(json.dumps(record) + "\n" for record in insight))
    columns, rows = sql.query(
        [time_run],
        "SELECT span, agent_name, kind, name, duration_ms, waiting_ms, streaming_ms, exchanges, child_name, "
        "input_tokens, cost_usd, cache_break, open, critical, epoch_ms(ended) - epoch_ms(started) AS lasted "
        "FROM spans ORDER BY span",
    )
    found = [dict(zip(columns, row)) for row in rows]
    assert [row["span"] for row in found] == [1, 2, 3, 4, 5]
    assert found[0]["kind"] == "sub_agent"
    assert (found[0]["child_name"], found[0]["exchanges"], found[0]["lasted"]) == ("explore the repo", [1, 9], 6000)
    model = found[1]
    assert (model["agent_name"], model["name"], model["exchanges"], model["input_tokens"]) == ("main", "claude-x",
                                                                                               [10], 10)  # fmt: skip
    assert model["waiting_ms"] == pytest.approx(1000 / 3, abs=0.01)
    assert model["waiting_ms"] + model["streaming_ms"] == pytest.approx(model["duration_ms"], abs=0.01)
    assert str(model["cost_usd"]) == "0.00100000" and model["critical"] is True
    assert (found[2]["kind"], found[2]["waiting_ms"], found[3]["cache_break"]) == ("tool", None, True)
    assert [row["cache_break"] for row in found] == [False, False, False, True, False]

    columns, rows = sql.query(
        [time_run],
        "SELECT name, depth, wall_s, model_waiting_s + model_streaming_s + tools_s + sub_agents_s + user_s + agent_s "
        "AS parts_s, tools, critical_path, critical_s['tools'] AS critical_tools_s, typeof(started) AS started_type, "
        "list_sum(critical_steps_s) AS steps_s, len(critical_steps_s) AS steps FROM time ORDER BY agent NULLS FIRST",
    )
    found = {row[0]: dict(zip(columns, row)) for row in rows}
    assert set(found) == {"run", "main", "explore the repo", "plan"}
    for row in found.values():
        assert row["parts_s"] == pytest.approx(row["wall_s"]) and row["started_type"] == "TIMESTAMP"
    assert found["run"]["tools"] == {"Bash": 18.0, "Read": 2.1}
    assert (found["run"]["critical_path"], found["run"]["critical_tools_s"]) == ([2, 3, 4], 1.0)
    # The path's steps, each the stretch of the run it stands for, tile the run.
    assert found["run"]["steps"] == 3 and found["run"]["steps_s"] == pytest.approx(found["run"]["wall_s"], abs=1e-5)
    assert (found["main"]["critical_path"], found["explore the repo"]["depth"]) == (None, 1)


def changed(found: list[dict], name: str, **seconds: float) -> list[dict]:
    """The records with the `time` record named `name` given more (or less) time, by part or by tool."""
    for record in found:
        if record["record"] == "time" and record["name"] == name:
            for key, value in seconds.items():
                where = record["tools"] if key[0].isupper() else record["parts"]
                where[key] = where.get(key, 0.0) + value
                if not key[0].isupper():
                    record["wall_s"] += value
    return found


def test_the_diff_names_the_largest_time_changes_by_part_and_by_agent():
    a = records()
    b = changed(records(), "run", tools=41.0, model_waiting=-3.1, Bash=38.2, Read=2.8)
    b = changed(b, "main", tools=41.0, model_waiting=-3.1, Bash=38.2, Read=2.8)
    b = changed(b, "plan", agent=0.5)
    assert diff_section(a, b) == [
        "## Time",
        "",
        "Wall time: A 41.2 s, B 79.1 s (+37.9 s). The largest changes by part, from A to B:",
        "",
        "- tools +41.0 s, mostly `Bash` (+38.2 s)",
        "- model waiting \u22123.1 s",
        "",
        "By agent, where both runs have an agent of that name:",
        "",
        "- `main`: tools +41.0 s, mostly `Bash` (+38.2 s); model waiting \u22123.1 s",
        "- `plan`: agent itself +0.5 s",
        "",
    ]
    spread = changed(records(), "run", tools=10.0, Bash=3.0, Read=3.5, Grep=3.5)
    assert "- tools +10.0 s, of which `Read` +3.5 s" in diff_section(a, spread)
    assert diff_section(a, records()) == []


def test_a_diff_of_a_run_without_time_records_says_so_in_one_line():
    older = [record for record in records() if record["record"] not in ("span", "time")]
    assert diff_section(records(), older)[2] == (
        "Time is not compared: run B has no timed exchange in its insight (an older analysis, or no exchange with its "
        "times)."
    )
    assert "runs A and B have no timed exchange" in diff_section(None, [])[2]
