"""Invoke tasks: thin wrappers that parse options and call the `probe` scripts' main(argv). The tasks that record
and analyse runs are here; what-if (compare, fork, resend) and the team lake's have a module each; probe.program
gathers them all into the collection that `agent-probe` and `invoke` run.

Conventions, the same in every task:
- A short flag means one option everywhere (SHORT_FLAGS); options without one are long only.
- The help of an option that takes a value starts with its placeholder: `--port`: "NAME=PORT: ...".
- Defaults come from invoke.yaml (`probe.target`, `probe.data_dir`); a command-line option always wins.
"""

import inspect
import subprocess
import sys
from pathlib import Path

from invoke import Exit, Task, task

from probe.capture.imports import TASK_HELP as IMPORT_HELP
from probe.tasks.calls import ProbeTask, agent_arguments, call, script, script_argv, target_or_default

ROOT = Path(__file__).resolve().parents[2]  # the checkout: invoke.yaml's folder

HELP = {
    "target": "NAME|FILE: the agent's target, a name from targets/ (e.g. codex) or a target YAML file "
    "(default: probe.target in invoke.yaml)",
    "prompt": "TEXT: the prompt handed to the agent's command ({prompt} in the target file); without it (and "
    "without --command), the agent's own interactive session runs in this terminal. Arguments after a standalone "
    "-- go to the agent's command",
    "command": "SHELL-COMMAND: run this instead of the target's agent (to capture any client), with the target's "
    "private home unless --home own; {prompt} in it is --prompt, shell-quoted",
    "upstream": "URL|mock: send every proxy to this URL instead of the real API, or to the bundled mock model",
    "mock_transport": "websocket|http: with --upstream mock, whether the mock takes WebSockets (codex's default) "
    "or refuses them",
    "label": "TEXT: added to the run folder's name",
    "scenario": "NAME: the release scenario the run plays, recorded as its manifest's `scenario` (see "
    "docs/releases.md)",
    "resume": "RUN: go on with the agent's session kept with this run (`latest`, a run folder name or a run folder), "
    "in a new run whose agent gets a copy of that run's state",
    "login": "NAME: the target's login the agent signs in with (default: the first `invoke targets` lists)",
    "port": "NAME=PORT: the listen port of one proxy (0 picks a free port); repeat it for each proxy",
    "timeout": "SECONDS: stop the agent after this long",
    "keep_secrets": "store secret headers unmasked (by default they are replaced by a fingerprint)",
    "full_traffic": "leave out the target's quiet_env, so that the agent also makes its optional calls "
    "(telemetry, update checks)",
    "all_hosts": "also record every other host the agent talks to, through a forward proxy on 127.0.0.1 with a "
    "certificate authority made for the run",
    "agent_telemetry": "point the agent's own telemetry at a receiver on 127.0.0.1, kept as telemetry.jsonl "
    "(default: on against the mock or a replay and in an interactive session)",
    "no_agent_telemetry": "leave the agent's own telemetry as it is, even where --agent-telemetry is the default",
    "hooks": "add a hook of the run's to the agent's own hook events (Claude Code's), kept as hooks.jsonl "
    "(default: with the agent's telemetry)",
    "no_hooks": "add no hook to the agent's, even where --hooks is the default",
    "upstream_proxy": "URL|none: reach the upstreams through this HTTP proxy, http://[user:pass@]host:port, or "
    "directly (default: the target's upstream_proxy, else HTTPS_PROXY)",
    "agent_version": "X.Y.Z: run this version of the target's npm package (or PyPI distribution), installed into "
    ".agents/<package>@<version>/, instead of the agent on PATH",
    "quiet": "print no line per finished exchange on stderr while recording (the live feed)",
    "workdir": "FOLDER|fresh: run the agent in this folder (`.`: the current one); `fresh`, the default with "
    "--prompt: a new empty folder outside any git repository, removed after the run",
    "home": "own|private: own: the agent runs with your own settings, memory files and login; private: a new, "
    "empty home prepared by the target (default: own for an interactive session with a real API, else private)",
    "feed": "FILE: write the live feed to this file instead of stderr (an interactive session's default: "
    "live-feed.txt in the run folder)",
    "mcp_server": "NAME=COMMAND|URL: give the agent this MCP server (a command line, or an http(s) URL), recorded "
    "into mcp.jsonl; repeat it for each server",
    "mcp_config": 'FILE: give the agent the MCP servers of this {"mcpServers": {...}} JSON file, recorded; repeatable',
    "no_mcp": "with --home own, leave the MCP servers of your own configuration to the agent, unrecorded",
    "view": "serve the viewer from 127.0.0.1 while the run is recorded, at an address with a random token "
    "(printed), and after it until Ctrl-C",
}


