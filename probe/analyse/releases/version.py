"""One version's completed release runs, each read once as the diff reads a run (probe.analyse.run_summary) and
priced as its report was, with the figures its report gives."""

from pathlib import Path

from probe.analyse.account.join import join_account
from probe.analyse.insight import SCHEMA
from probe.analyse.prices_kept import keeping_prices
from probe.analyse.releases.facts import TOKENS, Figures, ScenarioRun, VersionRuns
from probe.analyse.run_facts import RunSummary
from probe.analyse.run_summary import summarise
from probe.analyse.volatile import Volatile, run_places
from probe.runs.folders import read_manifest
from probe.runs.release_runs import ReleaseRun


def read_version(version: str, rows: list[ReleaseRun]) -> VersionRuns:
    """The version's completed rows, each run read once."""
    runs = {row.scenario: read_run(row.scenario, row.run) for row in rows if row.completed and row.run is not None}
    return VersionRuns(version, runs)


def read_run(scenario: str, run: Path) -> ScenarioRun:
    """One run summarised as the diff summarises it, with the prices its report was made with, and its agent's own
    telemetry joined as its report joins it."""
    manifest = read_manifest(run)
    warnings: list[str] = []
    with keeping_prices(run, warnings):
        summary = summarise(run, Volatile(run_places(run, manifest)))
    summary.warnings += warnings
    manifest = manifest if isinstance(manifest, dict) else {}
    account = manifest.get("account") if isinstance(manifest.get("account"), dict) else {}
    telemetry = isinstance(account.get("telemetry"), dict) and account["telemetry"].get("state") == "on"
    insight = summary.insight
    joined = join_account(run, manifest, insight.wire, insight.costs.book) if telemetry else None
    all_hosts = manifest.get("all_hosts") is True
    return ScenarioRun(scenario, run, summary, figures_of(summary), all_hosts, telemetry, joined)


def figures_of(summary: RunSummary) -> Figures:
    """The figures the run's report gives, from what the report is made from."""
    insight = summary.insight
    spend = insight.costs.run
    times = insight.time.records(SCHEMA)
    run_time = next((r for r in times if r.get("record") == "time" and r.get("agent") is None), None)
    wall = run_time.get("wall_s") if run_time is not None else None
    return Figures(
        requests=sum(len(agent.requests) for agent in insight.finished or []),
        tokens={kind: summary.tokens[kind] if summary.token_turns[kind] else None for kind in TOKENS},
        cost=spend.usd if spend.priced else None,
        priced=spend.priced,
        unpriced=spend.unknown,
        wall_s=float(wall) if isinstance(wall, int | float) else None,
    )
