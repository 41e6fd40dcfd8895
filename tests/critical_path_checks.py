"""Checks a run's critical path against its own capture, read here without probe's readers: its steps, each the
stretch of the run it stands for, add up to the time from the capture's first model request to its last answer, and
the report's rounded figures add up to the totals it shows."""

import itertools
import re
from decimal import Decimal

import pytest

HEADER = re.compile(r"^Critical path: [\d,]+ intervals?, ([\d,.]+) s, the chain of intervals that set the end time: "
                    r"(.*)\.$", re.M)  # fmt: skip
WALL = re.compile(r"^Wall time ([\d,.]+) s, from the first request", re.M)
PART = re.compile(r"(?:^|, )[a-z -]+ ([\d,.]+) s \(\d+%\)")


def model_entries(target: str, traffic: list[dict]) -> dict[int, dict]:
    """The model calls of the capture by exchange number (its line in traffic.jsonl, from 1): Claude Code's
    Messages POSTs (count_tokens aside), codex's Responses requests over the WebSocket."""
    found = {}
    for number, entry in enumerate(traffic, 1):
        path = entry["request"]["path"].split("?")[0]
        if (target == "claude-code" and entry["request"]["method"] == "POST" and path.endswith("/v1/messages")) or (
            target == "codex" and entry["kind"] == "websocket" and path.endswith("/responses")
        ):
            found[number] = entry
    return found


def capture_wall(entries: dict[int, dict]) -> float:
    """Seconds from the first model request to the last answer, by the capture's own timestamps."""
    timings = [entry["timing"] for entry in entries.values()]
    return max(timing["end"] for timing in timings) - min(timing["start"] for timing in timings)


def assert_the_path_tiles_the_run(records: list[dict], wall: float) -> None:
    """The run record's critical path: each step's stretch starts where the one before ended, and they, and its time
    by part, add up to `wall` within a millisecond."""
    [run] = [record for record in records if record["record"] == "time" and record["agent"] is None]
    spans = {record["id"]: record for record in records if record["record"] == "span"}
    path = [spans[number] for number in run["critical_path"]]
    steps = run["critical_steps_s"]
    assert len(steps) == len(path) >= 2
    assert sum(steps) == pytest.approx(wall, abs=0.001)
    assert sum(run["critical_s"].values()) == pytest.approx(wall, abs=0.001)
    assert path[0]["start"] == pytest.approx(run["start"], abs=0.001)
    assert path[-1]["end"] == pytest.approx(run["end"], abs=0.001)
    for before, after in itertools.pairwise(path):  # one interval to the next, no moment skipped
        assert after["start"] <= before["end"] + 0.001, (before, after)


def seconds_shown(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def assert_the_reports_path_adds_up(report: str, wall: float) -> list[Decimal]:
    """The report's `## Time`: the critical path's total is the wall time as shown (`wall` rounded), and its parts
    and its steps' durations, as shown, add up to it. Returns the steps' durations."""
    section = report.split("\n## Time\n", 1)[1].split("\n## ", 1)[0]
    shown_wall = seconds_shown(WALL.search(section).group(1))
    unit = Decimal(1).scaleb(shown_wall.as_tuple().exponent)
    assert abs(shown_wall - Decimal(str(wall))) <= unit / 2 + Decimal("1e-9")
    header = HEADER.search(section)
    total = seconds_shown(header.group(1))
    parts = [seconds_shown(value) for value in PART.findall(header.group(2))]
    assert total == shown_wall and sum(parts) == total, header.group(0)
    table = section[header.end() :].strip().splitlines()
    assert table[0].startswith("| step |")
    cells = [line.split("|")[5].strip() for line in table[2:]]
    steps = [Decimal(0) if cell.startswith("<") else seconds_shown(cell.removesuffix(" s")) for cell in cells]
    assert sum(steps) == total, steps
    return steps
