"""What each turn cost, in US dollars, from its reported usage and the price book: by turn, model, agent and run.

The usage is the normalised one (probe.read.conversation.Usage), in which every API's counts mean the same, as
the price database expects them: input includes the tokens read from and written to the cache (Anthropic sends
those apart from `input_tokens`; the reader has added them up), and output includes reasoning (Gemini sends its
thoughts apart from its candidates; the reader has added them too). The tools an API runs itself and bills by use
(web search) are priced by the database where its release and the model's price have a fee for them, as the
turn's fees; the uses no price covers are counted as left out, for the report to say. A turn whose model has no
known price costs "unknown", with the reason, and is left out of the totals, which say how many turns they leave
out: never $0.
"""

import functools
import heapq
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from probe.analyse.prices import DATABASE_PROVIDERS, MODEL_NAME_LIMIT, FilePrice, PriceBook
from probe.analyse.token_sums import spends
from probe.analyse.tool_fees import database_usage, priced_by
from probe.read.conversation import Turn, Usage

MILLION = Decimal(1_000_000)
# Anthropic prices a write to the 1-hour cache at twice the input price (a 5-minute write at 1.25 times): used
# when the price data has no 1-hour price of its own.
LONG_WRITE_TIMES_INPUT = Decimal(2)
UNKNOWN_KEPT = 64  # distinct reasons kept for the report; the rest are counted
DEAREST_KEPT = 5  # the costliest turns the report names
TOOLS_KEPT = 64  # server tools counted one by one in a sum; past them, uses are summed as OTHER_TOOLS
OTHER_TOOLS = "other_tools"
MODELS_KEPT = 256  # models summed one by one; a capture that names more is hostile, and the rest are summed as one
OTHER_MODELS = "(other models)"
# More US dollars than any turn costs: a price file's price (any number it holds) times a count can come to
# anything, and sums of such (as floats in insight.jsonl) to infinity, which JSON writes as null.
MOST_USD = Decimal(10) ** 12


@dataclass
class TurnCost:
    """One turn's cost, or why it has none."""

    number: int
    agent: str
    model: str | None
    usd: Decimal | None = None
    input_usd: Decimal | None = None  # input, cache reads and writes included
    output_usd: Decimal | None = None
    fees_usd: Decimal | None = None  # beyond the tokens: server-tool uses, and a per-request fee where a model has one
    tool_uses_priced: dict[str, int] = field(default_factory=dict)  # server-tool uses the fees cover, by tool
    tool_uses_left_out: dict[str, int] = field(default_factory=dict)  # and those no price covers: not in `usd`
    priced_as: str | None = None  # the model as the price source knows it
    source: str | None = None  # the price file or the database
    unknown: str | None = None  # why there is no cost

    def to_json(self) -> dict:
        return {"usd": number(self.usd), "input_usd": number(self.input_usd), "output_usd": number(self.output_usd),
                "fees_usd": number(self.fees_usd), "tool_uses_priced": self.tool_uses_priced,
                "tool_uses_left_out": self.tool_uses_left_out, "priced_as": self.priced_as, "source": self.source,
                "unknown": self.unknown}  # fmt: skip


@dataclass
class Spend:
    """Money summed over turns, and the turns it leaves out because their price is unknown."""

    usd: Decimal = Decimal(0)
    priced: int = 0
    unknown: int = 0
    fees_usd: Decimal = Decimal(0)  # of usd, the fees beyond tokens
    tool_uses_priced: Counter = field(default_factory=Counter)  # server-tool uses of the priced turns, by tool
    tool_uses_left_out: Counter = field(default_factory=Counter)  # and those their cost leaves out

    def add(self, cost: TurnCost) -> None:
        if cost.usd is None:
            self.unknown += 1
            return
        self.usd += cost.usd
        self.fees_usd += cost.fees_usd or 0
        self.priced += 1
        for uses, into in ((cost.tool_uses_priced, self.tool_uses_priced),
                           (cost.tool_uses_left_out, self.tool_uses_left_out)):  # fmt: skip
            for tool, count in uses.items():
                into[tool if tool in into or len(into) < TOOLS_KEPT else OTHER_TOOLS] += count

    def to_json(self) -> dict:
        return {"usd": number(self.usd) if self.priced else None, "priced_turns": self.priced,
                "unknown_turns": self.unknown, "fees_usd": number(self.fees_usd) if self.priced else None,
                "tool_uses_priced": dict(self.tool_uses_priced),
                "tool_uses_left_out": dict(self.tool_uses_left_out)}  # fmt: skip


