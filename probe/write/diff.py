"""Compares two runs (two versions of one agent, or two agents) through the conversation model, as Markdown.

Structural changes come first, each section only when the runs differ in it: summary, endpoints, request shape,
headers, instructions and tools. What is measured rather than sent follows in sections of its own: usage and
sizes, per turn, and timings. Volatile values (ids, the agent's home, run and temp paths, timestamps) are
normalised first and counted. Two runs that speak different APIs compare the model only, unless --wire.
"""

import sys
from pathlib import Path

from probe.analyse.insight import SCHEMA
from probe.analyse.prices import PRICES_HELP, prices_from
from probe.analyse.prices_kept import kept_prices
from probe.analyse.run_facts import TOKEN_KINDS, RunSummary
from probe.analyse.run_summary import summarise
from probe.analyse.volatile import Volatile, run_places
from probe.common import cli
from probe.common import markdown as md
from probe.common.counting import counted
from probe.common.errors import RunError, run_main, warn
from probe.common.paths import display
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import CAPTURE_FILES, private_replacement, read_manifest, resolve_run
from probe.write.diff_hosts import hosts_section
from probe.write.diff_insight import agents_and_tools_section, cache_section, context_section, cost_section
from probe.write.diff_mcp import mcp_section
from probe.write.diff_sections import (
    aligned,
    apis,
    endpoints_section,
    headers_section,
    instructions_section,
    shape_section,
    sizes_section,
    summary_section,
    timings_section,
    tools_section,
    turns_section,
    usage_of,
    usage_section,
)
from probe.write.diff_time import time_section
from probe.write.diff_window import window_section

REFUSED_OUTPUTS = (*CAPTURE_FILES, "turns.jsonl")  # the capture, and the turns other tools read


def diff_runs(first: Path, second: Path, wire: bool = False) -> tuple[str, list[str]]:
    """The Markdown comparing two run folders, and the warnings met reading them. With `wire`, runs that speak
    different APIs are compared on the wire too (endpoints, request shape, headers)."""
    volatiles = [Volatile(run_places(run, read_manifest(run))) for run in (first, second)]
    a, b = (summarise(run, volatile) for run, volatile in zip((first, second), volatiles))
    apart = different_apis(a, b)
    with md.masked_by(mask_tokens_and_urls):
        structural = [("summary", summary_section(a, b))]
        if wire or not apart:
            structural += [
                ("endpoints", endpoints_section(a, b)),
                ("request shape", shape_section(a, b)),
                ("headers", headers_section(a, b)),
            ]
        structural += [("instructions", instructions_section(a, b)), ("tools", tools_section(a, b))]
        structural.append(("other hosts", hosts_section(a.insight.hosts, b.insight.hosts)))
        structural.append(("MCP servers", mcp_section(a.insight.mcp_facts, b.insight.mcp_facts)))
        measured = [usage_section(a, b), context_section(a, b), window_section(a, b), cost_section(a, b),
                    cache_section(a, b), agents_and_tools_section(a, b), time_changes(a, b), sizes_section(a, b),
                    turns_section(a, b), timings_section(a, b)]  # fmt: skip
        lines = [
            md.Markdown("# agent-probe diff"),
            "",
            md.Markdown("- A: {} ({})").format(md.inline(display(first)), describe(a)),
            md.Markdown("- B: {} ({})").format(md.inline(display(second)), describe(b)),
            md.Markdown("- Ignored as volatile: {} (ids, the agent's home, run and temp paths, timestamps)").format(
                counted(sum(volatile.count for volatile in volatiles), "value")
            ),
            changes_line([name for name, section in structural if section], measured_differences(a, b)),
        ]
        if apart:
            lines.append(
                md.Markdown("- Different APIs: the wire (endpoints, request shape, headers) is {}").format(
                    md.Markdown("compared too (--wire)" if wire else "not compared (--wire compares it)")
                )
            )
        lines.append("")
        shown = [section for _, section in structural] + measured
        lines += [line for section in shown for line in section] or [md.Markdown("No differences."), ""]
    return "\n".join(lines), [f"{name}: {warning}" for name, run in (("A", a), ("B", b)) for warning in run.warnings]


def changes_line(structural: list[str], measured: list[str]) -> md.Markdown:
    """Whether anything structural changed (naming the sections), and what was measured differently."""
    if not measured:
        return md.Markdown("- Structural changes: {}").format(", ".join(structural) or "none")
    if not structural:
        return md.Markdown("- Structural changes: none; only {} differ").format(and_list(measured))
    return md.Markdown("- Structural changes: {} ({} differ too)").format(", ".join(structural), and_list(measured))


