"""How full each turn's context window was: the window found for its model (a table, the 1M-context header, the
agent's model list, and the largest input seen as a floor, in that order), the share its input took, and each
agent's peak and last share against its own models' windows.

A model that takes Anthropic's 1M-context beta has its standard window without the header and 1M with it, and one
whose own window is 1M has it, whatever a table says (tables and their versions disagree). Otherwise a table may be
added to, never denied: the header widens no other model's window, the agent's model list gives a window only where
the table has none (its own, smaller limit is kept as the effective one), and an input larger than the window shows
the table wrong for this run.
Where nothing is known, the window is unknown: never a default."""

from dataclasses import dataclass, field

from probe.analyse.prices import DATABASE_PROVIDERS, MODEL_NAME_LIMIT, PriceBook
from probe.analyse.token_sums import spends
from probe.analyse.window.catalog import ListedWindow, listed_windows
from probe.analyse.window.table import (
    LONG_CONTEXT,
    STANDARD_CONTEXT,
    asks_long_context,
    database_window,
    has_long_context,
    table_window,
    takes_long_context,
)
from probe.read.conversation import Turn

UNKNOWN = "unknown"
LONG_CONTEXT_SOURCE = "context-1m header"
STANDARD_SOURCE = "standard window, no context-1m header"
NATIVE_SOURCE = "the model's own 1M window"
LISTED_SOURCE = "the agent's model list"
SEEN_SOURCE = "largest input seen"
MODELS_KEPT = 256  # models whose largest input is remembered, and listed windows: a capture naming more is hostile
SHARE_DIGITS = 4


@dataclass
class TurnWindow:
    """One turn's window (None: unknown), where it came from, the agent's own limit where it has one, and why."""

    tokens: int | None
    source: str
    effective: int | None = None
    note: str | None = None
    input: int | None = None  # the turn's input tokens, where reported and spent

    @property
    def share(self) -> float | None:
        return None if self.tokens is None or self.input is None else round(self.input / self.tokens, SHARE_DIGITS)

    def to_json(self) -> dict:
        return {"tokens": self.tokens, "source": self.source, "effective": self.effective, "note": self.note}


@dataclass
class Fill:
    """One agent's turns on one model: the window they were measured against, their peak and their last."""

    model: str
    turns: int = 0
    input: int = 0  # the input tokens of all its turns: the agent's main model is the one that carried most
    window: TurnWindow | None = None  # the last turn's
    peak_share: float | None = None
    peak_turn: int | None = None
    peak_window: TurnWindow | None = None  # the window the peak was measured against (a later turn's may differ)
    last_share: float | None = None
    last_turn: int | None = None
    last_input: int | None = None

    def add(self, number: int, window: TurnWindow) -> None:
        self.turns += 1
        self.input += window.input or 0
        self.window, self.last_turn, self.last_share, self.last_input = window, number, window.share, window.input
        if window.share is not None and (self.peak_share is None or window.share > self.peak_share):
            self.peak_share, self.peak_turn, self.peak_window = window.share, number, window

    def to_json(self) -> dict:
        window = self.window or TurnWindow(None, UNKNOWN)
        peak = self.peak_window or TurnWindow(None, UNKNOWN)
        return {"model": self.model, "tokens": window.tokens, "source": window.source, "turns": self.turns,
                "peak_share": self.peak_share, "peak_turn": self.peak_turn, "peak_tokens": peak.tokens,
                "peak_source": peak.source, "last_share": self.last_share,
                "last_turn": self.last_turn}  # fmt: skip


