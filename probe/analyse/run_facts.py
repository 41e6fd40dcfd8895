"""What two runs are compared by: one run's totals, endpoints, request shape, headers, instructions, tools and turns."""

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from probe.analyse.insight import Insight
from probe.analyse.keypaths import KeyPaths
from probe.read.conversation import TextBlock, Tool

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
GENERIC_API = "generic"  # the generic reader's: it says nothing of which API a run speaks


class ToolKey(NamedTuple):
    """A tool's place among the declared tools: a namespace's own entry never meets a tool of the same name."""

    namespace: str
    name: str
    is_namespace: bool

    @staticmethod
    def of(tool: Tool) -> "ToolKey":
        return ToolKey(tool.namespace, tool.name, tool.type == "namespace")

    def order(self) -> tuple:
        """Top-level tools first, then each namespace's entry followed by its tools."""
        return (self.name if self.is_namespace else self.namespace, not self.is_namespace, self.name)


@dataclass
class TurnNumbers:
    number: int
    endpoint: str
    tokens: dict[str, int | None]  # None: the API did not say (or sent no usage at all)
    request_bytes: int
    response_bytes: int
    items: int
    ttfb_ms: float | None = None
    duration_ms: float | None = None


@dataclass
class RunSummary:
    name: str
    target: str = ""
    agent: str = ""
    apis: Counter = field(default_factory=Counter)  # exchanges read by each API's reader (the generic one aside)
    models: Counter = field(default_factory=Counter)
    exchanges: int = 0
    tokens: Counter = field(default_factory=Counter)  # by kind, over the model turns that reported it
    token_turns: Counter = field(default_factory=Counter)  # by kind, how many model turns reported it
    sent: int = 0
    received: int = 0
    start: float | None = None
    end: float | None = None
    ttfbs: list[float] = field(default_factory=list)
    endpoints: Counter = field(default_factory=Counter)
    config: dict[str, set] = field(default_factory=dict)  # key -> its values, as compact JSON
    request_paths: KeyPaths = field(default_factory=KeyPaths)  # of the request bodies
    kinds: set[str] = field(default_factory=set)  # event, item and part types
    headers: dict[str, set] = field(default_factory=dict)  # request header -> its values
    instructions: dict[tuple, TextBlock] = field(default_factory=dict)  # distinct blocks, in order
    tools: dict[ToolKey, Tool] = field(default_factory=dict)  # the last declaration of each, normalised
    turns: list[TurnNumbers] = field(default_factory=list)
    insight: Insight = field(default_factory=Insight)  # the same answers the run's report gives
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        return self.end - self.start if self.start is not None and self.end is not None else None

    @property
    def key_paths(self) -> set[str]:
        self.request_paths.settle()
        return set(self.request_paths.counts)

    @property
    def ttfb(self) -> float | None:
        return statistics.median(self.ttfbs) if self.ttfbs else None
