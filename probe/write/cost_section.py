"""The report's cost section: what the run cost by model, where each price came from, the costliest turns, and the
turns whose price is unknown, with why."""

from probe.analyse.cost import Costs, Spend, dollars
from probe.analyse.tool_fees import uses_text
from probe.common import markdown as md


def cost_section(costs: Costs) -> list[str]:
    lines = ["", "## Cost", ""]
    run = costs.run
    if not run.priced and not run.unknown:
        return lines + ["No turn reported usage to price."]
    if run.priced:
        opening = md.Markdown("{} for {} turn{} ({}); prices from {}, in US dollars.").format(
            md.text(dollars(run.usd)),
            md.text(f"{run.priced:,}"),
            md.text("s" if run.priced != 1 else ""),
            md.text(f"{run.unknown:,} more with unknown prices left out" if run.unknown else "every turn priced"),
            md.inline(costs.book.provenance()),
        )
    else:
        opening = md.Markdown("Unknown: none of the {} turn{} with usage has a known price in {}.").format(
            md.text(f"{run.unknown:,}"), md.text("s" if run.unknown != 1 else ""), md.inline(costs.book.provenance())
        )
    lines.append(opening)
    lines += fees_lines(run, costs.book.provenance())
    lines.append(
        "Each API's own counting is followed: cached input is part of input (Anthropic's cache reads and writes, "
        "sent apart, are added in), 1-hour cache writes are priced as such where the usage tells them apart, and "
        "reasoning is output."
    )
    rows = [
        [md.inline(model), spend.priced, spend.unknown, dollars(spend.usd) if spend.priced else "unknown"]
        for model, spend in sorted(costs.by_model.items(), key=lambda item: (-item[1].usd, item[0]))
    ]
    lines += ["", md.table(["model", "turns priced", "turns unknown", "cost"], rows)]
    dearest = costs.costliest()
    if dearest:
        fees = any(cost.fees_usd for cost in dearest)  # a column of its own where the turns shown paid any
        rows = [
            [f"#{cost.number}", md.inline(cost.model or ""), dollars(cost.usd), dollars(cost.input_usd),
             dollars(cost.output_usd), *([dollars(cost.fees_usd) if cost.fees_usd else "—"] if fees else []),
             md.inline(cost.priced_as or ""), md.inline(cost.source or "")]
            for cost in dearest
        ]  # fmt: skip
        columns = ["turn", "model", "cost", "input", "output", *(["fees"] if fees else []), "priced as", "from"]
        lines += ["", "Costliest turns:", "", md.table(columns, rows)]
    if costs.reasons:
        lines += ["", "Turns without a price:", ""]
        lines += [md.Markdown("- {} ({} turn{})").format(md.text(reason), md.text(f"{count:,}"),
                                                         md.text("s" if count != 1 else ""))
                  for reason, count in costs.reasons.most_common()]  # fmt: skip
    return lines


def fees_lines(run: Spend, provenance: str) -> list[str]:
    """What the total holds beyond tokens (the server tools the API ran and bills by use, a per-request fee), and
    the server-tool uses no price covers, which the total leaves out: never priced as $0 without a word."""
    lines = []
    if run.fees_usd or run.tool_uses_priced:
        what = f" for {uses_text(run.tool_uses_priced.items())}" if run.tool_uses_priced else " per request"
        lines.append(md.Markdown("Of that, {} is fees beyond the tokens{}.").format(
            md.text(dollars(run.fees_usd)), md.text(what)))  # fmt: skip
    if run.tool_uses_left_out:
        lines.append(md.Markdown("**The cost leaves out {}**: server tools the API ran, which {} has no price for.")
                     .format(md.text(uses_text(run.tool_uses_left_out.items())), md.inline(provenance)))  # fmt: skip
    return lines
