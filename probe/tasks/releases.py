"""The task that plays the release scenarios with an agent's versions, or with several agents side by side."""

from invoke import task

from probe.tasks.calls import ProbeTask, call, script, script_argv


@task(
    klass=ProbeTask,
    iterable=["scenario"],
    help={
        "target": "NAME|FILE: the agent whose versions are played (default: probe.target in invoke.yaml, unless "
        "--targets)",
        "targets": "A,B,...: agents side by side on one --scenario, each at its pin, or NAME@X.Y.Z at that version",
        "versions": "A,B,...: these versions, each one the registry lists",
        "last": "N: the newest N releases",
        "since": "VERSION|pinned: every release after VERSION (`pinned`: the target's pin), VERSION itself first "
        "(the default: --since pinned)",
        "scenario": "NAME,...: only these scenarios; repeatable (default: every one of the scenarios file)",
        "scenarios": "FILE: the scenarios file (default: the bundled probe/releases/scenarios.yaml)",
        "remake": "make every run again, even those that exist",
        "output": "DIR: where the pages go (default: releases/ in the data folder)",
        "timeout": "SECONDS: stop each run's agent after this long (default: 300)",
    },
)
def releases(c, target=None, targets=None, versions=None, last=None, since=None, scenario=None, scenarios=None,
             remake=False, output=None, timeout=None):  # fmt: skip
    """Play the release scenarios with each version of an agent against the mock, one run each (runs that exist are
    reused), and write its changelog; with --targets, several agents on one scenario, side by side.

    Exits 1 when a version fails to install or to complete a scenario (after writing the pages): a scheduled
    `--since pinned` says so when a new release stops working against the mock (see docs/releases.md).
    """
    if targets is None:
        target = target or c.config.probe.target
    options = dict(target=target, targets=targets, versions=versions, last=last, since=since, scenario=scenario)
    options |= dict(scenarios=scenarios, remake=remake, output=output, timeout=timeout)
    call(c, script("probe.releases.job"), script_argv(**options))
