"""Each compaction the agent logged, beside the request that carried it: the summarisation request whose answer
became the summary, found by the response id the agent names, else by the agent's own record of that request, else
by time."""

from typing import Any

from probe.analyse.account.timeline import Timeline
from probe.analyse.account.wire import WireCall
from probe.read.account.event import AccountEvent

SUMMARISING = "compact"  # the purpose Claude Code 2.1.330 logs on its summarisation request (query_source)
SLACK = 2.0  # seconds between the proxy's clock and the agent's
UNTIMED = 60.0  # seconds before a compaction that logged no duration within which its request may have begun


def summarising_call(
    event: AccountEvent, timeline: Timeline, of_call: dict[int, list[Any]]
) -> tuple[WireCall | None, str | None]:
    """The summarisation request of a compaction record, and the key that found it. `of_call`: each exchange's
    matches (probe.analyse.account.match.Match), not imported, so that the join's imports stay shallow."""
    if event.response_id and (call := timeline.by_response_id.get(event.response_id)) is not None:
        return call, "response id"
    if event.time is None:
        return None, None
    earliest = event.time - (event.duration_ms or 0) / 1000 - SLACK
    # The agent's own record of a summarisation request in the same prompt, matched to its exchange, before it.
    logged = [
        found.call
        for matches in of_call.values()
        for found in matches
        if found.event.purpose == SUMMARISING
        and found.call is not None
        and same_prompt(found.event, event)
        and found.call.end is not None
        and earliest <= found.call.end <= event.time + SLACK
    ]
    if logged:
        return max(logged, key=lambda call: call.end), "its summarisation request's record"
    # Else the answer that ended last before the record, begun within the time the compaction says it took (or
    # within a minute, where it does not say).
    before = timeline.last_ended(event.time + SLACK)
    began = earliest if event.duration_ms is not None else event.time - UNTIMED
    if before is not None and before.start is not None and before.start >= began:
        return before, "time"
    return None, None


def same_prompt(logged: AccountEvent, event: AccountEvent) -> bool:
    return not (logged.prompt and event.prompt and logged.prompt != event.prompt)
