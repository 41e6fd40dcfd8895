"""Reads a run's exchanges one at a time for every output made from them: the report's totals, each exchange's
turn, key paths and insight, its line of turns.jsonl and its entry in the viewer's data. report.md and report.html are
written from it, and the live viewer grows from it, so that both show the same."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from probe.apis.built_in import renderer_for
from probe.apis.turns import Reading
from probe.read.conversation import Turn
from probe.read.masked import masked_exchange
from probe.read.traffic import Exchange
from probe.read.turn_lines import TurnLines, shallow_record
from probe.write.exchange_markdown import count_key_paths
from probe.write.insight_lines import InsightLines
from probe.write.report_header import Totals, plain_stamp, source_name
from probe.write.viewer.data import ViewerData
from probe.write.viewer.header import page_header


@dataclass
class Read:
    """One exchange as read: masked (unless --no-redact), its turn, the builder that made it, and the renderer
    that shows it."""

    exchange: Exchange
    turn: Turn
    builder: Any
    shown_by: Any


class RunReading:
    """Fed each exchange of a run in order; writes its line of turns.jsonl to `turns` and its insight records to
    `insight`, those given, and adds it to the viewer's data (`page`) when `viewer`. `indexed` lets the viewer's
    data hand out what was added since a count (the live viewer)."""

    def __init__(
        self,
        renderer,
        renderer_name: str,
        redact: bool,
        extra_secrets: frozenset[str],
        totals: Totals,
        turns: BinaryIO | None = None,
        insight: BinaryIO | None = None,
        viewer: bool = False,
        indexed: bool = False,
    ) -> None:
        self.renderer, self.renderer_name, self.redact, self.extra_secrets = (
            renderer,
            renderer_name,
            redact,
            extra_secrets,
        )
        self.totals, self.turns = totals, turns
        self.reading = Reading(renderer)  # each exchange is read by its own API's reader; the target's for its API
        # Every exchange is masked as it is read, whatever the capture or its manifest says (a --keep-secrets, older
        # or hand-made capture): turns.jsonl and the viewer then need only their joined answers masked again.
        self.lines = TurnLines(redact, only_output=True)
        self.insight = InsightLines(insight, redact, keep=viewer)
        self.page = ViewerData(redact, extra_secrets, masked_at_capture=True, indexed=indexed) if viewer else None

    def read(self, exchange: Exchange, warnings: list[str]) -> Read:
        """Read one exchange into every output; the caller lets go of what it returns before the next one."""
        if self.redact:
            exchange = masked_exchange(exchange, self.extra_secrets)
        self.totals.count(exchange)
        turn, builder = self.reading.build(exchange, warnings)
        shown_by = renderer_for(builder.reader, self.renderer)
        self.totals.read_by(turn, shown_by, self.renderer, self.renderer_name)
        count_key_paths(exchange, turn, shown_by, self.totals)
        facts_record = self.insight.add(self.totals.insight, turn, exchange.request_headers)
        page = self.page
        record = self.lines.record(turn) if self.turns is not None or page is not None else None
        if self.turns is not None:
            self.turns.write(self.lines.encode(turn, record))
        if page is not None:
            history_field = getattr(shown_by, "HISTORY_FIELD", None)
            page.add(exchange, turn, record if record is not None else shallow_record(turn), history_field,
                     facts_record)  # fmt: skip
        return Read(exchange, turn, builder, shown_by)

    def finish(self) -> None:
        """The run's last insight records: the tool calls no request answered, the agents, the run's totals."""
        self.insight.finish(self.totals.insight)

    def page_header(self, traffic: Path, manifest: dict | None, warnings: list[str]) -> dict:
        """The viewer's header (probe.write.viewer.header) for what was read so far."""
        page = self.page
        assert page is not None, "a header for a viewer that was not asked for"
        prices = self.totals.insight.costs.book.provenance()
        stamp = plain_stamp(self.renderer_name, self.redact, prices)
        return page_header(
            traffic.parent.name, source_name(traffic), stamp, manifest, self.totals, warnings, page.unrecognised,
            page.masked, self.insight.kept,
        )  # fmt: skip