@dataclass
class Windows:
    """Fed each turn with its headers and agent, and the run's other exchanges (an agent's model list among them)."""

    book: PriceBook
    listed: dict[str, ListedWindow] = field(default_factory=dict)
    largest: dict[str, int] = field(default_factory=dict)  # by model: the largest input seen so far
    findings: dict[str, dict] = field(default_factory=dict)  # by model: where the input passed the table's window
    fills: dict[tuple[str, str], Fill] = field(default_factory=dict)  # by agent and model

    def note_other(self, exchange) -> None:
        for model, window in listed_windows(exchange).items():
            if model in self.listed or len(self.listed) < MODELS_KEPT:
                self.listed[model] = window

    def add(self, turn: Turn, headers: list[tuple[str, str]], agent: str) -> TurnWindow:
        if not turn.model:
            return TurnWindow(None, UNKNOWN, note="the request named no model")
        if len(turn.model) > MODEL_NAME_LIMIT:  # (no model's: neither looked up nor kept, as its cost is not)
            return TurnWindow(None, UNKNOWN, note="the request's model name is too long to be any model's")
        spent = turn.usage.input if spends(turn) and turn.usage.input is not None else None
        window = self.window_of(turn.model, turn.provider, headers)
        self.floor(turn.model, window, spent)
        window.input = spent
        if spent is not None and (fill := self.fill(agent, turn.model)) is not None:
            fill.add(turn.number, window)
        return window

    def window_of(self, model: str, provider: str | None, headers: list[tuple[str, str]]) -> TurnWindow:
        database_provider = DATABASE_PROVIDERS.get(provider or "")
        table = table_window(self.book, model, database_provider)
        window = TurnWindow(table.tokens, table.source or UNKNOWN)
        # A price file's pattern is no model id: the database's id for the model says whether the beta applies.
        known_as = (table.known_as, database_window(model, database_provider)[1])
        gated, native = takes_long_context(*known_as), has_long_context(*known_as)
        # A model that takes the beta has one of two windows, by the header alone: tables disagree on which they
        # give (and their versions with each other), so the report would depend on the one installed.
        if native:
            if window.tokens is not None and window.tokens != LONG_CONTEXT:
                window.note = f"{window.source} gives {window.tokens:,}"
            window.tokens, window.source = LONG_CONTEXT, NATIVE_SOURCE
        elif gated:
            long = asks_long_context(headers)
            if not long and (window.tokens or 0) > STANDARD_CONTEXT:  # the table's window is the header's
                window.note = f"{window.source} gives {window.tokens:,}, which takes the context-1m header"
            window.tokens = LONG_CONTEXT if long else STANDARD_CONTEXT
            window.source = LONG_CONTEXT_SOURCE if long else STANDARD_SOURCE
        elif asks_long_context(headers) and (window.tokens or 0) < LONG_CONTEXT:
            window.note = f"the context-1m header does not widen {model}'s window"
        listed = self.listed.get(model)
        if listed is not None:
            window.effective = listed.effective
            if window.tokens is None:
                window.tokens, window.source = listed.tokens, LISTED_SOURCE
            elif listed.tokens != window.tokens:
                window.note = f"the agent's model list gives {listed.tokens:,}, of which it fills {listed.percent}%"
        if window.tokens is None and window.note is None:
            window.note = self.why_unknown(table.known_as)
        return window

    def why_unknown(self, known_as: str | None) -> str:
        """Why a model's window is unknown, and how to give it."""
        tables = " and ".join(name for name in (self.book.file and self.book.file.name,
                                                self.book.use_database and self.book.database) if name)  # fmt: skip
        why = f"{tables} knows no such model" if known_as is None else f"{tables} gives no window for it"
        return f"{why}: give it as context_window in a price file (--prices FILE or $PROBE_PRICES)"

    def floor(self, model: str, window: TurnWindow, spent: int | None) -> None:
        """Raise `window` to the largest input seen of `model`, this turn's included, and say why."""
        if spent is not None and (model in self.largest or len(self.largest) < MODELS_KEPT):
            self.largest[model] = max(self.largest.get(model, 0), spent)
        seen = self.largest.get(model, 0)
        if window.tokens is None or seen <= window.tokens:
            return
        self.findings.setdefault(model, {"model": model, "window": window.tokens, "source": window.source})
        self.findings[model]["seen"] = seen
        window.note = f"{seen:,} input tokens seen, past {window.source}'s {window.tokens:,}: the table is wrong here"
        window.tokens, window.source = seen, SEEN_SOURCE

    def fill(self, agent: str, model: str) -> Fill | None:
        key = (agent, model)
        if key not in self.fills and len(self.fills) >= MODELS_KEPT * 4:
            return None
        return self.fills.setdefault(key, Fill(model))

    def of_agent(self, agent: str) -> list[Fill]:
        """The agent's fills, its main model's first: the one whose turns carried the most input tokens (side calls
        on a small model, a title or a quota check, may be more turns, but carry little), then the later last turn."""
        return sorted((fill for (owner, _), fill in self.fills.items() if owner == agent),
                      key=lambda fill: (-fill.input, -(fill.last_turn or 0)))  # fmt: skip

    def agent_record(self, agent: str) -> dict | None:
        fills = self.of_agent(agent)
        return None if not fills else {**fills[0].to_json(), "by_model": [fill.to_json() for fill in fills]}

    def run_record(self, main: str | None) -> dict:
        """The headroom the main agent's main model had left at its last turn, and where a table was wrong."""
        fills = self.of_agent(main) if main is not None else []
        record = {"agent": main, "model": None, "tokens": None, "source": UNKNOWN, "input": None,
                  "headroom_tokens": None, "headroom_share": None,
                  "findings": list(self.findings.values())}  # fmt: skip
        if fills and fills[0].window is not None:
            last = fills[0].window
            record.update(model=fills[0].model, tokens=last.tokens, source=last.source, input=last.input)
            if last.tokens is not None and last.share is not None:
                headroom = last.tokens - last.input
                record.update(headroom_tokens=headroom, headroom_share=round(headroom / last.tokens, SHARE_DIGITS))
        return record
