"""The agent's own account joined to the wire, as records of insight.jsonl: one for the run, and one for each
exchange matched, record of a request left without an exchange, and exchange left without a record, and each
compaction the agent logged."""

from collections.abc import Iterator
from typing import Any

from probe.analyse.cost import number
from probe.write.account_compactions import compaction_records
from probe.write.account_totals import records_record


def account_records(joined: Any, schema: int) -> Iterator[dict]:
    """`joined`: the run's probe.analyse.account.join.AccountJoin, or None (not imported: this stays shallow)."""
    if joined is None:
        return
    yield {
        "record": "account", "schema": schema,
        "account": {"state": joined.state, "why": joined.why, "records": joined.records, "events": joined.events,
                    "read": records_record(joined), "fork_model": joined.fork_model, "exchanges": joined.exchanges,
                    "matched": joined.matched_exchanges, "findings": joined.findings,
                    "keys": {name: {str(key): count for key, count in counts.items()}
                             for name, counts in joined.matched.items()}},
    }  # fmt: skip
    for row in joined.compared:
        yield {
            "record": "account_exchange", "schema": schema, "number": row.number, "name": row.name, "line": row.line,
            "key": row.key, "disagreements": row.disagreements,
            "notes": row.notes, "counted": row.counted, "agent_model": row.agent_model, "model": row.wire_model,
            "rewritten": row.rewritten,
            "agent_count": {"input_tokens": row.agent_input, "uncached_input_tokens": row.agent_uncached,
                            "cache_read_tokens": row.agent_cache_read, "cache_write_tokens": row.agent_cache_write,
                            "output_tokens": row.agent_output, "cost_usd": row.agent_cost,
                            "ttft_ms": row.agent_ttft_ms, "duration_ms": row.agent_ms},
            "api_count": {"input_tokens": row.api_input, "uncached_input_tokens": row.api_uncached,
                          "cache_read_tokens": row.api_cache_read, "cache_write_tokens": row.api_cache_write,
                          "output_tokens": row.api_output, "cost_usd": number(row.our_cost),
                          "model_cost_usd": number(row.wire_cost),
                          "first_byte_ms": row.wire_first_byte_ms, "duration_ms": row.wire_ms},
        }  # fmt: skip
    for event in joined.unmatched_events:
        yield {
            "record": "account_exchange", "schema": schema, "number": None, "name": event.name, "line": event.line,
            "key": None, "disagreements": [],
            "agent_count": {"input_tokens": event.input_tokens, "cache_read_tokens": event.cache_read_tokens,
                            "cache_write_tokens": event.cache_write_tokens,
                            "output_tokens": event.output_tokens, "cost_usd": event.cost_usd,
                            "ttft_ms": event.ttft_ms, "duration_ms": event.duration_ms},
            "api_count": None,
        }  # fmt: skip
    for exchange in joined.unmatched_exchanges:
        yield {"record": "account_exchange", "schema": schema, "number": exchange, "name": None, "line": None,
               "key": None, "disagreements": [], "agent_count": None, "api_count": None}  # fmt: skip
    for row in joined.totals:
        yield {"record": "account_total", "schema": schema, "session": row.session, "model": row.model,
               "agent_count": row.agent, "api_count": row.wire, "disagreements": row.disagreements}  # fmt: skip
    yield from compaction_records(joined, schema)
