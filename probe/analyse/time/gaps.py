"""Fills the holes of an agent's lane: time in the agent itself between one interval and the next, or, in an
interactive session, the user's before a typed prompt."""

from probe.analyse.time.spans import AGENT, MODEL, USER, Span

EPSILON = 0.0005  # seconds: holes shorter than the capture's clock can tell are none


def holes(lane: list[Span], start: float, user_before: dict[int, float | None]) -> list[Span]:
    """The gaps of one lane (its spans sorted by start), from `start` (before its first interval: the agent
    starting) to its last interval's end. `user_before`: the exchanges a user's typing led to, each with the moment
    the agent's own account says the prompt was submitted (None where it does not say)."""
    found: list[Span] = []
    if not lane:
        return found
    agent = lane[0].agent
    covered, before = start, None  # how far the lane is covered, and the exchange of the interval that got there
    for span in lane:
        if span.start > covered + EPSILON:
            after = span.exchanges[0]
            exchanges = (after,) if before is None else (before, after)
            typed = span.kind == MODEL and after in user_before and before is not None
            if typed:
                found.extend(typing(agent, covered, span.start, exchanges, user_before[after]))
            else:
                found.append(Span(agent, AGENT, "starting" if before is None else "working", covered, span.start,
                                  exchanges))  # fmt: skip
        if span.end > covered:
            covered, before = span.end, span.exchanges[-1]
    return found


def typing(agent: str, start: float, end: float, exchanges: tuple[int, ...], submitted: float | None) -> list[Span]:
    """The user's time before a prompt: to its submission where the account says when, the agent's after that."""
    if submitted is None or not start < submitted < end:
        return [Span(agent, USER, "typing", start, end, exchanges)]
    return [Span(agent, USER, "typing", start, submitted, exchanges),
            Span(agent, AGENT, "working", submitted, end, exchanges)]  # fmt: skip