@dataclass
class Costs:
    """Fed each turn (with the agent that made it); sums by model and agent as it goes."""

    book: PriceBook = field(default_factory=PriceBook)
    run: Spend = field(default_factory=Spend)
    by_model: dict[str, Spend] = field(default_factory=dict)
    by_agent: dict[str, Spend] = field(default_factory=dict)
    reasons: Counter = field(default_factory=Counter)  # why turns have no cost, with how many
    sources: Counter = field(default_factory=Counter)  # where the known prices came from, with how many turns
    dearest: list = field(default_factory=list)  # a heap of (usd, -number, TurnCost): the costliest turns

    def add(self, turn: Turn, agent: str) -> TurnCost | None:
        """The turn's cost, or None if it spent nothing (a token count, a failed request)."""
        if not spends(turn):
            return None
        cost = turn_cost(self.book, turn, agent)
        self.run.add(cost)
        model = cost.model or "(no model)"
        if model not in self.by_model and len(self.by_model) >= MODELS_KEPT:
            model = OTHER_MODELS
        self.by_model.setdefault(model, Spend()).add(cost)
        self.by_agent.setdefault(agent, Spend()).add(cost)
        if cost.unknown is not None and (cost.unknown in self.reasons or len(self.reasons) < UNKNOWN_KEPT):
            self.reasons[cost.unknown] += 1
        if cost.source is not None:
            self.sources[cost.source] += 1
        if cost.usd is not None:
            entry = (cost.usd, -cost.number, cost)
            if len(self.dearest) < DEAREST_KEPT:
                heapq.heappush(self.dearest, entry)
            elif entry[:2] > self.dearest[0][:2]:
                heapq.heapreplace(self.dearest, entry)
        return cost

    def costliest(self) -> list[TurnCost]:
        return [entry[2] for entry in sorted(self.dearest, key=lambda entry: entry[:2], reverse=True)]


def turn_cost(book: PriceBook, turn: Turn, agent: str) -> TurnCost:
    return usage_cost(book, TurnCost(turn.number, agent, turn.model), turn.usage, turn.provider, turn.timing.start)


def usage_cost(book: PriceBook, cost: TurnCost, usage: Usage, provider: str | None, start: float | None) -> TurnCost:
    """`cost` filled in: `usage` priced at `cost.model` (the API's `provider`, on the day of `start`)."""
    model = cost.model
    if usage.refused:
        cost.unknown = f"the usage holds what no API sends as a count ({', '.join(sorted(usage.refused))})"
        return cost
    if usage.input is None and usage.output is None:
        cost.unknown = "the response reported no token counts"
        return cost
    if not model:
        cost.unknown = "the request named no model"
        return cost
    if len(model) > MODEL_NAME_LIMIT:
        cost.unknown = f"a model name of {len(model):,} characters"
        return cost
    file_price = book.from_file(model)
    if file_price is not None:
        cost.priced_as, cost.source = file_price.pattern, book.file.name
        try:
            cost.input_usd, cost.output_usd = file_cost(file_price, usage)
            cost.fees_usd, cost.tool_uses_left_out = Decimal(0), dict(usage.server_tools)  # a file prices tokens
        except ArithmeticError:  # decimal.Overflow: a price past any Decimal's exponent
            cost.unknown = f"{book.file.name}'s price for {model} times the tokens is too large to work out"
            return cost
    elif not book.use_database:
        cost.unknown = f"no price for {model} in {book.file.name} (which leaves the database out)"
        return cost
    else:
        day = datetime.fromtimestamp(start, UTC).date() if start else None
        tools = tuple(sorted(usage.server_tools.items()))
        found = database_cost(model, DATABASE_PROVIDERS.get(provider or ""), *counts(usage), tools, day)
        if isinstance(found, str):
            cost.unknown = f"no price for {model} in {book.database}{f' ({found})' if found else ''}"
            return cost
        cost.input_usd, cost.output_usd, cost.fees_usd, cost.priced_as, priced = found
        cost.tool_uses_priced = {tool: count for tool, count in tools if tool in priced}
        cost.tool_uses_left_out = {tool: count for tool, count in tools if tool not in priced}
        cost.source = book.database
    usd = cost.input_usd + cost.output_usd + cost.fees_usd
    if not 0 <= usd <= MOST_USD:
        cost.input_usd = cost.output_usd = cost.fees_usd = None
        cost.tool_uses_priced, cost.tool_uses_left_out = {}, {}  # the turn is left out whole
        cost.unknown = f"{cost.source}'s price for {model} times the tokens comes to {usd:.3g} US dollars"
        return cost
    cost.usd = usd
    return cost


