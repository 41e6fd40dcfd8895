"""The join: the account's records read from telemetry.jsonl, matched to the run's model exchanges, compared with
the API's usage and our cost, with the prompts, tool decisions and compactions beside the requests they concern,
and every record or exchange left unmatched named as a finding."""

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from probe.analyse.account.compactions import summarising_call
from probe.analyse.account.compare import compare, pricer
from probe.analyse.account.match import match_requests
from probe.analyse.account.pairs import Compared, Match
from probe.analyse.account.timeline import Timeline
from probe.analyse.account.totals import TotalRow, total_rows
from probe.analyse.account.wire import WireCall, WireCalls
from probe.analyse.prices import PriceBook
from probe.read.account.event import (
    COMPACTION,
    EXCHANGE_KINDS,
    PROMPT,
    TOOL_DECISION,
    TOOL_RESULT,
    AccountEvent,
)
from probe.read.account.lines import AccountReading, read_account
from probe.read.account.transcript import read_transcript

TELEMETRY = "telemetry.jsonl"
TRANSCRIPT = "transcript.jsonl"
PROMPTS_KEPT = 10_000  # typed prompts of the transcript held to complete the telemetry's
EVENTS_KEPT = 200_000  # account records the join holds; beyond, the rest are counted, not joined
LAST_TOOL_WINDOW = 86_400.0  # seconds after the last answer within which a tool record still belongs to it
NUMBERS_KEPT = 1_000  # exchanges listed for one prompt


@dataclass
class Beside:
    """A prompt, tool record or compaction, and the exchanges it concerns."""

    event: AccountEvent
    numbers: list[int]
    key: str | None = None
    waited_ms: float | None = None  # a tool decision: from the answer asking for the call to the decision


@dataclass
class AccountJoin:
    state: str  # on, off, none, absent (an older run), missing (said on, but no file)
    why: str | None = None
    reading: AccountReading = field(default_factory=AccountReading)
    events: int = 0
    events_left_out: int = 0
    exchanges: int = 0
    matched: dict[str, Counter] = field(default_factory=dict)  # record name -> key -> count (None: unmatched)
    compared: list[Compared] = field(default_factory=list)
    totals: list[TotalRow] = field(default_factory=list)  # the agent's metrics, summed, beside the wire's
    totals_left_out: int = 0
    fork_model: str | None = None  # the model a fork's requests were rewritten to ask for
    prompts: list[Beside] = field(default_factory=list)
    tools: list[Beside] = field(default_factory=list)
    compactions: list[Beside] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    unmatched_events: list[AccountEvent] = field(default_factory=list)  # records of a request with no exchange
    unmatched_exchanges: list[int] = field(default_factory=list)  # exchanges no record matched

    @property
    def matched_exchanges(self) -> int:
        return len(self.compared)

    @property
    def records(self) -> int:
        """Every record of telemetry.jsonl, as the manifest counts them."""
        return self.reading.records


def account_state(manifest: dict | None) -> tuple[str, str | None]:
    """The manifest's word on the agent's telemetry: on, off or none, and why; absent for an older run."""
    account = manifest.get("account") if isinstance(manifest, dict) else None
    telemetry = account.get("telemetry") if isinstance(account, dict) else None
    if not isinstance(telemetry, dict):
        return "absent", None
    state = telemetry.get("state")
    why = telemetry.get("why") if isinstance(telemetry.get("why"), str) else None
    return (state, why) if state in ("on", "off", "none") else ("absent", None)


def fork_model(manifest: dict | None) -> str | None:
    """The model a fork asked for after its fork point (the manifest's origin), if it was told one."""
    origin = manifest.get("origin") if isinstance(manifest, dict) else None
    if isinstance(origin, dict) and origin.get("kind") == "fork" and isinstance(origin.get("model"), str):
        return origin["model"][:200]
    return None


def join_account(folder: Path, manifest: dict | None, wire: WireCalls, book: PriceBook | None = None) -> AccountJoin:
    """The account in `folder`'s telemetry.jsonl joined to the exchanges `wire` kept; the manifest names the target
    (and a fork's model); `book` prices an exchange's usage at the model the agent asked for, where a fork
    rewrote it."""
    price = pricer(book) if book is not None else None
    state, why = account_state(manifest)
    target = manifest.get("target") if isinstance(manifest, dict) else None
    target = target if isinstance(target, str) else ""
    path = folder / TELEMETRY
    if not path.is_file():
        # The transcript's compactions still have their requests: codex logs them to its rollout only.
        joined = AccountJoin("missing" if state == "on" else state, why)
        if (folder / TRANSCRIPT).is_file():
            kept = itertools.islice(read_transcript(folder / TRANSCRIPT, joined.reading), PROMPTS_KEPT)
            place_compactions(joined, [event for event in kept if event.kind == COMPACTION], Timeline(wire.calls), {})
        return joined
    joined = AccountJoin("on", why, exchanges=len(wire.calls), fork_model=fork_model(manifest))
    events = []
    for event in read_account(path, target, joined.reading):
        joined.events += 1
        if len(events) < EVENTS_KEPT:
            events.append(event)
        else:
            joined.events_left_out += 1
    if (folder / TRANSCRIPT).is_file():
        events = with_transcript(events, read_transcript(folder / TRANSCRIPT, joined.reading))
    matches = match_requests(events, wire.calls)
    by_number = {call.number: call for call in wire.calls}
    of_call: dict[int, list[Match]] = defaultdict(list)
    for found in matches:
        joined.matched.setdefault(found.event.name, Counter())[found.key] += 1
        if found.call is None:
            joined.findings.append(no_exchange(found.event))
            joined.unmatched_events.append(found.event)
        else:
            of_call[found.call.number].append(found)
    if any(event.kind in EXCHANGE_KINDS for event in events):
        joined.unmatched_exchanges = [call.number for call in wire.calls if call.number not in of_call]
        joined.findings += [f"exchange #{number} has no record in the account" for number in joined.unmatched_exchanges]
    else:
        joined.findings.append(no_request_records(joined.reading))
    joined.compared = [compare(by_number[number], of_call[number], joined.fork_model, price)
                       for number in sorted(of_call)]  # fmt: skip
    joined.totals, joined.totals_left_out = total_rows(joined.reading.totals.totals(), wire.calls, joined.compared)
    place_beside(joined, events, wire.calls, of_call)
    return joined


