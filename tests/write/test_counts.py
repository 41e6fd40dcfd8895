"""A count and its noun agree in every output: "1 exchange", "2 exchanges" (probe.common.counting)."""

import json
import re
from pathlib import Path

from conftest import PROJECT_ROOT, captured_exchange

from probe.analysis.analyze import main as analyze_main
from probe.common.counting import counted
from probe.common.errors import run_main

# Nouns the outputs count. A count written straight before one of them, in the source, must go through counted():
# a value of one would otherwise read "1 exchanges".
NOUNS = (
    "exchanges|requests|turns|entries|messages|warnings|secrets|files|calls|hosts|values|kinds|frames|items|lines|"
    "events|chunks|sessions|bodies|results|answers|agents|sub-agents"
)
COUNT_BEFORE_NOUN = re.compile(
    r"\{(?P<expression>[^{}]*)\}\s(?:more\s|history\s|input\s|WebSocket\s)?(?:" + NOUNS + r")\b"
)
CONSTANT = re.compile(r"^[A-Z_][A-Z0-9_]*(?::,)?$")  # a limit the code fixes, never one
SSE = (
    'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed",'
    '"usage":{"input_tokens":100,"output_tokens":5,"total_tokens":105}}}\n\n'
)


def test_counted_says_one_in_the_singular_and_every_other_count_in_the_plural():
    assert [counted(n, "exchange") for n in (0, 1, 2, 1204)] == [
        "0 exchanges", "1 exchange", "2 exchanges", "1,204 exchanges"
    ]  # fmt: skip
    assert counted(1, "entry", "entries") == "1 entry" and counted(3, "entry", "entries") == "3 entries"


def test_no_output_writes_a_count_before_a_plural_noun_without_counting_it():
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT_ROOT / "probe").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in COUNT_BEFORE_NOUN.finditer(line)
        if not CONSTANT.match(match["expression"].strip())
    ]
    assert found == []


def test_a_run_of_one_exchange_and_one_message_says_so_in_the_singular(tmp_path):
    http = captured_exchange("/v1/responses", {"model": "gpt-x", "input": "hi"}, SSE)
    for name, lines in (("one", [http]), ("two", [http, http | {"id": "f2"}])):
        traffic = tmp_path / name / "traffic.jsonl"
        traffic.parent.mkdir()
        traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
        output = traffic.parent / "report.md"
        assert run_main(analyze_main, ["--input", str(traffic), "--output", str(output), "--target", "codex"]) == 0
    one, two = (tmp_path / name / "report.md" for name in ("one", "two"))
    assert "- Totals: 1 exchange (1 HTTP, 0 WebSocket), 0 WebSocket messages" in one.read_text()
    assert "- Totals: 2 exchanges (2 HTTP, 0 WebSocket)" in two.read_text()
    assert "1 exchange (1 HTTP" in Path(one.with_suffix(".html")).read_text()
    assert not re.search(r"(?<![\d,.])1 (?:exchanges|WebSocket messages|turns|requests)\b", one.read_text())