def rewrite_cost(book: PriceBook, turn: Turn, tokens: int) -> Decimal | None:
    """What writing `tokens` of the turn's input again cost: at its cache-write price where the API reports writes
    (the turn's 1-hour writes at theirs), else at its input price; None where the turn's model has no price."""
    usage = turn.usage
    writes = usage.cache_write is not None
    again = Usage(raw={}, input=tokens, output=0, cache_write=tokens if writes else None,
                  cache_write_1h=min(usage.cache_write_1h or 0, tokens) if writes else None)  # fmt: skip
    cost = turn_cost(book, replace(turn, usage=again), "")
    return None if cost.usd is None else cost.input_usd  # (a per-request fee is the turn's, not the rewrite's)


def counts(usage: Usage) -> tuple[int, int, int, int, int]:
    """Input (all of it), cache reads, cache writes, of those the 1-hour ones, and output; 0 where not reported."""
    write = usage.cache_write or 0
    return (usage.input or 0, usage.cache_read or 0, write, min(usage.cache_write_1h or 0, write), usage.output or 0)


def file_cost(price: FilePrice, usage: Usage) -> tuple[Decimal, Decimal]:
    total, read, write, long, output = counts(usage)
    plain = max(total - read - write, 0)
    read_price = price.cache_read if price.cache_read is not None else price.input
    write_price = price.cache_write if price.cache_write is not None else price.input
    long_price = price.cache_write_1h if price.cache_write_1h is not None else write_price
    spent = plain * price.input + read * read_price + (write - long) * write_price + long * long_price
    return spent / MILLION, output * price.output / MILLION


@functools.lru_cache(maxsize=4096)  # a run repeats its models, and a hostile capture its counts
def database_cost(
    model: str,
    provider: str | None,
    total: int,
    read: int,
    write: int,
    long: int,
    output: int,
    tools: tuple[tuple[str, int], ...],
    day,
) -> tuple[Decimal, Decimal, Decimal, str, frozenset[str]] | str:
    """Input and output prices from the database, its fees beyond the tokens (server-tool uses, a per-request
    fee), the model as it knows it and the server tools those fees price; or why it has none (a string)."""
    import genai_prices  # here: loading its data takes 0.3 s, which a run that spent no tokens need not wait

    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if day is not None else None
    tokens = {"input_tokens": total, "cache_read_tokens": read, "cache_write_tokens": write, "output_tokens": output,
              **database_usage(tools)}  # fmt: skip
    try:
        found = genai_prices.calc_price(genai_prices.Usage(**tokens), model, provider_id=provider,
                                        genai_request_timestamp=when)  # fmt: skip
        extra = Decimal(0)
        if long and getattr(found.model_price, "cache_write_1h_mtok", None) is not None:  # the database has them
            found = genai_prices.calc_price(genai_prices.Usage(**tokens, cache_write_1h_tokens=long), model,
                                            provider_id=provider, genai_request_timestamp=when)  # fmt: skip
        elif long:
            # Priced as plain input, the 1-hour writes cost once the input price: add the rest of their price, at
            # the input price of this request's size (a price may step up past a number of input tokens).
            shorter = {**tokens, "cache_write_tokens": write - long}
            found = genai_prices.calc_price(genai_prices.Usage(**shorter), model, provider_id=provider,
                                            genai_request_timestamp=when)  # fmt: skip
            plain = genai_prices.calc_price(genai_prices.Usage(input_tokens=total), model, provider_id=provider,
                                            genai_request_timestamp=when)  # fmt: skip
            extra = long * (LONG_WRITE_TIMES_INPUT - 1) * plain.input_price / total
    except LookupError:
        return ""
    except Exception as error:  # the library meeting a model name or counts it cannot price: still a reason
        return f"{type(error).__name__}: {str(error)[:120]}"
    # What the total holds beyond input and output is the fees: the database prices each part, and sums them.
    fees = max(found.total_price - found.input_price - found.output_price, Decimal(0))
    priced = frozenset(tool for tool, _ in tools if priced_by(found.model_price, tool))
    return found.input_price + extra, found.output_price, fees, f"{found.model.id} ({found.provider.id})", priced


def load_price_database() -> None:
    """Loads the price database now (0.2 s), for a caller that will price turns soon and would rather not wait
    then: the live viewer, before its first exchange arrives."""
    database_cost("gpt-4o", "openai", 1, 0, 0, 0, 1, (), None)


def dollars(value: Decimal) -> str:
    """US dollars to the hundredth of a cent: a turn often costs less than one cent."""
    return f"${value:,.4f}"


def number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
