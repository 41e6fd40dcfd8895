"""Fills the holes of an agent's lane: time in the agent itself between one interval and the next, or, in an
interactive session, the user's before a typed prompt; and a sub-agent's end, from its last answer to the moment its
parent went on."""

from probe.analyse.time.spans import AGENT, MODEL, SUB_AGENT, USER, Span

EPSILON = 0.0005  # seconds: holes shorter than the capture's clock can tell are none
TOGETHER = 0.001  # seconds: waits of one parent that ended this close ended at one request


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


def endings(spans: list[Span]) -> list[Span]:
    """Each sub-agent's `ending`: from its last answer to the end of the parent's wait that its end reached (the
    request that brought its result back), where its parent went on. Of the sub-agents whose waits ended together
    (parallel ones, their results in one request), only the one that finished last held its parent up: the others'
    ends are theirs, and their waits went on for it. A wait never answered ends no sub-agent."""
    last: dict[str, Span] = {}  # each agent's interval that ended last
    for span in spans:
        if span.agent not in last or span.end > last[span.agent].end:
            last[span.agent] = span
    reached: dict[str, Span] = {}  # each sub-agent's first wait that ended once it had ended
    for span in spans:
        child = last.get(span.child or "")
        if span.kind != SUB_AGENT or span.open or child is None or span.end < child.end - EPSILON:
            continue
        if span.child not in reached or span.end < reached[span.child].end:
            reached[span.child] = span
    found: list[Span] = []
    waits = sorted(reached.values(), key=lambda wait: (wait.agent, wait.end))
    group: list[Span] = []
    for wait in [*waits, None]:
        if group and (wait is None or wait.agent != group[0].agent or wait.end > group[-1].end + TOGETHER):
            held = max(group, key=lambda each: last[each.child].end)
            child = last[held.child]
            if held.end > child.end + EPSILON:
                found.append(Span(child.agent, AGENT, "ending", child.end, held.end,
                                  (child.exchanges[-1], held.exchanges[-1])))  # fmt: skip
            group = []
        if wait is not None:
            group.append(wait)
    return found
