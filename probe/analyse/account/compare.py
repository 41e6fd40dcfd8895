"""One model exchange's counts as the agent logged them beside the wire's: input in its parts (uncached, read from
the cache, written to it), output, cost, time to the first token and duration; and, where a fork rewrote the model
the agent asked for, the wire's usage priced at that model too, so that the costs compared are of the same model."""

from collections.abc import Callable
from decimal import Decimal

from probe.analyse.account.pairs import COST_SLACK, Compared, Match
from probe.analyse.account.wire import WireCall
from probe.analyse.cost import TurnCost, usage_cost
from probe.analyse.prices import PriceBook
from probe.read.account.event import MODEL_CALL

# The wire's usage of an exchange priced at another model: (call, model) -> dollars, or None where it has no price.
Pricer = Callable[[WireCall, str], Decimal | None]


def pricer(book: PriceBook) -> Pricer:
    """Prices an exchange's usage at another model, from the run's price book."""

    def price(call: WireCall, model: str) -> Decimal | None:
        if call.usage is None:
            return None
        return usage_cost(book, TurnCost(call.number, "", model), call.usage, call.provider, call.start).usd

    return price


def compare(call: WireCall, matches: list[Match], fork_model: str | None, price: Pricer | None) -> Compared:
    """The exchange's counts beside those of the record that says most of it: one with a cost, else tokens.
    `fork_model`: the model a fork's requests were rewritten to ask for (the manifest's origin), if any."""
    ranked = sorted(matches, key=lambda found: (found.event.cost_usd is None, found.event.input_tokens is None,
                                               found.event.kind != MODEL_CALL))  # fmt: skip
    best = ranked[0]
    event = best.event
    row = Compared(call.number, event.name, event.line, best.key or "", event.input_tokens,
                   call.input_tokens, event.output_tokens, call.output_tokens, event.cost_usd, call.cost_usd,
                   event.duration_ms, call.duration_ms, agent_cache_read=event.cache_read_tokens,
                   api_cache_read=call.cache_read_tokens, agent_cache_write=event.cache_write_tokens,
                   api_cache_write=call.cache_write_tokens, agent_ttft_ms=event.ttft_ms,
                   wire_first_byte_ms=call.first_byte_ms, counted=event.counted, agent_model=event.model,
                   wire_model=call.model, wire_cost=call.cost_usd)  # fmt: skip
    if event.model and call.model and event.model != call.model:
        if fork_model is not None and call.model == fork_model:
            row.rewritten = True
            row.our_cost = price(call, event.model) if price is not None else None
            row.notes.append(f"the fork rewrote the model: the agent asked for {event.model}, the wire sent "
                             f"{call.model}; our cost here is the wire's usage at {event.model}'s price")  # fmt: skip
        else:
            row.notes.append(f"the agent logged model {event.model}; the request named {call.model}")
    for what, agent, api in (("input tokens (cached included)", event.input_tokens, call.input_tokens),
                             ("cache read tokens", event.cache_read_tokens, call.cache_read_tokens),
                             ("cache write tokens", event.cache_write_tokens, call.cache_write_tokens),
                             ("output tokens", event.output_tokens, call.output_tokens)):  # fmt: skip
        if agent is not None and api is not None and agent != api:
            row.disagreements.append(
                f"the agent counted {agent:,} {what}; the API's usage says {api:,} ({agent - api:+,})"
            )
    if event.cost_usd is not None and row.our_cost is not None:
        agent_cost = Decimal(str(event.cost_usd))
        if abs(agent_cost - row.our_cost) > COST_SLACK:
            at = f" at {event.model}'s price" if row.rewritten else ""
            row.disagreements.append(
                f"the agent counted ${agent_cost:.6f}; the API's usage prices to ${row.our_cost:.6f}{at} "
                f"({agent_cost - row.our_cost:+.6f})"
            )
    return row
