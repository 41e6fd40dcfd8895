"""The slices of one interval of insight.jsonl's time model: its track's complete event, a model call's waiting and
streaming inside it, and an instant beside them that carries the interval's details."""

import math

NAME_LIMIT = 200  # characters of a captured name (a tool's, an agent's) kept in a slice's name


def cut(value, limit: int = NAME_LIMIT) -> str:
    """A captured name as a slice's text: a string, cut to `limit` characters."""
    text = value if isinstance(value, str) else "?" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def seconds(value) -> float | None:
    """An epoch time in seconds as insight.jsonl gives it, or None where it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def micros(value: float, origin: float) -> int:
    """Seconds since the epoch as whole microseconds since the run's start: the ends of parent and child slices
    are rounded alike, so a child never sticks out of its parent."""
    return round((value - origin) * 1_000_000)


def plain(value, depth: int = 0):
    """A value of a span kept for a slice's args: numbers, text (cut), lists and objects of them, shallow."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return cut(value)
    if depth < 2 and isinstance(value, list):
        return [plain(item, depth + 1) for item in value[:16]]
    if depth < 2 and isinstance(value, dict):
        return {cut(key, 60): plain(item, depth + 1) for key, item in list(value.items())[:16]}
    return None


ARGS = {  # what each kind's slice says in its args, besides the span's id, exchanges and whether it is critical
    "model": ("model", "tokens", "cost_usd", "cache_break", "compaction"),
    "tool": ("tool", "call_id", "open"),
    "sub_agent": ("call_id", "child", "child_name"),
    "user": (),
    "agent": (),
}


def slice_args(span: dict, kind: str) -> dict:
    """The args of an interval's slice: where it came from and, for a model call, its tokens, cost and cache."""
    named = {"model": span.get("name"), "tool": span.get("name"), "child_name": span.get("name")}
    args = {"span": plain(span.get("id")), "exchanges": plain(span.get("exchanges"))}
    for key in ARGS[kind]:
        args[key] = plain(named[key] if key in named else span.get(key))
    args["critical"] = span.get("critical") is True
    return args


def span_slices(span: dict, kind: str, pid: int, tid: int, times: tuple[int, int, int | None]) -> list[dict]:
    """The events of one interval on its lane (ts and dur in µs): its complete event, named by the model, the tool,
    the sub-agent, and for a model call with a first byte, `waiting` and `streaming` as its two children; then a
    `details` instant at its start with its args.

    No complete event carries args: speedscope names and keys a frame by its name and its args' JSON, so a call's
    id, tokens or cost in them made each call a frame of its own, which its Sandwich and Left Heavy views could not
    add up by model or tool. An instant is a mark of its own in Perfetto and chrome://tracing, which show its args
    when it is picked; speedscope reads only B, E and X events and leaves it out."""
    start, end, first_byte = times
    name = cut(span.get("name"))
    events = [{"ph": "X", "cat": kind, "name": name, "pid": pid, "tid": tid, "ts": start, "dur": end - start}]
    events.append({"ph": "i", "s": "t", "cat": kind, "name": "details", "pid": pid, "tid": tid, "ts": start,
                   "args": slice_args(span, kind)})  # fmt: skip
    if kind == "model" and first_byte is not None:
        events.append({"ph": "X", "cat": "model", "name": "waiting", "pid": pid, "tid": tid, "ts": start,
                       "dur": first_byte - start})  # fmt: skip
        events.append({"ph": "X", "cat": "model", "name": "streaming", "pid": pid, "tid": tid, "ts": first_byte,
                       "dur": end - first_byte})  # fmt: skip
    return events
