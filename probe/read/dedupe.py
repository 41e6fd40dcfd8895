"""What repeats from one request to the next: a re-sent history, a response continued by its id, a value seen
before, and what changed in a mapping or a text. The report's words for it are in probe.apis.said_once."""

import difflib
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

RECENT_REQUESTS = 8  # earlier requests searched for a shared history; conversations rarely interleave more


RECENT_RESPONSES = 32  # responses a later request may still continue by id


class RecentResponses(OrderedDict):
    """The contexts of the last few responses, by response id: memory must not grow with the capture."""

    def remember(self, response_id: str, value: Any) -> None:
        self[response_id] = value
        self.move_to_end(response_id)
        while len(self) > RECENT_RESPONSES:
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
        return Carried(best_count, best_label, items[best_count:])

    def update(self, label: str, items: list) -> None:
        """Replace what `label` stands for, e.g. its request history plus the answer that followed."""
        for index, (earlier, _) in enumerate(self.recent):
            if earlier == label:
                self.recent[index] = (label, items)


def changes(before: dict, current: dict) -> tuple[dict, list]:
    """What differs between two mappings: keys new or changed (with their values), and keys gone."""
    changed = {key: value for key, value in current.items() if key not in before or before[key] != value}
    return changed, [key for key in before if key not in current]


def text_diff(old: str, new: str) -> str | None:
    """A unified diff of two texts, or None when they differ too much for a diff to help."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "earlier", "this request", lineterm="", n=1))
    diff = "\n".join(lines)
    return diff if len(diff) < len(new) / 2 else None
