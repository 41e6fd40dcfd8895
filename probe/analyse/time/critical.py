"""The critical path: walking back from the interval that ended the run, each step to the interval that ended
last before it began, in its own lane first (a lane's intervals follow one another), into the sub-agent a parent
waited for, and from a sub-agent's first interval to its parent's (the answer that asked for it, where the sub-agent
started while it still streamed); and the stretch of the run each step stands for, which together tile the run from
its start to its end."""

import bisect

from probe.analyse.time.spans import MODEL, SUB_AGENT, Span

SLACK = 0.001  # seconds: an interval that ends this little after the next begins still came before it


class ByEnd:
    """One lane's intervals, sorted by end, to find the one that ended last by a moment."""

    def __init__(self, spans: list[Span]):
        self.spans = sorted(spans, key=lambda span: (span.end, -span.start))
        self.ends = [span.end for span in self.spans]

    def last_by(self, moment: float, other_than: Span | None = None) -> Span | None:
        """The interval that ended last at or before `moment` (of those that ended together, the longest: sorted
        last), other than `other_than`."""
        index = bisect.bisect_right(self.ends, moment + SLACK)
        while index > 0:
            index -= 1
            if self.spans[index] is not other_than:
                return self.spans[index]
        return None


def critical_path(lanes: dict[str, list[Span]], parents: dict[str, str | None]) -> list[Span]:
    """The chain of intervals that set the run's end, first to last."""
    by_end = {agent: ByEnd(spans) for agent, spans in lanes.items() if spans}
    asked = asking_calls(lanes)
    ends = [span for lane in by_end.values() for span in lane.spans[-1:]]
    if not ends:
        return []
    current: Span | None = max(ends, key=lambda span: (span.end, parents.get(span.agent) is None))
    path: list[Span] = []
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.kind == SUB_AGENT:
            waited = last_waited_for(current, by_end)
            if waited is not None and id(waited) not in seen:
                current = waited
                continue
        path.append(current)
        current = predecessor(current, by_end, parents, asked)
    path.reverse()
    return path


def last_waited_for(wait: Span, by_end: dict[str, ByEnd]) -> Span | None:
    """The last interval of the sub-agent that finished last of those its parent waited for together with `wait`
    (parallel sub-agents whose waits ended at one request)."""
    lane = by_end[wait.agent]
    low = bisect.bisect_left(lane.ends, wait.end - SLACK)
    high = bisect.bisect_right(lane.ends, wait.end + SLACK)
    together = [span for span in lane.spans[low:high] if span.kind == SUB_AGENT and span.child in by_end]
    lasts = [by_end[span.child].last_by(span.end) for span in together or [wait] if span.child in by_end]
    return max((span for span in lasts if span is not None), key=lambda span: span.end, default=None)


def predecessor(span: Span, by_end: dict[str, ByEnd], parents: dict[str, str | None],
                asked: dict[str, Span]) -> Span | None:  # fmt: skip
    """The interval before `span` on the path: in its lane, else (a sub-agent's first) in its parent's: the answer
    that asked for the sub-agent if it was still streaming when the sub-agent began (codex starts one as the call
    streams in), else the parent's interval that ended last by then."""
    found = by_end[span.agent].last_by(span.start, span)
    if found is not None and found.end <= span.start + SLACK:
        return found
    asking = asked.get(span.agent)
    if asking is not None and asking.start < span.start < asking.end - SLACK:
        return asking
    parent = parents.get(span.agent)
    if parent is not None and parent in by_end:
        return by_end[parent].last_by(span.start)
    return None


def asking_calls(lanes: dict[str, list[Span]]) -> dict[str, Span]:
    """Each sub-agent's parent's model call whose answer asked for it: the one its first wait came from."""
    models = {span.exchanges[0]: span for lane in lanes.values() for span in lane if span.kind == MODEL}
    found: dict[str, Span] = {}
    for lane in lanes.values():
        for span in sorted(lane, key=lambda span: span.start):
            if span.kind == SUB_AGENT and span.child and span.child not in found and span.exchanges[0] in models:
                found[span.child] = models[span.exchanges[0]]
    return found


def stretches(path: list[Span], start: float, end: float) -> list[tuple[float, float]]:
    """The stretch of `start`..`end` each step of the path stands for: from when it began (the first from `start`)
    to when the next began (the last to `end`). They tile the run, each moment on one step: where a step began a
    little before the one before it ended (within the clock's slack), the moments go to the later one; where it
    began after, the moments between (none an interval of the path covers) go to the step before."""
    found: list[tuple[float, float]] = []
    begin = start
    for after in [*path[1:], None]:
        finish = end if after is None else min(max(after.start, begin), end)
        found.append((begin, finish))
        begin = finish
    return found
