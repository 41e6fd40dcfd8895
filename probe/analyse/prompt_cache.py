"""The prompt cache, turn by turn: how much of each request's input the API read from its cache and, where that
drops against the turn before in the same conversation, why, found by comparing the two requests' prefixes.

A drop is a cache break only where the cache read less than it could have: fewer tokens than the turn before is
known to have left in the cache (what it read, plus what it wrote where the API reports writes), from a request that
kept its whole prefix and its size; or, from a request that shrank (a compaction, another
agent's first request), fewer than the prefix it still shares with the turn before. A request that continues the
turn before whole yet counts fewer input tokens was counted by the server in another way (some count only the new
input of a continuation by response id): the capture cannot tell what the cache could read, and says so."""

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from probe.analyse.cache_lifetime import Lifetime, lifetime, marker_of
from probe.analyse.explicit_caches import ExplicitCaches
from probe.analyse.token_sums import spends
from probe.common.counting import counted
from probe.read.conversation import Turn
from probe.read.headers import header

# A conversation's requests are told apart by these headers, the first one sent: Claude Code's sub-agents send
# their own agent id, codex's threads their own thread id (probe notes; the main Claude Code session sends none).
THREAD_HEADERS = ("x-claude-code-agent-id", "thread-id")
CONVERSATIONS_KEPT = 256  # conversations remembered: memory stays bounded whatever a capture holds
SNIPPET = 40  # characters of changed text quoted in a cause
# The shared prefix's tokens are an estimate (probe.analyse.context): a turn that read this share of it read it all.
SHARED_READ = 0.9


class Split(Protocol):
    """What filled a turn's context (probe.analyse.context.Composition), as far as a cache's prefix needs it."""

    scaled_to: int | None

    def prefix(self, blocks: int | None = None, history: bool = False) -> int: ...


@dataclass
class Cause:
    """Why a cache broke, in one line: `template`'s `{}` filled with `values` (captured text: a writer escapes it)."""

    kind: str  # model, tools, instructions, breakpoint, history, compaction, lifetime, unseen or uncounted
    template: str
    values: tuple = ()


@dataclass
class CacheTurn:
    """One turn's use of the prompt cache."""

    number: int
    input: int | None  # input tokens, cached ones included
    cached: int | None  # of which read from the cache
    compared_with: int | None = None  # the turn before in its conversation
    cause: Cause | None = None  # set when the cached tokens dropped against that turn and the cache read less
    # than it could have: a cache break
    drop: Cause | None = None  # set when they dropped without a break: why, or that the capture cannot tell
    # The time from the end of the turn before (which last wrote or read the prefix) to this request, against the
    # lifetime that turn's provider and request gave the prefix; lapsed is None where either is unknown.
    since_s: float | None = None
    lifetime: Lifetime | None = None
    lapsed: bool | None = None
    rewritten: int | None = None  # input tokens written again because the cache had lapsed (a lifetime break)
    rewritten_usd: Decimal | None = None  # what writing them again cost (probe.analyse.cost.rewrite_cost)

    @property
    def hit_rate(self) -> float | None:
        if self.input is None or self.cached is None or self.input <= 0:
            return None
        return self.cached / self.input


@dataclass
class Prefix:
    """What a request's cached prefix is made of, as the next turn compares it (texts shared with the turn)."""

    number: int
    model: str | None
    tools: dict[tuple[str, str], str]  # (namespace, name) -> hash of the tool as sent
    blocks: list[tuple[str, str]]  # (type, text) of each instruction block
    markers: list[str]  # where the tools and instructions carry a cache marker
    # Items of the context this request sent (or continued by id). Not its answer: some agents re-send an answer
    # in another form (a plain message for streamed items), which must not read as an edited history.
    history: int
    input: int | None
    cached: int | None
    # What the cache is known to hold of this prefix once the turn is done: what it read, plus what it wrote where
    # the API reports writes (Anthropic's cache_creation). An API that reports no writes may have cached more, but
    # the capture cannot show it, so only what was read counts: no provider is blamed on a guess.
    held: int | None
    end: float | None  # seconds since the epoch
    lifetime: Lifetime


