"""Each compaction against its window: found on the wire (a request that asked for a summary of the conversation, an
answer that holds a compaction, a request whose history was replaced by a shorter one) or in the agent's own
account, with the share of its window the agent had filled at the last turn before it and at the first turn after.

Turns are told apart by agent and model: a compaction is measured against the model that summed up, so that a
title request on a small model between two turns of the main one is neither its turn before nor its turn after."""

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from probe.analyse.prices import MODEL_NAME_LIMIT
from probe.analyse.token_sums import spends
from probe.read.conversation import Turn

# How each compaction was found. The markers: Claude Code's summarising request ends with a user message that asks
# for a <summary> block (2.1.330, as its /compact sends it), gemini-cli's chat compression with one that asks for a
# <state_snapshot> (its compression prompt); codex's remote compaction sends an input that ends with
# a `compaction_trigger` item (0.169.0), answered by a `compaction` item, as Anthropic's server-side compaction
# answers with a `compaction` block. Any agent that summarises without a marker (or whose summarising request the
# capture lacks) is seen in the request after: its history replaced by a shorter one.
SUMMARY_ASKED = "a request asking for a summary block"
TRIGGER_SENT = "a compaction_trigger item"
COMPACTION_ANSWERED = "a compaction in the answer"
SHORTER_HISTORY = "a shorter history"
ACCOUNT = "the agent's account"
SUMMARY_TAGS = ("<summary>", "<state_snapshot>")
# A request for a summary block names the block and asks for a summary outside it: Claude Code's "create a detailed
# summary of the conversation … <summary>", gemini-cli's "generate the <state_snapshot>"; a prompt that merely holds
# the tag (an HTML <details><summary> block) asks for none.
SUMMARY_WORDS = re.compile(r"summar|generate the <state_snapshot>", re.IGNORECASE)
TAG_TEXT = re.compile(r"</?summary>", re.IGNORECASE)
TRIGGER = "compaction_trigger"
COMPACTION = "compaction"
TURNS_KEPT = 200_000  # turns remembered for the compactions' turns before and after; a longer capture's rest is not
HISTORIES_KEPT = 256  # conversations whose last history length is remembered: memory stays bounded


@dataclass(frozen=True)
class Seen:
    """One turn as a compaction needs it: its agent and model, its input, and its window and share (None: unknown)."""

    number: int
    agent: str
    model: str
    input: int | None  # None: the turn spent nothing (a failed request), never a compaction's turn before or after
    tokens: int | None
    share: float | None


@dataclass
class Compaction:
    """One compaction: the request that summed up (where one is known), the agent's last turn before it on that
    model and its first turn after, and how it was found."""

    agent: str
    model: str
    found_by: list[str]
    request: int | None = None
    before: Seen | None = None
    after: Seen | None = None

    def to_json(self) -> dict:
        before, after = self.before, self.after
        window = after or before
        return {"agent": self.agent, "model": self.model, "request": self.request,
                "trigger_turn": before and before.number, "tokens_before": before and before.input,
                "share_before": before and before.share,
                "after_turn": after and after.number, "tokens_after": after and after.input,
                "share_after": after and after.share,
                "window": window and window.tokens, "found_by": self.found_by}  # fmt: skip


