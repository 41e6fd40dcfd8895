"""The replay task: a recorded run's agent run again against its recorded answers, or forked at a request and
carried on live."""

from invoke import task

from probe.tasks.calls import ProbeTask, call, script, script_argv

TELEMETRY_HELP = {
    "agent_telemetry": "point the agent's own telemetry at a receiver on 127.0.0.1, kept as telemetry.jsonl "
    "(default: as the recording had it)",
    "no_agent_telemetry": "leave the agent's own telemetry as it is",
}


@task(
    klass=ProbeTask,
    help={
        "run": "RUN: the recorded run to replay: `latest`, a run folder name, or a run folder path",
        "target": "NAME|FILE: the recorded run's target (default: the target in targets/ its manifest names)",
        "agent_version": "X.Y.Z: run this version of the agent (default: the version the run was recorded with)",
        "prompt": "TEXT: the prompt (default: the recorded one)",
        "login": "NAME: the target's login the agent signs in with (default: the recorded one)",
        "label": "TEXT: added to the new run folder's name (default: replay, or fork with --until)",
        "timeout": "SECONDS: stop the agent after this long",
        "fast": "send recorded streams at once, not at the pace they were recorded",
        "workdir": "FOLDER|fresh: run the agent in this folder (default: fresh, a new empty one, removed after the "
        "replay; the agent runs the recorded tool calls)",
        "allow_divergence": "exit 0 even if a request matched nothing recorded",
        "quiet": "print no line per finished exchange on stderr while recording",
        "trust": "replay a run not recorded on this machine, or of an agent that runs its tools without asking: the "
        "agent carries out the recorded tool calls as you",
        "approvals": "run the agent with its approvals on (its target's agent.auto_approve left out): tool calls "
        "that need approval are refused",
        "agent_telemetry": TELEMETRY_HELP["agent_telemetry"],
        "no_agent_telemetry": TELEMETRY_HELP["no_agent_telemetry"],
        "until": "N: fork: serve the recorded answers up to request N (its number in the run, as in turns.jsonl "
        "and the SQL views), then go on live against --upstream",
        "upstream": "mock|URL: with --until, where the requests after N go: the bundled mock, or a model API's URL "
        "(the agent uses your key from the environment; the recorded context is sent there)",
        "model": "M: with --until, the requests after N ask for model M (rewritten into each request)",
        "verify": "CMD: with --until, run this shell command in the fork's folder once the agent has ended; its "
        "exit status and last lines go into the manifest",
        "verify_timeout": "SECONDS: stop the --verify command after this long (default: 600)",
    },
)
def replay(c, run=None, target=None, agent_version=None, prompt=None, label=None, timeout=None, fast=False,
           workdir=None, allow_divergence=False, quiet=False, trust=False, approvals=False, login=None,
           agent_telemetry=False, no_agent_telemetry=False, until=None, upstream=None, model=None, verify=None,
           verify_timeout=None):  # fmt: skip
    """Run the agent against a recorded run's answers and record a new run; name the request that diverged.

    A stand-in upstream serves the recording: each request gets the recorded answer it matches (by endpoint,
    model and the conversation it carries, volatile values ignored), as recorded. One that matches nothing is
    answered with its API's error, and the new run's manifest.json records where and how it differed. The agent
    carries out the recorded tool calls: a run from elsewhere, or of an agent that auto-approves, needs --trust or
    --approvals. With --until N it is a fork: after request N the agent goes on live against --upstream.
    """
    options = dict(agent_version=agent_version, prompt=prompt, login=login, label=label, timeout=timeout, fast=fast)
    options.update(workdir=workdir, allow_divergence=allow_divergence, quiet=quiet, trust=trust, approvals=approvals)
    options.update(agent_telemetry=agent_telemetry, no_agent_telemetry=no_agent_telemetry)
    options.update(until=until, upstream=upstream, model=model, verify=verify, verify_timeout=verify_timeout)
    call(c, script("probe.replay.run"), script_argv(run=run, target=target, **options))
