"""A count with its noun, in the number the count needs: "1 exchange", "2 exchanges", "1,204 entries"."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` (with thousands separated) and `noun`, or its `plural` (default: the noun and an s) when the count is
    not one."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
