"""The context window and the cache's time left as OTLP attributes, which the GenAI conventions do not name: each
model call's window, share and cache lifetime, each agent's peak and last share, and the run's headroom at the end,
from insight.jsonl's records. A figure the analysis does not know is left out, never sent as 0."""

from typing import Any

# The span attribute of each field of a turn's `window` record, of its `share`, and of its `cache` record.
TURN_WINDOW = {
    "tokens": "agent_probe.window.tokens",
    "source": "agent_probe.window.source",
    "effective": "agent_probe.window.effective",
    "note": "agent_probe.window.note",
}
TURN_CACHE = {
    "since_s": "agent_probe.cache.since_s",
    "lifetime_s": "agent_probe.cache.lifetime_s",
    "lifetime_source": "agent_probe.cache.lifetime_source",
    "lapsed": "agent_probe.cache.lapsed",
    "rewritten": "agent_probe.cache.rewritten_tokens",
    "rewritten_usd": "agent_probe.cache.rewritten_usd",
}
AGENT_WINDOW = {
    "model": "agent_probe.window.model",
    "tokens": "agent_probe.window.tokens",
    "source": "agent_probe.window.source",
    "peak_share": "agent_probe.window.peak_share",
    "peak_turn": "agent_probe.window.peak_turn",
    "last_share": "agent_probe.window.last_share",
    "last_turn": "agent_probe.window.last_turn",
}
RUN_WINDOW = {
    "model": "agent_probe.run.window.model",
    "tokens": "agent_probe.run.window.tokens",
    "source": "agent_probe.run.window.source",
    "headroom_tokens": "agent_probe.run.window.headroom_tokens",
    "headroom_share": "agent_probe.run.window.headroom_share",
}
RUN_CACHE = {
    "lapses": "agent_probe.run.cache.lapses",
    "rewritten": "agent_probe.run.cache.rewritten_tokens",
    "rewritten_usd": "agent_probe.run.cache.rewritten_usd",
}


def named(record: Any, names: dict[str, str]) -> dict[str, Any]:
    """The fields of `record` that hold a scalar, under their attribute names."""
    if not isinstance(record, dict):
        return {}
    return {
        name: record[field] for field, name in names.items() if isinstance(record.get(field), (str, bool, int, float))
    }


def turn_window_attributes(turn: dict) -> dict[str, Any]:
    """A model call's window, the share of it its input took, and its cache's time left (insight's turn record)."""
    attributes = named(turn.get("window"), TURN_WINDOW) | named(turn.get("cache"), TURN_CACHE)
    if isinstance(turn.get("share"), (int, float)) and not isinstance(turn.get("share"), bool):
        attributes["agent_probe.window.share"] = float(turn["share"])
    return attributes


def agent_window_attributes(agent: dict) -> dict[str, Any]:
    """How full an agent's context came to be against its main model's window (insight's agent record)."""
    return named(agent.get("window"), AGENT_WINDOW)


def run_window_attributes(run: dict) -> dict[str, Any]:
    """The headroom the main agent had left at the end, and the cache's lapses and what they wrote again."""
    return named(run.get("window"), RUN_WINDOW) | named(run.get("cache"), RUN_CACHE)
