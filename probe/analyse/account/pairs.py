"""The account's pairs: a record of the agent's with the exchange it was matched to, and one exchange's counts as
the agent logged them beside the wire's (the rows the report, the viewer and SQL show)."""

from dataclasses import dataclass, field
from decimal import Decimal

from probe.analyse.account.wire import WireCall
from probe.read.account.event import AccountEvent

COST_SLACK = Decimal("0.000001")  # dollars: a difference below is rounding, no disagreement


@dataclass
class Match:
    event: AccountEvent
    call: WireCall | None  # None: no exchange
    key: str | None


@dataclass
class Compared:
    """One model exchange, the agent's counts beside the API's and ours."""

    number: int
    name: str  # the record compared
    line: int  # its line in telemetry.jsonl
    key: str
    agent_input: int | None  # all of the input, cached included
    api_input: int | None
    agent_output: int | None
    api_output: int | None
    agent_cost: float | None
    our_cost: Decimal | None  # the wire's usage priced at the model the agent asked for (see `rewritten`)
    agent_ms: float | None
    wire_ms: float | None
    disagreements: list[str] = field(default_factory=list)
    agent_cache_read: int | None = None
    api_cache_read: int | None = None
    agent_cache_write: int | None = None
    api_cache_write: int | None = None
    agent_ttft_ms: float | None = None  # the agent's time to the first token
    wire_first_byte_ms: float | None = None  # the proxy's, to the answer's first byte
    counted: str | None = None  # the agent's fields its counts come from
    agent_model: str | None = None
    wire_model: str | None = None
    rewritten: bool = False  # a fork asked for `wire_model` instead of the agent's: our cost is at the agent's
    wire_cost: Decimal | None = None  # our cost at the model the wire's request named
    notes: list[str] = field(default_factory=list)  # what explains a difference, no disagreement

    @property
    def agent_uncached(self) -> int | None:
        return uncached(self.agent_input, self.agent_cache_read, self.agent_cache_write)

    @property
    def api_uncached(self) -> int | None:
        return uncached(self.api_input, self.api_cache_read, self.api_cache_write)


def uncached(total: int | None, read: int | None, write: int | None) -> int | None:
    """The input neither read from the cache nor written to it; None where the total is not known."""
    return None if total is None else total - (read or 0) - (write or 0)
