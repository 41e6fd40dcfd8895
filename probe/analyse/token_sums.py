"""Sums a run's token counts by normalised kind, counting how many turns reported each: a count an API did not
send is absent, never a zero, so every sum says how many turns it covers."""

from dataclasses import dataclass, field

from probe.common.counting import counted
from probe.read.conversation import Turn, Usage

# The normalised kinds (probe.read.conversation.Usage), with the words a report uses for them.
KINDS = {"input": "input", "cache_read": "cache read", "cache_write": "cache write", "output": "output",
         "reasoning": "reasoning"}  # fmt: skip


def spends(turn: Turn) -> bool:
    """Whether the turn's usage was spent on an answer: output, a stop reason or a response id. A token count
    (count_tokens, countTokens) reports usage too, but counting is not spending."""
    return turn.usage is not None and bool(turn.output or turn.stop_reason is not None or turn.response_id)


@dataclass
class TokenSums:
    """Each kind's sum over the turns that reported it, and how many did, out of the turns with usage."""

    turns: int = 0  # turns whose usage counts (see `spends`)
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    reported: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, turn: Turn) -> None:
        if not spends(turn):
            return
        self.add_usage(turn.usage)

    def add_usage(self, usage: Usage) -> None:
        self.turns += 1
        for kind in KINDS:
            count = getattr(usage, kind)
            if count is not None:
                self.sums[kind] += count
                self.reported[kind] += 1

    def described(self) -> str:
        """`3 turns with usage: input 1,237, output 287, reasoning 80 (2 of the 3); not reported: cache write`: a
        kind every turn with usage reported is summed plainly, one some reported says how many, one none did is
        named."""
        if not self.turns:
            return "none reported"
        shown, missing = [], []
        for kind, words in KINDS.items():
            count = self.reported[kind]
            if not count:
                missing.append(words)
            elif count == self.turns:
                shown.append(f"{words} {self.sums[kind]:,}")
            else:
                shown.append(f"{words} {self.sums[kind]:,} ({count} of the {self.turns})")
        text = f"{counted(self.turns, 'turn')} with usage"
        text += f": {', '.join(shown)}" if shown else ""
        return text + (f"; not reported: {', '.join(missing)}" if missing else "")
