"""A captured name (a model's, a tool's, an agent's id) cut to a bounded length, with a note of how long it was."""

# Characters of a name kept in the records that name things (the time model's intervals, the agents): no API names
# a model, a tool or an agent with more, and a hostile capture's name of a megabyte would make every line that
# carries it as long (a Perfetto export reads an insight.jsonl line of at most 1 MB).
NAME_LIMIT = 200


def bounded_name(name: str, limit: int = NAME_LIMIT) -> str:
    """`name` as it is, or cut to `limit` characters that end in a note of its length: `mmm… (1,048,576
    characters)`. The same name is always cut the same way, so that records still join on it."""
    if len(name) <= limit:
        return name
    note = f"… ({len(name):,} characters)"
    return name[: limit - len(note)] + note


def bounded(name: str | None) -> str | None:
    """bounded_name, for a name that may be missing."""
    return None if name is None else bounded_name(name)
