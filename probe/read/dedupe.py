"""Shared helpers that keep reports linear: show repeated content once, then refer back to it."""

import difflib
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from probe.common.markdown import Markdown, code, compact, details, inline, json_block, strong, table

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


def carried_summary(carried: Carried, how: str = "", noun: str = "item") -> Markdown:
    new = len(carried.new)
    summary = Markdown("+ {} new {}{}").format(new, noun, "s" if new != 1 else "")
    if carried.count:
        summary = Markdown("{}; {} carried over from {}{}").format(summary, carried.count, carried.source, how)
    return summary


# Report sections shared by renderers: each shows its content once, then refers back or shows what changed.


def config_lines(body: dict, sections: set, label: str, state: dict, title: str = "Model and config") -> list[Markdown]:
    """A request's settings (the fields not shown in `sections` of their own) in full once, then only what
    differs from the previous request's."""
    config = {key: value for key, value in body.items() if key not in sections}
    if not config:
        return []
    previous = state.get(("last", title))
    state[("last", title)] = (label, config)
    setting = Markdown("- {}: {}")
    if previous is None:
        return [
            Markdown("**{}**").format(title),
            "",
            *[setting.format(strong(key), inline(compact(value))) for key, value in config.items()],
            "",
        ]
    since, before = previous
    changed, gone = changes(before, config)
    if not changed and not gone:
        return [Markdown("**{}**: as in {}").format(title, since), ""]
    return [
        Markdown("**{}**: as in {}, except").format(title, since),
        "",
        *[setting.format(strong(key), inline(compact(value))) for key, value in changed.items()],
        *[setting.format(strong(key), Markdown("(not sent)")) for key in gone],
        "",
    ]


def mapping_block(title: str, mapping: Any, label: str, state: dict) -> Markdown:
    """A key/value table, keeping only what changed since the previous request's."""
    if not isinstance(mapping, dict):
        return details(title, json_block(mapping))
    previous = state.get(("last", title))
    state[("last", title)] = (label, mapping)
    shown = changes(previous[1], mapping)[0] if previous else mapping
    rows = [[str(key), inline(value if isinstance(value, str) else compact(value))] for key, value in shown.items()]
    if previous is None:
        return details(f"{title} ({len(rows)})", table(["key", "value"], rows))
    if not rows:
        return Markdown("({}: all {} as in {})").format(title, len(mapping), previous[0])
    return details(
        f"{title} ({len(mapping)}: {len(rows)} new or changed since {previous[0]})", table(["key", "value"], rows)
    )


def text_once(title: str, value: str, label: str, state: dict, full: Markdown | None = None) -> Markdown:
    """A long text (a system prompt) in full the first time; later "the same as", or a diff against the last one.

    `full` is how to show it in full, when that is more than the plain text (blocks with markers, say).
    """
    earlier = state.setdefault("seen", FirstSeen()).earlier((title, value), label)
    previous = state.get(("last", title))
    state[("last", title)] = (label, value)
    if earlier:
        return Markdown("**{}** ({:,} chars): the same as request {}").format(title, len(value), earlier)
    diff = text_diff(previous[1], value) if previous else None
    if diff:
        return details(f"{title} ({len(value):,} chars), changed since request {previous[0]}", code(diff, "diff"))
    return details(f"{title} ({len(value):,} chars)", full if full is not None else code(value, "text"))


def listing_once(
    title: str,
    rows: list[list[str]],
    headers: list[str],
    names: Markdown,
    label: str,
    state: dict,
    table_title: str,
    more=None,
    count: str | None = None,
) -> list[Markdown]:
    """A listing (the declared tools) with its table the first time; later "the same set as" when unchanged.

    `more()`, if given, is shown under the table the first time only (e.g. the full definitions); it is called
    only then, since a session re-sends the same listing with every request. `count` says how many there are,
    when that is not one per row.
    """
    count = count if count is not None else str(len(rows))
    earlier = state.setdefault("seen", FirstSeen()).earlier((title, tuple(map(tuple, rows))), label)
    if earlier:
        return [Markdown("**{} ({})**: the same set as request {}").format(title, count, earlier), ""]
    return [
        Markdown("**{} ({})**: {}").format(title, count, names),
        "",
        details(f"{table_title} ({count})", table(headers, rows), *(more() if more else [])),
    ]