@dataclass
class Compactions:
    """Fed each turn with its headers, agent and window as the run streams past; finished with the agent's account."""

    seen: list[Seen] = field(default_factory=list)
    marked: dict[int, list[str]] = field(default_factory=dict)  # summarising requests found on the wire
    shorter: set[int] = field(default_factory=set)  # turns whose history replaced a longer one
    histories: OrderedDict = field(default_factory=OrderedDict)  # conversation -> (turn, history items)
    left_out: int = 0  # turns past TURNS_KEPT
    found: list[Compaction] = field(default_factory=list)

    def add(self, turn: Turn, conversation: tuple, agent: str, window) -> None:
        """`conversation`: the turn's conversation as the prompt cache tells them apart (its conversation_key, not
        imported here, which would stack the cache's modules under this one's); `window`: the turn's
        probe.analyse.window.fill.TurnWindow."""
        if not turn.model or len(turn.model) > MODEL_NAME_LIMIT:  # (a name no model has is not kept 200,000 times)
            return
        if len(self.seen) >= TURNS_KEPT:  # (the markers and shorter histories past them would have no turns to pair)
            self.left_out += 1
            return
        markers = wire_markers(turn)
        if markers:
            self.marked[turn.number] = markers
        if spends(turn) and self.shrank(turn, conversation, agent):
            self.shorter.add(turn.number)
        spent = window.input if spends(turn) else None
        self.seen.append(Seen(turn.number, agent, turn.model, spent, window.tokens, window.share))

    def shrank(self, turn: Turn, conversation: tuple, agent: str) -> bool:
        """Whether the request's history replaced a longer one of the same agent, model, conversation and tools (a
        side request that sends no tools, or other tools, is a conversation of its own) with a shorter one."""
        tools = tuple(sorted((tool.namespace, tool.name) for tool in turn.tools))
        key = (agent, turn.model, conversation, hash(tools))
        carried = turn.carried
        history = (carried.items if carried and carried.by == "previous_response_id" else 0) + turn.input_count
        before = self.histories.pop(key, None)
        self.histories[key] = (turn.number, history)
        if len(self.histories) > HISTORIES_KEPT:
            self.histories.popitem(last=False)
        if before is None:
            return False
        # As the prompt cache names it: a history that re-sends only a first part of the one before was cut (an edit,
        # a rewind), one with something new after what it kept was compacted.
        kept = carried.items if carried is not None and carried.source == before[0] else 0
        # (a history of one item is a conversation started afresh, Claude Code's /clear: nothing was summed up)
        return kept < history < before[1] and history > 1

    def finish(self, account) -> list[Compaction]:
        """Pair each compaction with its turns; `account`, the agent's own account joined to the requests
        (probe.analyse.account.join.AccountJoin, not imported: the join's readers stay out of this stage's imports),
        adds the summarising requests it names."""
        marked = {number: list(found) for number, found in self.marked.items()}
        for beside in getattr(account, "compactions", None) or []:  # (one compaction may be logged twice)
            if beside.numbers and ACCOUNT not in marked.setdefault(beside.numbers[0], []):
                marked[beside.numbers[0]].append(ACCOUNT)
        last: dict[tuple[str, str], Seen] = {}  # by agent and model: its last turn that spent
        pending: dict[tuple[str, str], Compaction] = {}  # a summarising request still waiting for its turn after
        self.found = []
        for seen in self.seen:
            key = (seen.agent, seen.model)
            if seen.number in marked:
                if key in pending:  # a second summarising request before any turn after: the same compaction
                    pending[key].found_by += [how for how in marked[seen.number] if how not in pending[key].found_by]
                    continue
                before = last.get(key) or (seen if seen.input is not None else None)
                pending[key] = Compaction(seen.agent, seen.model, marked[seen.number], seen.number, before)
                self.found.append(pending[key])
                continue
            if seen.number in self.shorter and key not in pending and dropped(last.get(key), seen):
                self.found.append(Compaction(seen.agent, seen.model, [SHORTER_HISTORY], None, last.get(key), seen))
            elif seen.input is not None and key in pending:
                pending.pop(key).after = seen
            if seen.input is not None:
                last[key] = seen
        return self.found

    def shares(self) -> dict[int, float | None]:
        """Each turn's share of its window by number (None: the window is unknown), for the turns that reported their
        input, of the first TURNS_KEPT."""
        return {seen.number: seen.share for seen in self.seen if seen.input is not None}

    def of_agent(self, agent: str) -> list[Compaction]:
        return [compaction for compaction in self.found if compaction.agent == agent]


def dropped(before: Seen | None, after: Seen) -> bool:
    """Whether a shorter history took less input than the turn before it (where both reported theirs): a history cut
    and added to that grew is no compaction."""
    return before is None or before.input is None or after.input is None or after.input < before.input


def asks_for_summary(part) -> bool:
    """Whether a text part asks for a summary block: it names the block, and asks for a summary outside the tag."""
    text = part.text if part.kind == "text" and isinstance(part.text, str) else ""
    return any(tag in text for tag in SUMMARY_TAGS) and SUMMARY_WORDS.search(TAG_TEXT.sub("", text)) is not None


def wire_markers(turn: Turn) -> list[str]:
    """How the request shows itself as a summarising request, or its answer as a compaction: none for any other."""
    found = []
    newest = turn.input[-1] if turn.input else None
    if newest is not None and newest.role == "user" and any(asks_for_summary(part) for part in newest.parts):
        found.append(SUMMARY_ASKED)
    if newest is not None and newest.type == TRIGGER:
        found.append(TRIGGER_SENT)
    if any(item.type == COMPACTION or any(part.type == COMPACTION for part in item.parts) for item in turn.output):
        found.append(COMPACTION_ANSWERED)
    return found
