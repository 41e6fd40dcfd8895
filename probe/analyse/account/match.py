"""Matches the account's records of requests to the model exchanges on the wire: exact keys first (the API's
request id, the response id), then the session and time, naming the key that matched each."""

from collections import defaultdict

from probe.analyse.account.pairs import Match
from probe.analyse.account.timeline import Timeline
from probe.analyse.account.wire import WireCall
from probe.read.account.event import EXCHANGE_KINDS, REQUEST, AccountEvent

# Keys, as the report names them.
BY_REQUEST_ID, BY_RESPONSE_ID, BY_PROMPT_TIME, BY_SESSION_TIME, BY_TIME = (
    "request id", "response id", "prompt id and time", "session id and time", "time",
)  # fmt: skip
EARLY = 2.0  # seconds an agent may log a request before the proxy saw it begin
WINDOW = 120.0  # seconds between a record and its exchange beyond which they are not taken as one


def match_requests(events: list[AccountEvent], calls: list[WireCall]) -> list[Match]:
    """Each record of a request (a request, a model call, an error) with its exchange or none. Each name of record
    (api_request, api_response…) is matched on its own: an exchange takes at most one record of each."""
    by_name: dict[str, list[AccountEvent]] = defaultdict(list)
    for event in events:
        if event.kind in EXCHANGE_KINDS:
            by_name[event.name].append(event)
    matches, timeline = [], Timeline(calls)
    for group in by_name.values():
        matches += match_group(sorted(group, key=lambda event: event.time or 0.0), timeline)
    return matches


def match_group(events: list[AccountEvent], timeline: Timeline) -> list[Match]:
    taken: set[int] = set()
    by_request_id, by_response_id = timeline.by_request_id, timeline.by_response_id
    found: dict[int, Match] = {}
    for index, event in enumerate(events):
        exact = exact_match(event, by_request_id, by_response_id, taken)
        if exact is not None:
            taken.add(exact[0].number)
            found[index] = Match(event, *exact)
    ids_on_wire = bool(by_request_id)
    for index, event in enumerate(events):  # then by time, among the exchanges no exact key took
        if index not in found:
            # A request id the wire's exchanges would carry, found on none: that request did not pass the proxy.
            call = None if event.request_id and ids_on_wire else nearest(event, timeline, taken)
            if call is not None:
                taken.add(call.number)
            found[index] = Match(event, call, None if call is None else key_by_time(event, call))
    return [found[index] for index in range(len(events))]


def exact_match(event: AccountEvent, by_request_id, by_response_id, taken: set[int]) -> tuple[WireCall, str] | None:
    # A WebSocket's turns share the id its upgrade was answered with: the first not taken is the one.
    for call in by_request_id.get(event.request_id, []) if event.request_id else []:
        if call.number not in taken:
            return call, BY_REQUEST_ID
    call = by_response_id.get(event.response_id) if event.response_id else None
    if call is not None and call.number not in taken:
        return call, BY_RESPONSE_ID
    return None


def key_by_time(event: AccountEvent, call: WireCall) -> str:
    """The key a match by time was made within: the prompt's id or the session's where both sides name it."""
    if event.prompt and event.prompt == call.prompt:
        return BY_PROMPT_TIME
    return BY_SESSION_TIME if event.session and event.session == call.session else BY_TIME


def nearest(event: AccountEvent, timeline: Timeline, taken: set[int]) -> WireCall | None:
    """The exchange not yet taken, of the record's session where both name one, nearest the record in time: its
    start for a record of a request being sent, its end for one of an answer."""
    if event.time is None:
        return None
    answer = event.kind != REQUEST
    candidates = timeline.ending if answer else timeline.starting
    best, best_gap = None, WINDOW
    for call in candidates(event.time - WINDOW, event.time + (WINDOW if answer else EARLY)):
        if call.number in taken or call.start is None or call.start > event.time + EARLY:
            continue
        if event.session and call.session and event.session != call.session:
            continue
        if event.prompt and call.prompt and event.prompt != call.prompt:  # (a Code Assist body's user_prompt_id)
            continue
        moment = call.end if answer and call.end is not None else call.start
        gap = abs(event.time - moment)
        if gap < best_gap:
            best, best_gap = call, gap
    return best
