"""The report's cost section: what the run cost by model, where each price came from, the costliest turns, and the
turns whose price is unknown, with why."""

from probe.analyse.cost import Costs, dollars
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
        rows = [
            [f"#{cost.number}", md.inline(cost.model or ""), dollars(cost.usd), dollars(cost.input_usd),
             dollars(cost.output_usd), md.inline(cost.priced_as or ""), md.inline(cost.source or "")]
            for cost in dearest
        ]  # fmt: skip
        lines += ["", "Costliest turns:", "",
                  md.table(["turn", "model", "cost", "input", "output", "priced as", "from"], rows)]  # fmt: skip
    if costs.reasons:
        lines += ["", "Turns without a price:", ""]
        lines += [md.Markdown("- {} ({} turn{})").format(md.text(reason), md.text(f"{count:,}"),
                                                         md.text("s" if count != 1 else ""))
                  for reason, count in costs.reasons.most_common()]  # fmt: skip
    return lines
