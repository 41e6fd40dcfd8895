"""The task that puts an origin run and the runs made from it (forks, resends) side by side."""

from invoke import task

from probe.tasks.calls import ProbeTask, call, script, script_argv


@task(
    klass=ProbeTask,
    iterable=["run"],
    help={
        "run": "RUN: a run, as analyze --run takes it: the origin first, then each fork or resend; one run alone "
        "(default: latest) is compared with the origin its manifest names",
        "target": "NAME: with --run latest, the newest run of this target",
        "format": "text|markdown|json: how to print the table (default: text)",
    },
)
def compare(c, run=None, target=None, format=None):
    """Compare an origin run with its forks in one table: turns, tokens, cost, wall time, tools, verify, fork point.

    Each run's column gives its turns, input, output and cache tokens, cost, wall time (from its time records),
    the tools it called, its verify check's result, the fork point its manifest declares and the first request
    that differed from the origin's (volatile values ignored, as invoke diff ignores them).
    """
    call(c, script("probe.analysis.compare"), script_argv(run=run, target=target, format=format))
