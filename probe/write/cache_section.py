"""The report's prompt cache section: the share of input read from the cache, each cache break with its cause,
each drop in cached tokens that is not a break with its reason, and every turn's figures."""

from probe.analyse.cost import dollars
from probe.analyse.prompt_cache import CacheTurn, Cause, PromptCache
from probe.common import markdown as md
from probe.common.counting import counted


def cache_section(cache: PromptCache) -> list[str]:
    total_input, total_cached, reporting = cache.totals()
    lines: list[str] = ["", "## Prompt cache", ""]
    if not reporting:
        return lines + ["No turn reported how many of its input tokens were read from a cache."]
    rate = f"{total_cached / total_input:.1%}" if total_input else "n/a"
    lines.append(
        f"- Read from the cache: {rate} of {total_input:,} input tokens ({total_cached:,} tokens), over {reporting} "
        f"turn{'s' if reporting != 1 else ''} that reported cached tokens"
    )
    breaks = cache.breaks()
    lines.append(
        f"- Cache breaks: {len(breaks)} (a turn that read fewer tokens from the cache than it could have: than the "
        "turn before left in the cache, or, if the request shrank, than the prefix it still shares with it)"
    )
    lines += [md.Markdown("  - {}").format(break_line(turn)) for turn in breaks]
    lines += rewrite_lines(cache)
    drops = [turn for turn in cache.turns if turn.drop is not None]
    if drops:
        lines.append(f"- Fewer cached tokens without a break: {len(drops)}")
        lines += [md.Markdown("  - {}").format(drop_line(turn)) for turn in drops]
    rows = [
        [
            f"#{turn.number}",
            count(turn.input),
            count(turn.cached),
            f"{turn.hit_rate:.1%}" if turn.hit_rate is not None else "",
            f"#{turn.compared_with}" if turn.compared_with is not None else "",
            cause_markdown(turn.cause) if turn.cause else drop_cell(turn),
        ]
        for turn in cache.turns
    ]
    return lines + ["", md.table(["turn", "input", "cached", "hit rate", "turn before", "cache break"], rows)]


def rewrite_lines(cache: PromptCache) -> list[str]:
    """The input written again because the cache had lapsed, and its cost: said only where a turn did."""
    lapses, tokens, usd, unpriced = cache.rewrites()
    if not lapses:
        return []
    cost = "cost unknown" if usd is None else f"cost {dollars(usd)}"
    if usd is not None and unpriced:
        cost += f" ({counted(unpriced, 'turn')} without a price left out)"
    return [f"- Written again after the cache's lifetime lapsed: {tokens:,} input tokens over "
            f"{counted(lapses, 'turn')}, {cost}"]  # fmt: skip


def break_line(turn: CacheTurn) -> md.Markdown:
    return md.Markdown("cache break at #{} (against #{}): {}").format(
        turn.number, turn.compared_with, cause_markdown(turn.cause)
    )


def drop_line(turn: CacheTurn) -> md.Markdown:
    return md.Markdown("#{} (against #{}): {}").format(turn.number, turn.compared_with, cause_markdown(turn.drop))


def drop_cell(turn: CacheTurn) -> md.Markdown | str:
    return md.Markdown("no break: {}").format(cause_markdown(turn.drop)) if turn.drop else ""


def cause_markdown(cause: Cause) -> md.Markdown:
    """The cause's sentence, its captured values (names, quoted text) as code spans."""
    values = [value if isinstance(value, int) else md.inline(str(value)) for value in cause.values]
    return md.Markdown(cause.template).format(*values)  # the template is this project's own words


def count(value: int | None) -> str:
    return f"{value:,}" if value is not None else ""
