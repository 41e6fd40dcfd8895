"""A run's telemetry.jsonl read a line at a time into account events, each agent's records by its own reader,
chosen by a fixed table keyed by the service that sent them or the run's target, never by what the data names."""

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from probe.read.account import ai_sdk_spans, claude_code, codex, continue_cli, gemini, genai_spans
from probe.read.account.event import OTHER, AccountEvent
from probe.read.account.metrics import MetricTable, MetricTotals, count

Reader = Callable[[dict, int], AccountEvent]
# The service names the agents' telemetry carries, each seen in its pinned version's exports against the mock
# (Claude Code, codex, gemini-cli, Qwen Code, Copilot CLI, opencode; Continue CLI's `continue-cli` sends metrics
# only), and the target names, to their readers.
BY_SERVICE: dict[str, Reader] = {
    "claude-code": claude_code.event,
    "codex_exec": codex.event,
    "codex_cli_rs": codex.event,
    "codex-tui": codex.event,
    "gemini-cli": gemini.event,
    "qwen-code": gemini.event,
    "github-copilot": genai_spans.event,
    "opencode": ai_sdk_spans.event,
}
BY_TARGET: dict[str, Reader] = {
    "claude-code": claude_code.event,
    "codex": codex.event,
    "gemini": gemini.event,
    "qwen-code": gemini.event,
    "copilot": genai_spans.event,
    "opencode": ai_sdk_spans.event,
}
# The metrics each service's account compares with the wire (the same services; Continue CLI's are its only account).
METRICS_BY_SERVICE: dict[str, MetricTable] = {
    "claude-code": claude_code.METRICS,
    "codex_exec": codex.METRICS,
    "codex_cli_rs": codex.METRICS,
    "codex-tui": codex.METRICS,
    "gemini-cli": gemini.METRICS,
    "qwen-code": gemini.METRICS,
    "continue-cli": continue_cli.METRICS,
}
METRICS_BY_TARGET: dict[str, MetricTable] = {
    "claude-code": claude_code.METRICS,
    "codex": codex.METRICS,
    "gemini": gemini.METRICS,
    "qwen-code": gemini.METRICS,
    "continue": continue_cli.METRICS,
}
LINE_LIMIT = 4 * 1024 * 1024  # bytes of one line read; a longer one is skipped with a note
NOTES_KEPT = 5


@dataclass
class AccountReading:
    """What reading telemetry.jsonl met: its lines, its records (each counted once, as the manifest counts them: the
    log records and spans read as events, those that are none, the metrics summed and those not compared), the
    exports it could not read, the lines it could not, the services no reader knows."""

    lines: int = 0
    records: int = 0  # every record the receiver wrote (a log record, a span or a metric), as the manifest's count
    events: int = 0  # of them, the log records and spans read as events
    not_events: Counter = field(default_factory=Counter)  # spans of a known service that tell of no event, by name
    unreadable_exports: int = 0
    dropped_records: int = 0  # records the receiver left out past its bounds, as its lines say
    bad_lines: int = 0
    misshapen: int = 0  # records of a shape their reader does not know
    unknown_services: Counter = field(default_factory=Counter)
    metrics: Counter = field(default_factory=Counter)  # metric records (totals, not events), by service
    totals: MetricTotals = field(default_factory=MetricTotals)  # the metrics, summed where the account compares them
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < NOTES_KEPT:
            self.notes.append(text)


def reader_for(record: dict, target: str) -> Reader | None:
    """The reader of the service that sent a record; of the run's target only for a record that names none; and
    for a span of a service no reader knows that speaks OpenTelemetry's GenAI conventions, the GenAI reader."""
    service = record.get("service")
    if service is None:
        return BY_TARGET.get(target)
    if isinstance(service, str) and service in BY_SERVICE:
        return BY_SERVICE[service]
    fields = record.get("attributes")
    if record.get("signal") == "traces" and isinstance(fields, dict) and "gen_ai.operation.name" in fields:
        return genai_spans.event
    return None


def metrics_for(record: dict, target: str) -> MetricTable | None:
    """The metric table of the service that sent a record, of the run's target for one that names none."""
    service = record.get("service")
    if service is None:
        return METRICS_BY_TARGET.get(target)
    return METRICS_BY_SERVICE.get(service) if isinstance(service, str) else None


def read_account(path: Path, target: str, reading: AccountReading) -> Iterator[AccountEvent]:
    """Each log record's and span's account event, in the file's order; metrics are summed into `reading.totals`."""
    with path.open("rb") as file:
        for number, raw in enumerate(iter(lambda: file.readline(LINE_LIMIT), b""), start=1):
            reading.lines += 1
            if not raw.endswith(b"\n") and len(raw) >= LINE_LIMIT:
                reading.bad_lines += 1
                reading.note(f"line {number} is longer than {LINE_LIMIT:,} bytes: skipped")
                while raw and not raw.endswith(b"\n"):  # the rest of the line, a piece at a time
                    raw = file.readline(LINE_LIMIT)
                continue
            record = parsed(raw)
            if record is None:
                reading.bad_lines += 1
                reading.note(f"line {number} is no JSON object: skipped")
                continue
            if "unreadable" in record:
                reading.unreadable_exports += 1
                continue
            if "dropped" in record:  # the receiver's line for the records an export had past its bounds
                dropped = record["dropped"]
                if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0:
                    reading.dropped_records += min(dropped, LINE_LIMIT * 1024)  # (a file from elsewhere may say more)
                continue
            if record.get("signal") not in ("logs", "traces", "metrics"):
                reading.bad_lines += 1
                reading.note(f"line {number} is no record of a known signal: skipped")
                continue
            reading.records += 1
            if record.get("signal") == "metrics":
                count(reading.metrics, str(record.get("service"))[:80])
                reading.totals.add(record, metrics_for(record, target))
                continue
            reader = reader_for(record, target)
            if reader is None:
                reading.unknown_services[str(record.get("service"))[:80]] += 1
                continue
            try:
                found = reader(record, number)
            except (TypeError, ValueError, AttributeError):
                reading.misshapen += 1
                reading.note(f"line {number} has a shape its reader does not know: skipped")
                continue
            if found.kind != OTHER or record.get("signal") == "logs":
                reading.events += 1
                yield found
            else:
                count(reading.not_events, str(record.get("name"))[:200])


def parsed(raw: bytes) -> dict | None:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None
