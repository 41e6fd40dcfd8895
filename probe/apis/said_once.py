"""Report words said once and then referred back to: the model and config, mappings, long texts and listings."""

from typing import Any

from probe.common.markdown import Markdown, code, compact, details, inline, json_block, strong, table
from probe.read.dedupe import Carried, FirstSeen, changes, text_diff


def carried_summary(carried: Carried, how: str = "", noun: str = "item") -> Markdown:
    new = len(carried.new)
    summary = Markdown("+ {} new {}{}").format(new, noun, "s" if new != 1 else "")
    if carried.count:
        summary = Markdown("{}; {} carried over from {}{}").format(summary, carried.count, carried.source, how)
    return summary


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