def measured_differences(a: RunSummary, b: RunSummary) -> list[str]:
    """Which measurements differ, in total or in some turn: usage (tokens), sizes (bytes), timings."""
    turns = list(aligned(a, b))

    def differ(total, per_turn) -> bool:
        return total(a) != total(b) or any(
            old is None or new is None or per_turn(old) != per_turn(new) for _, old, new in turns
        )

    found = {
        "usage": differ(lambda run: [usage_of(run, kind) for kind in TOKEN_KINDS], lambda turn: turn.tokens),
        "context": bool(context_section(a, b)),
        "context window": bool(window_section(a, b)),
        "cost": bool(cost_section(a, b)),
        "prompt cache": bool(cache_section(a, b)),
        "agents and tool calls": bool(agents_and_tools_section(a, b)),
        "time": bool(time_changes(a, b)),
        "sizes": differ(lambda run: (run.sent, run.received), lambda turn: (turn.request_bytes, turn.response_bytes)),
        "timings": differ(lambda run: (run.duration, run.ttfb), lambda turn: (turn.ttfb_ms, turn.duration_ms)),
    }
    return [name for name, differs in found.items() if differs]


def time_changes(a: RunSummary, b: RunSummary) -> list:
    """Where the time went, compared (probe.write.diff_time), from each run's time records."""
    return time_section(*(run.insight.time.records(SCHEMA) for run in (a, b)))


def and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def different_apis(a: RunSummary, b: RunSummary) -> bool:
    """Whether the runs speak different APIs: each has model APIs (the generic reader's aside), none in common."""
    return bool(a.apis and b.apis and not set(a.apis) & set(b.apis))


def describe(run: RunSummary) -> md.Markdown:
    api = md.Markdown(", API {}").format(apis(run)) if run.apis else md.Markdown("")
    return md.Markdown("target {}, agent {}{}").format(
        md.inline(run.target or "unknown"), md.inline(run.agent or "unknown"), api
    )


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.write.diff", description=__doc__)
    parser.add_argument(
        "--run",
        action="append",
        type=cli.not_empty,
        required=True,
        help="a run, as analyze --run takes it (`latest`, a folder name or path); give two",
    )
    parser.add_argument("--target", help="with --run latest: the newest run of this target")
    parser.add_argument("--output", help="write the Markdown here instead of printing it")
    parser.add_argument(
        "--wire",
        action="store_true",
        help="compare endpoints, request shape and headers even when the runs speak different APIs",
    )
    parser.add_argument("--prices", metavar="FILE", help=PRICES_HELP)
    args = parser.parse_args(argv)
    # Restored afterwards: main() may run inside a longer process (invoke, the tests) that analyses other runs.
    with prices_from(args.prices):
        return diff_as_asked(args)


def prices_of_both(runs: list[Path]) -> Path | None:
    """The prices both runs' reports keep (two bundled samples: their own file), when no other was asked for (a
    price file asked for is in force already: kept_prices then gives None); the database when they keep different
    ones, said in one line."""
    warnings: list[str] = []
    kept = {kept_prices(run, warnings) for run in runs}
    for warning in warnings:
        warn(warning)
    if len(kept) == 1:
        return kept.pop()
    warn("the two runs' reports were priced with different price files: the diff prices both with the database "
         "(give --prices FILE to choose)")  # fmt: skip
    return None


def diff_as_asked(args) -> int:
    """What main() was asked to do, with the prices in force."""
    if len(args.run) != 2:
        raise RunError(f"--run: give exactly two runs to compare (got {len(args.run)})")
    runs = [resolve_run(spec, args.target) for spec in args.run]
    for run in runs:
        if not (run / "traffic.jsonl").is_file():
            raise RunError(f"{display(run / 'traffic.jsonl')}: no such file (is {display(run)} a run folder?)")
    output = Path(args.output) if args.output else None
    if output is not None and (output.name in REFUSED_OUTPUTS or output.resolve().name in REFUSED_OUTPUTS):
        raise RunError(f"--output {output}: that name is a run's capture file; write the diff elsewhere")
    with prices_from(prices_of_both(runs)):
        text, warnings = diff_runs(*runs, wire=args.wire)
    for warning in warnings:
        warn(warning)
    if output is None:
        sys.stdout.write(text + "\n")
        return 0
    try:
        with private_replacement(output) as file:
            file.write(text + "\n")
    except OSError as error:
        raise RunError(f"cannot write {display(output)}: {error.strerror}") from None
    print(f"diff: {display(output)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