@task(
    klass=ProbeTask,
    iterable=["port"],
    help={name: HELP[name] for name in ("target", "upstream", "mock_transport", "port", "keep_secrets", "quiet")}
    | {"all_hosts": HELP["all_hosts"]}
    | {
        "upstream_proxy": HELP["upstream_proxy"],
        "run": "FOLDER: the run folder to record into (default: a new one under the data folder)",
    },
)
def proxies(
    c,
    target=None,
    upstream=None,
    mock_transport=None,
    run=None,
    port=None,
    keep_secrets=False,
    upstream_proxy=None,
    quiet=False,
    all_hosts=False,
):
    """Start the target's reverse proxies and record until Ctrl-C, to point any client at them by hand.

    Each finished exchange is shown as one line on stderr (--quiet: none).
    """
    options = dict(upstream=upstream, mock_transport=mock_transport, run=run, port=port, keep_secrets=keep_secrets)
    options |= dict(all_hosts=all_hosts)
    call(
        c,
        script("probe.record", "proxies_main"),
        script_argv(target=target_or_default(c, target), **options, upstream_proxy=upstream_proxy, quiet=quiet),
    )


def agent_run_task(name: str, main, summary: str, serves_viewer: bool = False) -> Task:
    """`capture` and `pipeline`: the same options, declared once here, handed to different scripts; `pipeline`
    also takes --view."""

    def run_agent(
        c,
        target=None,
        prompt=None,
        command=None,
        upstream=None,
        mock_transport=None,
        login=None,
        resume=None,
        label="",
        scenario=None,
        port=None,
        timeout=None,
        keep_secrets=False,
        upstream_proxy=None,
        full_traffic=False,
        all_hosts=False,
        agent_telemetry=False,
        no_agent_telemetry=False,
        mcp_server=None,
        mcp_config=None,
        no_mcp=False,
        hooks=False,
        no_hooks=False,
        agent_version=None,
        workdir=None,
        home=None,
        feed=None,
        quiet=False,
        view=False,
    ):
        given = dict(locals())  # every option of the task's signature goes to the script under its own name, in order
        options = {name: given[name] for name in inspect.signature(run_agent).parameters if name != "c"}
        argv = script_argv(**options | {"target": target_or_default(c, target)})
        call(c, main, argv + agent_arguments(c))

    run_agent.__doc__ = summary
    if not serves_viewer:  # capture has no --view: invoke takes the options from the signature
        signature = inspect.signature(run_agent)
        run_agent.__signature__ = signature.replace(
            parameters=[parameter for parameter in signature.parameters.values() if parameter.name != "view"]
        )
    options = {name: text for name, text in HELP.items() if serves_viewer or name != "view"}
    return task(klass=ProbeTask, name=name, help=options, iterable=["port", "mcp_server", "mcp_config"])(run_agent)


capture = agent_run_task(
    "capture",
    script("probe.record", "capture_main"),
    "Run the agent once through the proxies and record every exchange into a new run folder (an interactive "
    "session's report is written when it ends).",
)
pipeline = agent_run_task(
    "pipeline",
    script("probe.pipeline"),
    "Capture a run and write its report in one step; exits with the agent's exit code.",
    serves_viewer=True,
)


@task(
    klass=ProbeTask,
    help={
        "run": "RUN: `latest` (default), `all` (every run), a run folder name, or a run folder; a report is "
        "rebuilt only if it is older than its capture, its manifest or the code that makes it",
        "force": "rebuild the reports even if they are up to date",
        "target": "NAME|FILE: use this target's renderer; with --run latest, all or a run name, only this "
        "target's runs",
        "input": "TRAFFIC: analyse this traffic.jsonl instead of a run folder (always written)",
        "output": "REPORT: with --input, where to write the report (default: report.md beside the input)",
        "no_redact": "show token-shaped strings and URL secrets as captured (headers stay masked)",
        "prices": "FILE: a YAML price file priced before the bundled price database (default: $PROBE_PRICES)",
        "jobs": "N: with --run all, runs analysed side by side, each in a process of its own (default: the CPUs "
        "this process may use, with 8 runs or more; 1: one after another)",
    },
)
def analyze(c, run=None, force=False, target=None, input=None, output=None, no_redact=False, prices=None, jobs=None):
    """Write report.md, report.html and turns.jsonl: what the agent sent and what came back, turn by turn."""
    options = dict(run=run, force=force, target=target, input=input, output=output, no_redact=no_redact)
    call(c, script("probe.analysis.analyze"), script_argv(**options, prices=prices, jobs=jobs))


@task(
    klass=ProbeTask,
    help={
        "run": "RUN: `latest` (default), a run folder name, or a run folder path",
        "target": "NAME|FILE: with --run latest, the newest run of this target",
        "live": "serve the viewer from 127.0.0.1 at an address with a random token (printed), following the run "
        "while it is recorded, until Ctrl-C (see docs/outputs.md)",
    },
)
def view(c, run=None, target=None, live=False):
    """Open the run's report.html (brought up to date first) in the default browser, or print its path."""
    call(c, script("probe.analysis.view"), script_argv(run=run, target=target, live=live))