@dataclass
class PromptCache:
    """Fed each turn as the report streams past; keeps, per conversation, only the last turn's prefix."""

    turns: list[CacheTurn] = field(default_factory=list)
    prefixes: dict[int, Prefix] = field(default_factory=dict)  # by turn number, for turns continued by history
    latest: OrderedDict = field(default_factory=OrderedDict)  # conversation key -> its latest Prefix
    explicit: ExplicitCaches = field(default_factory=ExplicitCaches)  # the caches the agent made, fed by note_other

    def note_other(self, exchange) -> None:
        """An exchange that is no turn: one that made an explicit cache gives the lifetime of the turns naming it."""
        self.explicit.note(exchange)

    def add(self, turn: Turn, headers: list[tuple[str, str]], split: Split | None = None) -> CacheTurn | None:
        """This turn's cache figures, or None if it spent nothing (a token count, a failed request); `split`, what
        filled its context, tells how many tokens a prefix it shares with the turn before holds."""
        if not spends(turn):
            return None
        usage = turn.usage
        found = CacheTurn(turn.number, usage.input, usage.cache_read)
        key = conversation_key(turn, headers)
        before = self.turn_before(turn, key)
        prefix = prefix_of(turn, self.explicit)
        if before is not None and turn.carried is not None and turn.carried.by == "previous_response_id":
            # A request that continues a response by its id sends only what is new: the server kept the rest,
            # instructions and tools included, unless the request sends its own.
            prefix.tools = prefix.tools or before.tools
            prefix.blocks = prefix.blocks or before.blocks
            prefix.markers = prefix.markers or before.markers
            prefix.model = prefix.model or before.model
        timed(found, before, prefix, turn)
        if before is not None:
            found.compared_with = before.number
            if before.held and (found.cached or 0) < before.held:
                found.cause, found.drop = judged(cause_of_break(before, prefix, turn), before, found, split)
            if found.cause is not None and found.cause.kind == "lifetime":
                found.rewritten = rewritten(turn, before.held - (found.cached or 0))
        self.remember(key, prefix)
        self.turns.append(found)
        return found

    def turn_before(self, turn: Turn, key: tuple) -> Prefix | None:
        """The turn this one continues: the one whose history it re-sends or whose response it continues, else
        the latest of its conversation with the same model (an agent's side requests use other models)."""
        if turn.carried is not None and turn.carried.source in self.prefixes:
            return self.prefixes[turn.carried.source]
        latest = self.latest.get(key)
        return latest if latest is not None and latest.model == turn.model else None

    def remember(self, key: tuple, prefix: Prefix) -> None:
        self.latest[key] = prefix
        self.latest.move_to_end(key)
        self.prefixes[prefix.number] = prefix
        while len(self.latest) > CONVERSATIONS_KEPT:
            self.latest.popitem(last=False)
        while len(self.prefixes) > CONVERSATIONS_KEPT:
            self.prefixes.pop(next(iter(self.prefixes)))

    def totals(self) -> tuple[int, int, int]:
        """Input tokens and cached tokens summed over the turns that reported both, and how many did."""
        both = [turn for turn in self.turns if turn.input is not None and turn.cached is not None]
        return sum(turn.input for turn in both), sum(turn.cached for turn in both), len(both)

    def rewrites(self) -> tuple[int, int, Decimal | None, int]:
        """Over the turns that wrote their prefix again after the cache lapsed: how many, the tokens they wrote, what
        that cost (None if no such turn was priced), and how many have no price."""
        lapsed = [turn for turn in self.turns if turn.rewritten is not None]
        priced = [turn.rewritten_usd for turn in lapsed if turn.rewritten_usd is not None]
        usd = sum(priced, Decimal(0)) if priced else None
        return len(lapsed), sum(turn.rewritten for turn in lapsed), usd, len(lapsed) - len(priced)

    def breaks(self) -> list[CacheTurn]:
        return [turn for turn in self.turns if turn.cause is not None]


def timed(found: CacheTurn, before: Prefix | None, now: Prefix, turn: Turn) -> None:
    """Set the time since the prefix's lifetime began and whether it passed it, where both are known: since the turn
    before (which last wrote or read it), against that turn's lifetime; or, for a cache whose lifetime counts from a
    moment of its own (an explicit cache), since that moment, whether or not a turn before read it."""
    life, origin = lifetime_and_origin(before, now)
    found.lifetime = life
    if origin is None or turn.timing.start is None or life is None:
        return
    found.since_s = round(turn.timing.start - origin, 3)
    if life.seconds is not None:
        found.lapsed = found.since_s > life.seconds


