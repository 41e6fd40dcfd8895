"""Invoke tasks: thin wrappers that parse options and call the `probe` scripts' main(argv)."""

import subprocess
import sys
from pathlib import Path

from invoke import Collection, Exit, task

from probe import analyze as analyze_script
from probe import capture as capture_script
from probe import diff as diff_script
from probe import pipeline as pipeline_script
from probe import proxies as proxies_script
from probe import targets as targets_script
from probe.errors import run_main
from probe.targets import known_targets

CAPTURE_HELP = {
    "target": "agent to run: a name from targets/ (e.g. codex) or a path to a target YAML",
    "prompt": "prompt handed to the agent's command ({prompt} in the target file)",
    "command": "any shell command to run instead of the target's agent (captures an arbitrary client)",
    "upstream": "send every proxy to this URL instead of the real API, or `mock` for the bundled mock model",
    "mock_transport": "with --upstream mock: websocket (codex's default) or http (refuses WebSockets)",
    "label": "suffix for the run folder's name",
    "port": "NAME=PORT listen port for one proxy (0 picks a free port); repeatable",
    "timeout": "stop the agent after this many seconds",
    "keep_secrets": "store secret headers unredacted (they are fingerprinted by default)",
    "full_traffic": "leave out the target's quiet_env, so the agent also makes its optional calls "
    "(telemetry, update checks)",
    "upstream_proxy": "reach upstreams through this HTTP proxy, http://[user:pass@]host:port, or `none` "
    "(default: the target's upstream_proxy, else HTTPS_PROXY)",
    "agent_version": "run this version of the target's npm package (e.g. 0.166.0), installed into "
    ".agents/<package>@<version>/, instead of the agent on PATH",
}


def target_or_default(c, target: str | None) -> str:
    """--target, else `probe.target` from invoke.yaml, so a project can set its usual agent once."""
    chosen = target or c.config.probe.target
    if not chosen:
        raise Exit(f"error: --target is required (known targets: {', '.join(known_targets())})", code=2)
    return chosen


def call(main, argv: list[str]) -> None:
    code = run_main(main, argv)
    if code:
        raise Exit(code=code)  # run_main has already printed the one-line reason


def capture_argv(
    c,
    target,
    prompt,
    command,
    upstream,
    mock_transport,
    label,
    port,
    timeout,
    keep_secrets,
    upstream_proxy,
    full_traffic,
    agent_version,
) -> list[str]:
    argv = ["--target", target_or_default(c, target)]
    argv += ["--prompt", prompt] if prompt is not None else []
    argv += ["--command", command] if command is not None else []
    argv += ["--upstream", upstream] if upstream else []
    argv += ["--mock-transport", mock_transport] if mock_transport else []
    argv += ["--label", label] if label else []
    argv += [argument for spec in port or [] for argument in ("--port", spec)]
    argv += ["--timeout", str(timeout)] if timeout else []
    argv += ["--keep-secrets"] if keep_secrets else []
    argv += ["--upstream-proxy", upstream_proxy] if upstream_proxy else []
    argv += ["--full-traffic"] if full_traffic else []
    argv += ["--agent-version", agent_version] if agent_version is not None else []
    return argv


@task(
    help={
        key: CAPTURE_HELP[key]
        for key in ("target", "upstream", "mock_transport", "port", "keep_secrets", "upstream_proxy")
    }
    | {"run": "run folder to record into (default: a new one under data/<target>/)"},
    iterable=["port"],
)
def proxies(
    c, target=None, upstream=None, mock_transport=None, run=None, port=None, keep_secrets=False, upstream_proxy=None
):
    """Start the target's reverse proxies and record until Ctrl-C, to point any client at them by hand."""
    argv = ["--target", target_or_default(c, target)]
    argv += ["--upstream", upstream] if upstream else []
    argv += ["--mock-transport", mock_transport] if mock_transport else []
    argv += ["--run", run] if run else []
    argv += [argument for spec in port or [] for argument in ("--port", spec)]
    argv += ["--keep-secrets"] if keep_secrets else []
    argv += ["--upstream-proxy", upstream_proxy] if upstream_proxy else []
    call(proxies_script.main, argv)


