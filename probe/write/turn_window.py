"""What turns.jsonl carries of the analysis beside each turn as the wire gave it: its context window and the share
of it the input took, and how long its cache prefix had been idle against its provider's lifetime."""

CACHE_FIELDS = ("since_s", "lifetime_s", "lifetime_source", "lapsed")


def window_fields(insight: dict) -> dict:
    """`window`, `share` and `cache` for a turn's line, from its insight record (probe.write.insight_lines): null
    where the analysis knows nothing of them (a turn that spent nothing has no cache; a model no table knows has a
    window of null tokens)."""
    cache = insight.get("cache")
    return {
        "window": insight.get("window"),
        "share": insight.get("share"),
        "cache": None if not isinstance(cache, dict) else {name: cache.get(name) for name in CACHE_FIELDS},
    }