def lifetime_and_origin(before: Prefix | None, now: Prefix) -> tuple[Lifetime | None, float | None]:
    """The lifetime that governs the prefix `now` reads, and the moment it counts from."""
    if now.lifetime.since is not None:
        return now.lifetime, now.lifetime.since
    if before is None:
        return None, None
    if before.lifetime.since is not None:  # the turn before read an explicit cache this turn does not name
        return now.lifetime, before.end
    return before.lifetime, before.end


def rewritten(turn: Turn, lost: int) -> int | None:
    """Input tokens written again after a lapse: of the `lost` tokens the cache held before and did not give back, those
    written again, the cache writes where the API reports them, else (an API that reports none caches what it read
    anew) the input the cache did not read. The new tail the turn would have written anyway is not counted."""
    usage = turn.usage
    if usage.cache_write is not None:
        return min(usage.cache_write, lost)
    if usage.input is None:
        return None
    return min(max(usage.input - (usage.cache_read or 0), 0), lost)


def conversation_key(turn: Turn, headers: list[tuple[str, str]]) -> tuple:
    thread = next((header(headers, name) for name in THREAD_HEADERS if header(headers, name)), None)
    return (turn.api, turn.proxy, thread)


def prefix_of(turn: Turn, explicit: ExplicitCaches | None = None) -> Prefix:
    markers = [f"tool {tool.name}" for tool in turn.tools if marker_of(tool.metadata)]
    markers += [f"instruction block {index}" for index, block in enumerate(turn.system, 1) if marker_of(block.metadata)]
    end = None
    if turn.timing.start is not None:
        end = turn.timing.start + (turn.timing.duration_ms or 0) / 1000
    return Prefix(
        number=turn.number,
        model=turn.model,
        tools={(tool.namespace, tool.name): tool.hash for tool in turn.tools},
        blocks=[(block.type, block.text) for block in turn.system],
        markers=markers,
        history=(turn.carried.items if turn.carried and turn.carried.by == "previous_response_id" else 0)
        + turn.input_count,
        input=turn.usage.input if turn.usage else None,
        cached=turn.usage.cache_read if turn.usage else None,
        held=held_after(turn),
        end=end,
        lifetime=lifetime(turn, explicit),
    )


def held_after(turn: Turn) -> int | None:
    """Tokens the cache is known to hold of the turn's prefix after it: read, plus written where reported."""
    usage = turn.usage
    if usage is None or (usage.cache_read is None and usage.cache_write is None):
        return None
    return (usage.cache_read or 0) + (usage.cache_write or 0)


def cause_of_break(before: Prefix, now: Prefix, turn: Turn) -> Cause:
    """The first difference between the two prefixes, in the order a cache reads them: model, tools,
    instructions and their cache markers, history; then the time between the turns."""
    if before.model != now.model:
        return Cause("model", "the model changed from {} to {}", (before.model or "none", now.model or "none"))
    tools = tool_changes(before.tools, now.tools)
    if tools:
        return Cause("tools", "the tool set changed: {}", (tools,))
    instructions = block_change(before.blocks, now.blocks)
    if instructions is not None:
        return instructions
    if before.markers != now.markers:
        return Cause(
            "breakpoint",
            "a cache breakpoint moved: {} before, {} now",
            (", ".join(before.markers) or "none", ", ".join(now.markers) or "none"),
        )
    carried = turn.carried.items if turn.carried is not None and turn.carried.source == before.number else 0
    if carried < before.history and now.history <= carried:
        return Cause(
            "history",
            f"the request re-sends only the first {carried:,} of the {counted(before.history, 'history item')} of "
            "#{}",
            (before.number,),
        )
    if carried < before.history and now.history < before.history:
        # The history was replaced from an item on by a shorter one: a summary in place of the conversation.
        kept = "none kept" if not carried else "the first kept" if carried == 1 else f"the first {carried:,} kept"
        return Cause(
            "compaction",
            f"compaction: the {counted(before.history, 'history item')} of #{{}} were replaced by {now.history:,} "
            f"({kept})",
            (before.number,),
        )
    if carried < before.history:
        return Cause(
            "history",
            "history item {} of #{} was edited or removed (compaction)",
            (carried + 1, before.number),
        )
    life, origin = lifetime_and_origin(before, now)
    if life is not None and origin is not None and turn.timing.start is not None and life.seconds is not None:
        gap = turn.timing.start - origin
        if gap > life.seconds:
            # Durations are this project's own words, so they go into the template; values are captured text.
            since = "#{}" if life.cache is None else "{} was made or its ttl last set"
            return Cause(
                "lifetime",
                f"{duration(gap)} since {since}, past the cache's {duration(life.seconds)} lifetime",
                (before.number if life.cache is None else life.cache,),
            )
    return Cause("unseen", "the requests' prefixes match: the provider dropped or missed the cache", ())