def with_transcript(events: list[AccountEvent], typed: Iterable[AccountEvent]) -> list[AccountEvent]:
    """The telemetry's prompts completed by the transcript's: a prompt's text where the telemetry kept none (or only
    `<REDACTED>`), and the transcript's prompts the telemetry does not log at all; and the transcript's compactions,
    each beside the telemetry's own record of it, if any (they count differently: both are shown)."""
    by_id = {event.prompt: event for event in events if event.kind == PROMPT and event.prompt}
    added = []
    for prompt in itertools.islice(typed, PROMPTS_KEPT):
        if prompt.kind == COMPACTION:
            added.append(prompt)
            continue
        logged = by_id.get(prompt.prompt) if prompt.prompt else None
        if logged is None:
            added.append(prompt)
        elif not logged.text or logged.text == "<REDACTED>":
            logged.text = prompt.text
    return events + added


def no_request_records(reading: AccountReading) -> str:
    """Why no exchange can be matched, in one line: an agent that exports only metrics says so."""
    if not reading.metrics:
        return "the account holds no record of a request: none of its exchanges can be matched"
    services = ", ".join(f"{count:,} of {service}" for service, count in reading.metrics.most_common(3))
    return (f"the account holds only metrics ({services}): totals of the run, no record of each request, so none "
            "of its exchanges can be matched")  # fmt: skip


def no_exchange(event: AccountEvent) -> str:
    ids = ", ".join(f"{label} {value}" for label, value in (("request id", event.request_id),
                    ("response id", event.response_id), ("model", event.model)) if value)  # fmt: skip
    named = f"{event.name} (line {event.line}{', ' + ids if ids else ''})"
    return f"{named} has no exchange: a request that bypassed the proxy?"


def place_beside(joined: AccountJoin, events: list[AccountEvent], calls: list[WireCall], of_call) -> None:
    """Prompts tied to the exchanges their records name; tool records and compactions to the exchange they concern."""
    timeline = Timeline(calls)
    of_prompt: dict[str, set[int]] = defaultdict(set)
    for number, found_list in of_call.items():
        for found in found_list:
            if found.event.prompt:
                of_prompt[found.event.prompt].add(number)
    prompts = sorted((event for event in events if event.kind == PROMPT), key=lambda event: event.time or 0.0)
    for index, event in enumerate(prompts):
        if event.prompt:
            numbers = sorted(of_prompt.get(event.prompt, set()) | set(timeline.by_prompt.get(event.prompt, [])))
        elif event.time is not None:  # no id: the exchanges of its session after it, until the next prompt
            until = prompts[index + 1].time if index + 1 < len(prompts) else None
            following = timeline.starting(event.time, until if until is not None else float("inf"))
            numbers = sorted(call.number for call in following if same_session(event, call))
        else:
            numbers = []
        joined.prompts.append(Beside(event, numbers[:NUMBERS_KEPT]))
        if not numbers:
            joined.findings.append(
                " ".join(f"the prompt {event.prompt or ''} at line {event.line} has no request".split())
            )
    for event in events:
        if event.kind in (TOOL_DECISION, TOOL_RESULT):
            call, key = tool_call_of(event, timeline)
            waited = None
            if event.kind == TOOL_DECISION and call is not None and call.end is not None and event.time is not None:
                waited = max(0.0, (event.time - call.end) * 1000)
            joined.tools.append(Beside(event, [call.number] if call else [], key, waited))
    place_compactions(joined, [event for event in events if event.kind == COMPACTION], timeline, of_call)


def place_compactions(joined: AccountJoin, events: list[AccountEvent], timeline: Timeline, of_call) -> None:
    """Each compaction beside its summarisation request; one with none found is a finding."""
    for event in sorted(events, key=lambda event: event.time or 0.0):
        call, key = summarising_call(event, timeline, of_call)
        joined.compactions.append(Beside(event, [call.number] if call else [], key))
        if call is None:
            joined.findings.append(f"the compaction {event.name} at {event.source} line {event.line} has no request")


def same_session(event: AccountEvent, call: WireCall) -> bool:
    return not (event.session and call.session and event.session != call.session)


def tool_call_of(event: AccountEvent, timeline: Timeline) -> tuple[WireCall | None, str | None]:
    """The exchange whose answer asked for the tool: by the call's id, else the request id, else the last before."""
    if event.call_id and (call := timeline.asking(event.call_id)) is not None:
        return call, "call id"
    if event.request_id and timeline.by_request_id.get(event.request_id):
        return timeline.by_request_id[event.request_id][0], "request id"
    if event.time is None:
        return None, None
    # The answer that ended last before it, if the record falls before the next request (or within a day of the
    # answer, for the last one): a call is decided and run between the answer that asks and the request that answers.
    before = timeline.last_ended(event.time)
    if before is None:
        return None, None
    later = timeline.next_start(before.end)
    bound = later if later is not None else before.end + LAST_TOOL_WINDOW
    return (before, "time") if event.time <= bound else (None, None)
