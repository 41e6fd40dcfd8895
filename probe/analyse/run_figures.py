"""One run's figures for `invoke compare` and the viewer's Compare view: its turns, tokens, cost, wall time, tools
called, verify result and origin, from the lines of its turns.jsonl (or the records its writer holds) and the records
of its insight.jsonl."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probe.common import fastjson

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")
# What a request sends the model, as turns.jsonl holds it: the listed fields name values of the file's table.
SENT_LISTS = ("system", "tools", "input")
# Numbers a run's lines may name in all, read one by one to fingerprint its requests: a session of 1,000 turns
# re-sending 1,000 items names a million. Past this, later requests are fingerprinted by their scalar fields alone.
NAMED_LIMIT = 50_000_000


@dataclass
class RunFigures:
    """What compares runs side by side. A count no turn reported stays None: absent, not zero."""

    run: str  # <target>/<run folder name>
    manifest: dict = field(default_factory=dict)
    turns: int = 0
    usage_turns: int = 0  # turns that reported any usage
    tokens: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(TOKEN_KINDS))
    token_turns: Counter = field(default_factory=Counter)
    models: Counter = field(default_factory=Counter)
    cost: dict | None = None  # insight's run cost: usd, priced_turns, unknown_turns
    wall_s: float | None = None  # the run's time record; None where insight.jsonl has none
    tools: dict[str, int] = field(default_factory=dict)  # tool -> calls
    analysed: bool = True  # whether its insight.jsonl was there to read
    prints: list[tuple[int, bytes]] = field(default_factory=list)
    prints_cut: bool = False  # whether its lines named more than NAMED_LIMIT numbers, the rest left out

    @property
    def origin(self) -> dict | None:
        origin = self.manifest.get("origin")
        return origin if isinstance(origin, dict) else None

    @property
    def verify(self) -> dict | None:
        """The fork's check: in its origin (as a fork writes it), or beside it."""
        verify = (self.origin or {}).get("verify", self.manifest.get("verify"))
        return verify if isinstance(verify, dict) else None


@dataclass
class Difference:
    """Where a run first sent a request the origin did not: its number, or None and why not."""

    number: int | None
    note: str


class FiguresReader:
    """Gathers one run's figures from its turns, fed in order, and its insight records; `requests` takes each turn's
    request (probe.analyse.request_prints.RequestPrints)."""

    def __init__(self, run: str, manifest: dict | None, requests: Any) -> None:
        self.figures = RunFigures(run, manifest if isinstance(manifest, dict) else {})
        self.requests = requests
        self.named = 0  # numbers its lines have named so far

    def turn(self, line: dict, new: tuple[int, list] | None, listed: dict[str, list], numbered: bool = True) -> None:
        """One turn: `line` its fields, `new` the values it adds to turns.jsonl's table (first number, values),
        `listed` its sent lists as numbers of that table (else, not `numbered`, as their values)."""
        figures = self.figures
        figures.turns += 1
        if isinstance(line.get("model"), str):
            figures.models[line["model"]] += 1
        usage = line.get("usage")
        if isinstance(usage, dict):
            figures.usage_turns += 1
            for kind in TOKEN_KINDS:
                count = usage.get(kind)
                if isinstance(count, int) and not isinstance(count, bool):
                    figures.tokens[kind] = (figures.tokens[kind] or 0) + count
                    figures.token_turns[kind] += 1
        if new is not None and isinstance(new[1], list):
            self.requests.define(*new)
        self.requests.add(line, listed, numbered)

    def line(self, record: dict) -> None:
        """One parsed line of turns.jsonl, of either schema (schema 1 holds its lists' values inline)."""
        if record.get("schema") != 2:
            self.turn(record, None, {name: record.get(name) or [] for name in SENT_LISTS}, numbered=False)
            return
        new = record.get("new")
        defined = (new["from"], new["values"]) if isinstance(new, dict) and isinstance(new.get("from"), int) else None
        if defined is not None:  # (defined first: a line's lists may name the values it adds)
            self.requests.define(*defined)
        listed = {name: expanded(record.get(name), self.requests.stop) for name in SENT_LISTS}
        self.named += sum(map(len, listed.values()))
        if self.named > NAMED_LIMIT:  # (a hand-made file naming its whole table on each of many lines)
            listed = {name: [] for name in SENT_LISTS}
            self.figures.prints_cut = True
        self.turn(record, None, listed)

    def record(self, record: dict) -> None:
        """One record of insight.jsonl: the run's (cost, tools) and its time (wall time)."""
        figures = self.figures
        if record.get("record") == "run":
            figures.cost = record.get("cost") if isinstance(record.get("cost"), dict) else None
            tools = record.get("tools") if isinstance(record.get("tools"), dict) else {}
            figures.tools = {
                str(name): facts["calls"] for name, facts in tools.items()
                if isinstance(facts, dict) and isinstance(facts.get("calls"), int)
            }  # fmt: skip
        elif record.get("record") == "time" and record.get("agent") is None:
            wall = record.get("wall_s")
            figures.wall_s = float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else None

    def finish(self) -> RunFigures:
        self.figures.prints = self.requests.prints
        return self.figures


def expanded(runs: Any, stop: int) -> list[int]:
    """A listed field's runs [first, count] as the numbers they name, within those the table defines (below `stop`):
    a hand-made line's run of 3,000,000,000 names no more than the table holds."""
    if not isinstance(runs, list):
        return []
    numbers: list[int] = []
    for run in runs:
        if isinstance(run, list) and len(run) == 2 and all(type(part) is int for part in run):
            numbers.extend(range(max(run[0], 0), min(run[0] + max(run[1], 0), stop)))
    return numbers


def record_parts(record: dict) -> tuple[dict, tuple[int, list] | None, dict[str, list[int]]]:
    """A turn's record as turns.jsonl's writer holds it (probe.read.turn_lines: its lists as `Listed`, with their
    `numbers`, the values it adds as `NewValues`, `first` and encoded `texts`) as FiguresReader.turn takes it."""
    new = record.get("new")
    texts = getattr(new, "texts", None)
    defined = (new.first, [parsed(text) for text in texts]) if isinstance(texts, list) else None
    listed = {name: list(getattr(record.get(name), "numbers", None) or []) for name in SENT_LISTS}
    return record, defined, listed


def parsed(text: bytes) -> Any:
    """A value as the writer encoded it; one nested deeper than any parser goes stands for nothing but itself."""
    try:
        return fastjson.loads(text)
    except ValueError:
        return {"nested too deeply": text[:64].decode("utf-8", "replace")}


def run_label(run: Path, manifest: Any) -> str:
    """`<target>/<run folder name>`, as a fork's manifest names its origin."""
    target = manifest.get("target") if isinstance(manifest, dict) else None
    return f"{target if isinstance(target, str) and target else run.parent.name}/{run.name}"