def judged(cause: Cause, before: Prefix, turn: CacheTurn, split: Split | None) -> tuple:
    """(the break, None) where the cache read less than it could have; else (None, why the cached tokens dropped).
    A request that kept its size is judged against what the turn before read; one that shrank, against the prefix
    it shares with it."""
    if turn.input is None or before.input is None or turn.input >= before.input:
        return cause, None
    if cause.kind in ("unseen", "lifetime"):
        return None, Cause(
            "uncounted",
            f"the request continues all of #{{}}, yet the server counted {turn.input:,} input tokens after "
            f"{before.input:,}: it counts only what is new, so the capture cannot tell what the cache could read",
            (before.number,),
        )
    shared = shared_tokens(cause, split)
    if shared is None:
        return None, Cause(cause.kind, cause.template + "; the capture cannot tell how much of it the cache could read",
                           cause.values)  # fmt: skip
    cached = turn.cached or 0
    if cached >= SHARED_READ * shared:
        note = (f"; the request shrank, and the cache read {cached:,} of the ~{shared:,} tokens it shares with "
                f"#{before.number}: all of them, near enough")  # fmt: skip
        return None, Cause(cause.kind, cause.template + note, cause.values)
    note = f"; the cache read {cached:,} of the ~{shared:,} tokens the request shares with #{before.number}"
    return Cause(cause.kind, cause.template + note, cause.values), None


def shared_tokens(cause: Cause, split: Split | None) -> int | None:
    """Tokens of the prefix the request shares with the turn before, estimated from what filled its context, in the
    order a cache reads them (tools, instructions, history); None where no split tells."""
    if cause.kind == "model":
        return 0  # a cache is the model's own
    if split is None or split.scaled_to is None:
        return None
    if cause.kind == "tools":
        return 0  # (which tools come first in a provider's prompt, the capture does not say)
    if cause.kind == "instructions":
        return split.prefix(blocks=cause.values[0] - 1)
    return split.prefix(history=cause.kind in ("history", "compaction"))


def tool_changes(before: dict, now: dict) -> str:
    def name(key: tuple[str, str]) -> str:
        return f"{key[0]}.{key[1]}" if key[0] else key[1]

    added = [f"+{name(key)}" for key in now if key not in before]
    removed = [f"-{name(key)}" for key in before if key not in now]
    changed = [f"{name(key)} changed" for key in now if key in before and before[key] != now[key]]
    return ", ".join(added + removed + changed)


def block_change(before: list, now: list) -> Cause | None:
    for index, (old, new) in enumerate(zip(before, now), start=1):
        if old != new:
            at = first_difference(old[1], new[1])
            return Cause(
                "instructions", "instruction block {} changed at {}", (index, new[1][at : at + SNIPPET] or "its end")
            )
    if len(before) != len(now):
        index = min(len(before), len(now)) + 1
        verb = "added" if len(now) > len(before) else "removed"
        return Cause("instructions", f"instruction block {{}} was {verb}", (index,))
    return None


def first_difference(old: str, new: str) -> int:
    """Where two texts first differ, moved back to the start of that word so that a quote reads well."""
    at = next((index for index, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    if at < len(new):  # (at the end of the new text, there is no word to quote)
        while at > 0 and not new[at - 1].isspace():
            at -= 1
    return at


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