@task(
    klass=ProbeTask,
    help={
        "run": "RUN: `latest` (default), a run folder name, or a run folder path; with --format parquet, `all` too",
        "target": "NAME|FILE: with --run latest, the newest run of this target (with --run all, its runs)",
        "format": "har|mitm|vcr|perfetto|parquet|otlp: HAR 1.2 (default), mitmproxy's flows.mitm, a VCR.py cassette, "
        "the run in time (Perfetto), the SQL views as Parquet (into --output DIR), or spans to OTLP (see --otlp)",
        "output": "FILE: where to write it (default: traffic.har, flows.mitm, traffic.vcr.yaml or trace.perfetto.json "
        "in the run folder); with --format parquet, the folder of the tables (needed)",
        "force": "write the file even if it is up to date (or replace a flows.mitm an older capture wrote)",
        "otlp": "URL: send OpenTelemetry GenAI spans to this OTLP/HTTP base endpoint (/v1/traces is added)",
        "with_content": "with --otlp: put the messages, instructions and tool definitions into the spans",
        "keep_secrets": "har, mitm and vcr: what the capture holds, unmasked, to traffic.unmasked.har, "
        "flows.unmasked.mitm or traffic.vcr.unmasked.yaml (unless --output says where)",
    },
)
def export(c, run=None, target=None, format=None, output=None, force=False, otlp=None, with_content=False,
           keep_secrets=False):  # fmt: skip
    """Export runs for other tools: HAR (browsers' devtools), mitmproxy's flows, VCR.py, Perfetto, Parquet, OTel."""
    options = dict(format=format, output=output, force=force, otlp=otlp, with_content=with_content,
                   keep_secrets=keep_secrets)  # fmt: skip
    call(c, script("probe.analysis.export"), script_argv(run=run, target=target, **options))


@task(
    klass=ProbeTask,
    iterable=["run"],
    help={
        "run": "RUN: a run to compare, as analyze --run takes it; give it twice (A, then B)",
        "target": "NAME: with --run latest, the newest run of this target",
        "output": "FILE: write the Markdown here instead of printing it",
        "wire": "compare endpoints, request shape and headers even when the runs speak different APIs",
        "prices": "FILE: a YAML price file priced before the bundled price database (default: $PROBE_PRICES)",
    },
)
def diff(c, run=None, target=None, output=None, wire=False, prices=None):
    """Compare two runs (two versions of one agent, or two agents), with ids, temp paths and timestamps ignored.

    It names the structural changes (endpoints, request shape, headers, instructions, tools) apart from what is
    measured (usage, sizes, timings), with the agent's home and the run folder ignored too. Two agents that speak
    different APIs are compared on what the model sees; --wire compares their wire too.
    """
    call(c, script("probe.write.diff"), script_argv(run=run, target=target, output=output, wire=wire, prices=prices))


@task(klass=ProbeTask, name="import", positional=["file"], help=IMPORT_HELP)
def import_(c, file, target=None, label=None, account=None):
    """Import a recording made elsewhere (HAR, mitmproxy flows, a cassette, a trace) as a new run, and analyse it."""
    call(c, script("probe.import_capture"), [file, *script_argv(target=target, label=label, account=account)])


@task(klass=ProbeTask)
def targets(c):
    """List the known targets (targets/*.yaml) with their description, renderer, proxies, agent and logins."""
    call(c, script("probe.runs.targets"), [])


@task(klass=ProbeTask, help={"update": "write the rebuilt reports, turns and diffs over the committed ones"})
def samples(c, update=False):
    """Re-analyse the bundled sample runs and compare with their committed reports, turns and diffs."""
    call(c, script("probe.samples"), script_argv(update=update))


@task(
    klass=ProbeTask,
    help={
        "runs": "N: runs per measurement; the median is reported (default: 5)",
        "sizes": "MB,MB,...: capture sizes for the analyzer benchmark (default: 10,100,1000)",
        "quick": "small sizes and one run each: checks that every benchmark works, in about two minutes",
        "only": "NAME,...: only these benchmarks (bench/NAME.py), the heavy ones too, which run only when named "
        "(lake_scale: 10,000 runs published to a team lake on object storage)",
    },
)
def bench(c, runs=None, sizes=None, quick=False, only=None):
    """Measure the proxies, the analyzer, masking, the viewer and SQL, each beside its floor, and print them.

    Streaming latency, throughput, analyzer speed, report growth, masking cost, how soon the viewer opens, and a
    query over 1 GB of runs.
    """
    if not (ROOT / "bench" / "suite.py").is_file():  # an installed agent-probe has no bench/ beside it
        raise Exit("error: bench runs from agent-probe's checkout, which holds the benchmarks (bench/)", code=2)
    options = script_argv(runs=runs, sizes=sizes, quick=quick, only=only)
    suite = [sys.executable, str(ROOT / "bench" / "suite.py"), *options]
    result = subprocess.run(suite, cwd=ROOT / "bench")
    if result.returncode:
        raise Exit(code=result.returncode)  # the suite has said which benchmark failed
