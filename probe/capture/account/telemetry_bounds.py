"""How much of the agent's own telemetry a run keeps: records, values parsed and bytes written, per export and per
run. Past a bound, what came first is kept and one line says how many records were left out."""

from dataclasses import dataclass

from probe.common.counting import counted
from probe.common.otlp_wire import Budget

MAX_EXPORT = 16 * 1024 * 1024  # bytes of one export, as sent and once unpacked: more is refused with 413


@dataclass(frozen=True)
class Bounds:
    # 20 times the batch the OpenTelemetry SDKs send by default (512 records).
    records_per_export: int = 10_000
    # What parsing one export may make (messages, fields, array elements): a few kilobytes of gzip can hold millions
    # of empty records, which parsed whole took the capture past 2 GB.
    values_per_export: int = 500_000
    bytes_per_export: int = MAX_EXPORT  # no export writes more than it could carry itself
    records_per_run: int = 200_000  # what the report's join holds (probe.analyse.account.join.EVENTS_KEPT)
    bytes_per_run: int = 256 * 1024 * 1024


class RunTotals:
    """What the run has written so far, and what the next export may still add."""

    def __init__(self, bounds: Bounds):
        self.bounds = bounds
        self.records = 0  # records written
        self.bytes = 0  # bytes written, every line counted
        self.dropped = 0  # records left out past a bound
        self.said_full = False  # the line saying the run's bound is reached is written: nothing more is

    def budget(self) -> Budget:
        records = min(self.bounds.records_per_export, self.bounds.records_per_run - self.records)
        return Budget(records=max(records, 0), values=self.bounds.values_per_export)

    def room(self) -> int:
        """The bytes the next export may write."""
        return max(0, min(self.bounds.bytes_per_export, self.bounds.bytes_per_run - self.bytes))

    def run_is_full(self) -> bool:
        return self.records >= self.bounds.records_per_run or self.bytes >= self.bounds.bytes_per_run

    def bound(self, kind: str) -> str:
        """The bound of that kind (records, values, bytes; run: the run's), in words."""
        bounds = self.bounds
        if kind == "run":
            records, written = counted(bounds.records_per_run, "record"), counted(bounds.bytes_per_run, "byte")
            return f"the run's bound of {records} and {written}"
        if kind == "values":
            return f"the bound of {counted(bounds.values_per_export, 'value')} parsed per export"
        if kind == "bytes":
            return f"the bound of {counted(bounds.bytes_per_export, 'byte')} written per export"
        return f"the bound of {counted(bounds.records_per_export, 'record')} per export"


def fitting(lines: list[str], room: int) -> tuple[list[str], int]:
    """The first lines that fit in `room` bytes, and their size."""
    size = 0
    for count, line in enumerate(lines):
        length = len(line.encode("utf-8", "surrogatepass"))
        if size + length > room:
            return lines[:count], size
        size += length
    return lines, size