@task(help=CAPTURE_HELP, iterable=["port"])
def capture(
    c,
    target=None,
    prompt=None,
    command=None,
    upstream=None,
    mock_transport=None,
    label="",
    port=None,
    timeout=None,
    keep_secrets=False,
    upstream_proxy=None,
    full_traffic=False,
    agent_version=None,
):
    """Run the agent once through the proxies and record every exchange into a new run folder."""
    call(
        capture_script.main,
        capture_argv(
            c,
            target,
            prompt,
            command,
            upstream,
            mock_transport,
            label,
            port,
            timeout,
            keep_secrets,
            upstream_proxy,
            full_traffic,
            agent_version,
        ),
    )


@task(
    help={
        "run": "`latest` (default), a run folder name, or a path to a run folder",
        "target": "use this target's renderer; with --run latest, pick the newest run of this target",
        "input": "analyse this traffic.jsonl instead of a run folder",
        "output": "where to write the report (with --input)",
        "no_redact": "show token-shaped strings and URL secrets as captured (headers stay redacted)",
    }
)
def analyze(c, run=None, target=None, input=None, output=None, no_redact=False):
    """Write report.md: what the agent sent and what came back, turn by turn."""
    argv = ["--run", run] if run else []
    argv += ["--target", target] if target else []
    argv += ["--input", input] if input else []
    argv += ["--output", output] if output else []
    argv += ["--no-redact"] if no_redact else []
    call(analyze_script.main, argv)


@task(
    help={
        "run": "a run to compare, as --run for analyze takes it; give it twice (A, then B)",
        "target": "with --run latest: the newest run of this target",
        "output": "write the Markdown here instead of printing it",
    },
    iterable=["run"],
)
def diff(c, run=None, target=None, output=None):
    """Compare two runs (two versions of one agent, or two agents): endpoints, request shape, headers,
    instructions, tools and turns, with ids, temp paths and timestamps ignored."""
    argv = [part for spec in run or [] for part in ("--run", spec)]
    argv += ["--target", target] if target else []
    argv += ["--output", output] if output else []
    call(diff_script.main, argv)


@task(help=CAPTURE_HELP, iterable=["port"])
def pipeline(
    c,
    target=None,
    prompt=None,
    command=None,
    upstream=None,
    mock_transport=None,
    label="",
    port=None,
    timeout=None,
    keep_secrets=False,
    upstream_proxy=None,
    full_traffic=False,
    agent_version=None,
):
    """Capture a run and write its report in one step; exits with the agent's exit code."""
    call(
        pipeline_script.main,
        capture_argv(
            c,
            target,
            prompt,
            command,
            upstream,
            mock_transport,
            label,
            port,
            timeout,
            keep_secrets,
            upstream_proxy,
            full_traffic,
            agent_version,
        ),
    )


@task
def targets(c):
    """List the known targets (targets/*.yaml) with their description, renderer, proxies and agent."""
    call(targets_script.main, [])


@task(
    help={
        "runs": "runs per measurement; the median is reported",
        "sizes": "capture sizes in MB for the analyzer benchmark, comma-separated",
    }
)
def bench(c, runs="5", sizes="10,100,1000"):
    """Measure streaming latency, throughput, analyzer speed, report growth and masking cost, and print the figures."""
    if not runs.isascii() or not runs.isdigit() or int(runs) < 1:
        raise Exit(f"error: --runs {runs!r}: expected a whole number, 1 or more", code=2)
    root = Path(__file__).resolve().parent
    scripts = [
        ["streaming.py"],
        ["throughput.py"],
        ["analyzer.py", "--sizes", sizes],
        ["report_growth.py"],
        ["redaction.py"],
    ]
    for script, *options in scripts:
        print(f"\n== bench/{script}", flush=True)
        result = subprocess.run(
            [sys.executable, str(root / "bench" / script), "--runs", str(runs), *options], cwd=root / "bench"
        )
        if result.returncode:
            raise Exit(f"bench/{script} failed with exit code {result.returncode}", code=result.returncode)


ns = Collection(proxies, capture, analyze, diff, pipeline, targets, bench)
ns.configure({"probe": {"target": None}})
