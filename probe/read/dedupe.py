"""What repeats from one request to the next: a re-sent history, a response continued by its id, a value seen
before, and what changed in a mapping or a text. The report's words for it are in probe.apis.said_once."""

import difflib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RECENT_REQUESTS = 8  # earlier requests searched for a shared history; conversations rarely interleave more
RECENT_RESPONSES = 32  # responses a later request may still continue by id
# Items kept across those recent histories and contexts, the newest always whole: a long session re-sends a few
# thousand, but hostile requests of 10,000 tiny items each (as many as a history is read of: probe.read.thinning)
# must not be kept 8 or 32 times over, or memory would grow with the capture rather than with its largest exchange.
RECENT_ITEMS = 1 << 15


def within_budget(sizes: list[int]) -> int:
    """How many of the newest entries (sizes given oldest first) fit in RECENT_ITEMS; never fewer than one."""
    kept, total = 0, 0
    for size in reversed(sizes):
        total += size
        if kept and total > RECENT_ITEMS:
            break
        kept += 1
    return kept


def trim(recent: deque, size: Callable[[Any], int]) -> None:
    """Drop the oldest entries of `recent` past RECENT_ITEMS items (`size` counts an entry's), keeping the newest."""
    for _ in range(len(recent) - within_budget([size(entry) for entry in recent])):
        recent.popleft()


def no_size(value: Any) -> int:
    return 0


class RecentResponses(OrderedDict):
    """The contexts of the last few responses, by response id: memory must not grow with the capture. `size`
    counts a context's items, for RECENT_ITEMS."""

    def __init__(self, size: Callable[[Any], int] = no_size) -> None:  # (named: an analysis is saved)
        super().__init__()
        self.size = size

    def remember(self, response_id: str, value: Any) -> None:
        self[response_id] = value
        self.move_to_end(response_id)
        kept = min(RECENT_RESPONSES, within_budget([self.size(value) for value in self.values()]))
        while len(self) > kept:
            self.popitem(last=False)


class FirstSeen:
    """Remembers the label of the exchange where each distinct value was first shown."""

    def __init__(self) -> None:
        self.labels: dict[Any, str] = {}

    def earlier(self, key: Any, label: str) -> str | None:
        """The label that first showed `key`, or None (and `label` becomes its first showing)."""
        first = self.labels.setdefault(key, label)
        return None if first == label else first


@dataclass
class Carried:
    """How a request's history splits into what an earlier request showed and what is new."""

    count: int  # leading items identical to those of `source`
    source: str | None  # label of that earlier request
    new: list


def common_prefix(earlier: list, items: list) -> int:
    if len(items) >= len(earlier) and earlier == items[: len(earlier)]:
        return len(earlier)  # the usual case, a history extended at its end: one comparison in C
    count = 0
    for old, new in zip(earlier, items):
        if old != new:  # a deep comparison done in C, much cheaper than serialising both
            break
        count += 1
    return count


class History:
    """Finds, for a re-sent message history, the earlier request that already showed most of it."""

    def __init__(self) -> None:
        self.recent: deque[tuple[str, list]] = deque(maxlen=RECENT_REQUESTS)

    def split(self, label: str, items: list) -> Carried:
        best_count, best_label = 0, None
        for earlier_label, earlier in reversed(self.recent):
            count = common_prefix(earlier, items)
            if count > best_count:
                best_count, best_label = count, earlier_label
            if count and count == len(earlier):
                break  # this request extends that one whole: the usual case, and no older one can beat it
        self.recent.append((label, items))
        trim(self.recent, lambda entry: len(entry[1]))
        return Carried(best_count, best_label, items[best_count:])

    def update(self, label: str, items: list) -> None:
        """Replace what `label` stands for, e.g. its request history plus the answer that followed."""
        for index, (earlier, _) in enumerate(self.recent):
            if earlier == label:
                self.recent[index] = (label, items)
        trim(self.recent, lambda entry: len(entry[1]))


def changes(before: dict, current: dict) -> tuple[dict, list]:
    """What differs between two mappings: keys new or changed (with their values), and keys gone."""
    changed = {key: value for key, value in current.items() if key not in before or before[key] != value}
    return changed, [key for key in before if key not in current]


def text_diff(old: str, new: str) -> str | None:
    """A unified diff of two texts, or None when they differ too much for a diff to help."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "earlier", "this request", lineterm="", n=1))
    diff = "\n".join(lines)
    return diff if len(diff) < len(new) / 2 else None
