"""The facts the changelog is written from: one version's completed runs (each read, with its report's figures and
what agent-probe did not understand in it), and what changed from one version to the next."""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from probe.analyse.run_facts import RunSummary, ToolKey

TOKENS = ("input", "output", "cache_read", "cache_write")  # the kinds a scenario's figures give
NAMES_KEPT = 200  # telemetry events and not-understood names kept per version: a hostile run is counted, not listed


@dataclass
class Figures:
    """A run's figures as its report gives them: requests (the agents'), tokens by kind (None: no turn reported
    it), the cost of its priced turns and how many turns had no price, and its wall time."""

    requests: int
    tokens: dict[str, int | None]
    cost: Decimal | None  # None: no turn was priced
    priced: int
    unpriced: int
    wall_s: float | None


@dataclass
class ScenarioRun:
    """One scenario's completed run of one version, read."""

    scenario: str
    run: Path
    summary: RunSummary
    figures: Figures
    all_hosts: bool
    telemetry: bool  # the agent's own telemetry was on (--agent-telemetry)
    # telemetry.jsonl joined where the telemetry was on: a probe.analyse.account.join.AccountJoin, not imported here,
    # which would make every reader of these facts import the account's readers too.
    account: Any = None


@dataclass
class NotUnderstood:
    """What agent-probe did not understand in a version's runs, each with the scenarios it was met in."""

    unpriced: dict[str, set[str]] = field(default_factory=dict)  # model -> scenarios ("cost unknown")
    no_window: dict[str, set[str]] = field(default_factory=dict)  # model -> scenarios ("window unknown")
    unknown_services: dict[str, set[str]] = field(default_factory=dict)  # telemetry service no reader knows
    unread_exchanges: dict[str, int] = field(default_factory=dict)  # scenario -> exchanges no API reader recognised

    def __bool__(self) -> bool:
        return bool(self.unpriced or self.no_window or self.unknown_services or self.unread_exchanges)


@dataclass
class VersionRuns:
    """A version's completed runs by scenario, in the order the rows gave them."""

    version: str
    runs: dict[str, ScenarioRun]

    def default_model(self, scenario: str | None) -> str | None:
        """The main agent's main model in the scenario's run (the one its turns gave most input)."""
        if scenario not in self.runs:
            return None
        summary = self.runs[scenario].summary
        main = next((agent.id for agent in summary.insight.finished or [] if agent.parent is None), None)
        fills = summary.insight.windows.of_agent(main) if main is not None else []
        if fills:
            return fills[0].model
        return summary.models.most_common(1)[0][0] if summary.models else None

    @property
    def models(self) -> set[str]:
        """Every model any of its runs asked for."""
        return {model for run in self.runs.values() for model in run.summary.models}

    @property
    def hosts(self) -> set[str] | None:
        """The hosts its all-hosts runs called besides the model API (None: no such run)."""
        runs = [run for run in self.runs.values() if run.all_hosts]
        return {host for run in runs for host in run.summary.insight.hosts.hosts} if runs else None

    @property
    def events(self) -> Counter | None:
        """The telemetry events of its telemetry runs, by name: those its other hosts' bodies carried and the
        agent's own records (None: no such run)."""
        runs = [run for run in self.runs.values() if run.telemetry]
        if not runs:
            return None
        found: Counter = Counter()
        for run in runs:
            for host in run.summary.insight.hosts.hosts.values():
                found.update(host.events)
            if run.account is not None:
                found.update({name: sum(keys.values()) for name, keys in run.account.matched.items()})
                found.update(run.account.reading.not_events)
        return Counter(dict(found.most_common(NAMES_KEPT)))

    def not_understood(self) -> NotUnderstood:
        found = NotUnderstood()
        for name, run in self.runs.items():
            insight = run.summary.insight
            for model, spend in insight.costs.by_model.items():
                if spend.unknown:
                    found.unpriced.setdefault(model, set()).add(name)
            for fill in insight.windows.fills.values():
                if fill.window is not None and fill.window.tokens is None:
                    found.no_window.setdefault(fill.model, set()).add(name)
            if run.account is not None:
                for service in run.account.reading.unknown_services:
                    found.unknown_services.setdefault(service, set()).add(name)
            unread = run.summary.exchanges - sum(run.summary.apis.values())
            if unread > 0:
                found.unread_exchanges[name] = unread
        for names in (found.unpriced, found.no_window, found.unknown_services):
            for extra in list(names)[NAMES_KEPT:]:
                del names[extra]
        return found


def comparing_scenario(older: VersionRuns, newer: VersionRuns, compares: str | None) -> str | None:
    """The scenario whose runs compare the two versions' structure: `compares` where both completed it, else the
    first both completed (in the newer's order), else none."""
    both = [name for name in newer.runs if name in older.runs]
    return compares if compares in both else next(iter(both), None)


@dataclass
class Size:
    """A text's size, as the report's context split counts it: characters, and tokens with its encoder."""

    characters: int
    tokens: int


@dataclass
class BlockChange:
    """An instruction block added, removed or changed; a changed one's texts and how alike they are."""

    name: str
    change: str  # added | removed | changed
    old: str | None
    new: str | None
    old_size: Size | None
    new_size: Size | None
    alike: float | None = None


@dataclass
class ToolChange:
    """A tool added, removed or changed: its schema fields added and removed, its description's texts."""

    key: ToolKey
    change: str  # added | removed | changed
    old_size: Size | None
    new_size: Size | None
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    old_description: str | None = None  # set where the description changed
    new_description: str | None = None
    other: bool = False  # something else changed: its type, a field's type or wording


@dataclass
class Changes:
    """From `older` to `newer`: what the comparing scenario's runs show, and what all their runs do."""

    older: str
    newer: str
    scenario: str | None  # whose runs were compared for instructions, tools, endpoints and headers
    encoding: str
    blocks: list[BlockChange] = field(default_factory=list)
    tools: list[ToolChange] = field(default_factory=list)
    default_model: tuple[str | None, str | None] = (None, None)
    models_added: list[str] = field(default_factory=list)
    models_removed: list[str] = field(default_factory=list)
    endpoints_added: list[str] = field(default_factory=list)
    endpoints_removed: list[str] = field(default_factory=list)
    headers_added: list[str] = field(default_factory=list)
    headers_removed: list[str] = field(default_factory=list)
    header_values: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # name, old, new
    hosts_added: list[str] | None = None  # None: no all-hosts run on one side
    hosts_removed: list[str] | None = None
    events_added: list[str] | None = None  # None: no telemetry run on one side
    events_removed: list[str] | None = None
