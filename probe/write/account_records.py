"""The agent's own account joined to the wire, as records of insight.jsonl: one for the run, and one for each
exchange matched, record of a request left without an exchange, and exchange left without a record, and each
compaction the agent logged."""

from collections.abc import Iterator
from typing import Any

from probe.write.account_compactions import compaction_records


def account_records(joined: Any, schema: int) -> Iterator[dict]:
    """`joined`: the run's probe.analyse.account.join.AccountJoin, or None (not imported: this stays shallow)."""
    if joined is None:
        return
    yield {
        "record": "account", "schema": schema,
        "account": {"state": joined.state, "why": joined.why, "events": joined.events, "exchanges": joined.exchanges,
                    "matched": joined.matched_exchanges, "findings": joined.findings,
                    "keys": {name: {str(key): count for key, count in counts.items()}
                             for name, counts in joined.matched.items()}},
    }  # fmt: skip
    for row in joined.compared:
        yield {
            "record": "account_exchange", "schema": schema, "number": row.number, "name": row.name, "line": row.line,
            "key": row.key, "disagreements": row.disagreements,
            "agent_count": {"input_tokens": row.agent_input, "output_tokens": row.agent_output,
                            "cost_usd": row.agent_cost, "duration_ms": row.agent_ms},
            "api_count": {"input_tokens": row.api_input, "output_tokens": row.api_output,
                          "cost_usd": None if row.our_cost is None else float(row.our_cost),
                          "duration_ms": row.wire_ms},
        }  # fmt: skip
    for event in joined.unmatched_events:
        yield {
            "record": "account_exchange", "schema": schema, "number": None, "name": event.name, "line": event.line,
            "key": None, "disagreements": [],
            "agent_count": {"input_tokens": event.input_tokens, "output_tokens": event.output_tokens,
                            "cost_usd": event.cost_usd, "duration_ms": event.duration_ms},
            "api_count": None,
        }  # fmt: skip
    for exchange in joined.unmatched_exchanges:
        yield {"record": "account_exchange", "schema": schema, "number": exchange, "name": None, "line": None,
               "key": None, "disagreements": [], "agent_count": None, "api_count": None}  # fmt: skip
    yield from compaction_records(joined, schema)
