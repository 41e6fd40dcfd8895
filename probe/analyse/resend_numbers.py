"""The numbers `invoke resend` shows: a request's input tokens estimated before it is sent (the context split's own
counting, scaled as the recorded turn's reported input scales it) with what that would cost, and each answer's
tokens, cache, cost, tool calls and text, to compare with the recorded answer's."""

import statistics
from dataclasses import dataclass, field, replace
from decimal import Decimal

from probe.analyse.context import ContextFilling
from probe.analyse.cost import turn_cost
from probe.analyse.prices import PriceBook
from probe.analyse.token_count import TokenCounter
from probe.read.conversation import Turn, Usage

ASSUMED_OUTPUT = 1_000  # tokens an estimate prices as output when the recorded answer reported none


@dataclass
class Estimate:
    """What the request should take as input: the encoder's count, scaled by the recorded turn's ratio of reported
    to counted input where it reported one; and its cost, priced with the recorded answer's output."""

    counted: int
    tokens: int
    scaled: bool  # by the recorded turn's own ratio
    output: int
    usd: Decimal | None
    unknown: str | None  # why there is no cost


@dataclass
class Answer:
    """One answer as `invoke resend` compares it."""

    number: int  # the exchange's number in its run
    status: int | None
    model: str | None
    usage: Usage | None = None  # its counts: input, output, cache_read, cache_write
    usd: Decimal | None = None
    unknown: str | None = None
    tools: list[str] = field(default_factory=list)  # the tool calls' names, in order
    text: str = ""  # the answer's text parts, joined
    errors: int = 0

    def count(self, name: str) -> int | Decimal | None:
        """A token count by its name in Usage, or `usd`."""
        if name == "usd":
            return self.usd
        return getattr(self.usage, name) if self.usage is not None else None


def counted_input(turn: Turn, counter: TokenCounter) -> int:
    """The request's instructions, tools and history, counted by the context split's encoder (no API framing)."""
    filling = ContextFilling(counter=counter)
    lifted = {id(block.text) for block in turn.system}
    pieces = filling.instructions(turn, counter) + filling.tools(turn, counter)
    pieces += filling.history(turn, counter, lifted)
    return sum(piece.counted for piece in pieces)


def estimate(recorded: Turn, edited: Turn, book: PriceBook) -> Estimate:
    """The edited request's estimate, beside the recorded turn it was made from."""
    counter = TokenCounter()
    counted = counted_input(edited, counter)
    reported = recorded.usage.input if recorded.usage is not None else None
    base = counted_input(recorded, counter) if reported else 0
    tokens = round(counted * reported / base) if reported and base else counted
    output = (recorded.usage.output if recorded.usage is not None else None) or ASSUMED_OUTPUT
    # Priced as input that no cache holds: what a changed request may well be, and the most it would cost.
    cost = turn_cost(book, replace(edited, usage=Usage(raw={}, input=tokens, output=output)), "")
    return Estimate(counted, tokens, bool(reported and base), output, cost.usd, cost.unknown)


def answer(turn: Turn, book: PriceBook) -> Answer:
    usage = turn.usage
    found = Answer(turn.number, turn.status, turn.model, usage, errors=len(turn.errors))
    if usage is not None:
        cost = turn_cost(book, turn, "")
        found.usd, found.unknown = cost.usd, cost.unknown
    else:
        found.unknown = "the answer reported no token counts"
    parts = [part for item in turn.output for part in item.parts]
    found.tools = [part.name or "?" for part in parts if part.kind == "tool_call"]
    found.text = "\n".join(part.text for part in parts if part.kind == "text" and isinstance(part.text, str))
    return found


@dataclass
class Spread:
    """K answers to the same request: min, median and max of each count, and how many answers differed."""

    counts: dict[str, tuple[float, float, float] | None]
    texts: int  # distinct answer texts
    tool_sets: int  # distinct sequences of tool calls


def spread(answers: list[Answer]) -> Spread:
    counts = {}
    for name in ("input", "output", "cache_read", "cache_write", "usd"):
        values = [each.count(name) for each in answers if each.count(name) is not None]
        counts[name] = (min(values), statistics.median(values), max(values)) if values else None
    return Spread(counts, len({each.text for each in answers}), len({tuple(each.tools) for each in answers}))
