"""The compare table: runs side by side, the origin first, one row per figure, as plain text, Markdown or JSON; the
viewer's Compare view shows the same rows."""

from collections.abc import Callable
from typing import Any

from probe.analyse.run_figures import TOKEN_KINDS, Difference, RunFigures
from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.errors import one_line
from probe.common.fastjson import finite_float

TAIL_SHOWN = 80  # characters of the verify check's last line in a cell; the JSON has the whole tail
NONE = "—"


def counted_tokens(figures: RunFigures, kind: str) -> str:
    count = figures.tokens.get(kind)
    if count is None:
        return "not reported"
    reported = figures.token_turns[kind]
    return f"{count:,}" + (
        f" ({reported:,} of the {counted(figures.usage_turns, 'turn')})" if reported < figures.usage_turns else ""
    )


def cost_text(cost: dict | None) -> str:
    if not cost:
        return NONE
    priced, unknown, usd = cost.get("priced_turns") or 0, cost.get("unknown_turns") or 0, cost.get("usd")
    if not priced or not isinstance(usd, (int, float)):
        return "unknown" if unknown else NONE
    return f"${usd:,.4f}" + (f" (+{unknown} unknown)" if unknown else "")


def price_sources(cost: dict | None) -> str:
    """The price files and databases that priced the run's turns, with how many each: two runs priced from
    different sources compare their costs with care."""
    sources = (cost or {}).get("sources")
    if not isinstance(sources, dict) or not sources:
        return NONE
    return tally({str(name): count for name, count in sources.items() if isinstance(count, int)}) or NONE


def tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def last_line(text: Any) -> str:
    lines = [line for line in str(text or "").splitlines() if line.strip()]
    line = lines[-1].strip() if lines else ""
    return line if len(line) <= TAIL_SHOWN else line[: TAIL_SHOWN - 1] + "…"


def verify_text(verify: dict | None) -> str:
    if verify is None:
        return NONE
    code = verify.get("exit_code")
    said = f"exit {code}" if isinstance(code, int) and not isinstance(code, bool) else "no exit code"
    seconds = finite_float(verify.get("seconds"))
    if seconds is not None:
        said += f" in {seconds:.2f} s"
    tail = last_line(verify.get("tail"))
    return f"{said}: {tail}" if tail else said


def declared_point(figures: RunFigures) -> int | None:
    at = (figures.origin or {}).get("at")
    return at if isinstance(at, int) and not isinstance(at, bool) else None


def role_text(figures: RunFigures, first: bool) -> str:
    if first:
        return "origin"
    origin = figures.origin
    if origin is None:
        return "another run"
    kind = origin.get("kind") if origin.get("kind") in ("fork", "resend") else "run"
    return f"{kind} of {origin.get('run') or 'a run'}"


def point_text(figures: RunFigures) -> str:
    at = declared_point(figures)
    if at is None:
        return NONE
    if (figures.origin or {}).get("kind") == "resend":
        return f"request {at}, re-sent"
    model = (figures.origin or {}).get("model")
    return f"request {at}" + (f", then model {model}" if isinstance(model, str) else "")


def difference_text(difference: Difference | None, figures: RunFigures) -> str:
    if difference is None:
        return NONE
    if difference.number is None:
        return difference.note
    at = declared_point(figures)
    early = at is not None and difference.number <= at and (figures.origin or {}).get("kind") != "resend"
    return f"request {difference.number}" + (" (at or before the fork point)" if early else "")


ROWS: list[tuple[str, Callable[[RunFigures, bool, Difference | None], str]]] = [
    ("run", lambda run, first, _: run.run),
    ("role", lambda run, first, _: role_text(run, first)),
    ("models", lambda run, first, _: tally(dict(run.models)) or NONE),
    ("turns", lambda run, first, _: f"{run.turns:,} ({run.usage_turns:,} with usage)"),
    *[
        (f"{kind.replace('_', ' ')} tokens", lambda run, first, _, kind=kind: counted_tokens(run, kind))
        for kind in TOKEN_KINDS
    ],
    ("cost", lambda run, first, _: cost_text(run.cost) if run.analysed else "not analysed"),
    ("priced with", lambda run, first, _: price_sources(run.cost)),
    ("wall time", lambda run, first, _: f"{run.wall_s:.2f} s" if run.wall_s is not None else NONE),
    ("tools called", lambda run, first, _: tally(run.tools) or ("none" if run.analysed else NONE)),
    ("verify", lambda run, first, _: verify_text(run.verify)),
    ("fork point", lambda run, first, _: point_text(run)),
    ("first difference", lambda run, first, difference: difference_text(difference, run)),
]


Mask = Callable[[str], str]


def table_rows(runs: list[RunFigures], found: list[Difference | None], mask: Mask, with_origin: bool = True) -> list:
    """One row per figure: its label, then each run's cell, captured text masked with `mask` and made one inert
    line. `found` is each run's first difference from the first, the origin (None for the origin itself). Without
    the origin (a fork's page whose origin is not here), no run is the origin."""
    first = 0 if with_origin else -1
    return [
        [label, *(one_line(mask(cell(run, at == first, found[at]))) for at, run in enumerate(runs))]
        for label, cell in ROWS
    ]


def plain_table(runs: list[RunFigures], found: list[Difference | None], mask: Mask) -> str:
    """The rows as columns of plain text, each as wide as its widest cell."""
    rows = table_rows(runs, found, mask)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def markdown_table(runs: list[RunFigures], found: list[Difference | None], mask: Mask) -> str:
    rows = table_rows(runs, found, mask)
    header, body = rows[0], rows[1:]
    return str(
        md.table(["", *(md.inline(name) for name in header[1:])], [[md.text(cell) for cell in row] for row in body])
    )


def json_value(runs: list[RunFigures], found: list[Difference | None]) -> dict:
    """Every figure as a value (counts as numbers, None where not known), as captured: mask it before showing it."""
    runs_shown = []
    for index, run in enumerate(runs):
        difference = found[index]
        runs_shown.append({
            "run": run.run, "role": role_text(run, index == 0), "origin": run.origin, "models": dict(run.models),
            "turns": run.turns, "usage_turns": run.usage_turns, "tokens": run.tokens,
            "token_turns": {kind: run.token_turns[kind] for kind in TOKEN_KINDS},
            "cost_usd": (run.cost or {}).get("usd"), "cost": run.cost, "wall_s": run.wall_s, "tools": run.tools,
            "verify": run.verify, "fork_point": declared_point(run),
            "first_difference": None if difference is None else vars(difference),
        })  # fmt: skip
    return {"runs": runs_shown}
