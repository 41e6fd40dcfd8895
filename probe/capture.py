"""Records one agent run: new run folder, proxies up, agent run to its end, proxies down, manifest."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from probe import agents, processes, scrub, session
from probe.errors import ProbeError, run_main
from probe.paths import display
from probe.proxies import add_upstream_proxy_argument, choose_upstream_proxy, parse_port_overrides, start_proxies
from probe.secrets import mask_command
from probe.targets import Target, fill_placeholders, load_target


@dataclass
class CaptureResult:
    run: Path
    status: str  # complete, agent-failed or interrupted
    exit_code: int


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `capture` and `pipeline` share."""
    parser.add_argument("--target", required=True, help="target name (targets/NAME.yaml) or path to a target file")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--prompt", help="the prompt given to the target's agent command")
    what.add_argument("--command", help="run this shell command instead of the target's agent")
    parser.add_argument("--upstream", help="send every proxy to this URL instead, or `mock` for the bundled mock")
    parser.add_argument("--mock-transport", choices=["websocket", "http"], default="websocket",
                        help="with --upstream mock: `http` refuses WebSockets so agents use POST + SSE")
    parser.add_argument("--label", default="", help="added to the run folder's name")
    parser.add_argument("--port", action="append", default=[], metavar="NAME=PORT",
                        help="listen port for one proxy (0 = any free port); repeatable")
    parser.add_argument("--timeout", type=float, default=None, help="stop the agent after this many seconds")
    parser.add_argument("--keep-secrets", action="store_true", help="store secret headers unredacted")
    parser.add_argument("--full-traffic", action="store_true",
                        help="leave out the target's quiet_env, so the agent also makes its optional calls "
                             "(telemetry, update checks)")
    add_upstream_proxy_argument(parser)


def target_environment(target: Target, values: dict[str, str], mock: bool, full_traffic: bool) -> dict[str, str]:
    """The variables the target sets for its agent, placeholders filled: `env`, then `quiet_env` unless
    --full-traffic, then `mock_env` with the mock (later groups win)."""
    groups = [target.env] + ([] if full_traffic else [target.quiet_env]) + ([target.mock_env] if mock else [])
    return {key: fill_placeholders(value, values) for group in groups for key, value in group.items()}


def agent_environment(target_env: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(target_env)
    # The agent talks to our proxies on loopback: a corporate HTTP_PROXY must not capture that hop.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1,localhost"]))
    env["PROBE_PROXY_URL"] = next(iter(urls.values()))
    for name, url in urls.items():
        env[f"PROBE_PROXY_{name.upper().replace('-', '_')}_URL"] = url
    return env


def capture(target: Target, prompt: str | None, command: str | None, upstream: str | None = None,
            label: str = "", ports: list[str] | tuple = (), timeout: float | None = None,
            keep_secrets: bool = False, mock_transport: str = "websocket",
            upstream_proxy: str | None = None, full_traffic: bool = False) -> CaptureResult:
    program = agents.find_agent(target) if command is None else None
    overrides = parse_port_overrides(list(ports), target)
    tunnel = choose_upstream_proxy(upstream_proxy, target, dict(os.environ))
    recording = session.open_run(target, None, label, prompt, None, upstream, keep_secrets)
    proxies, env = None, {}
    status, exit_code, note = "interrupted", 130, None
    # {agent_home}: a private, empty folder for the agent's own state (config, session logs). It lives
    # outside the run folder and is removed afterwards, because those logs repeat prompts and outputs
    # unredacted; the run folder must hold no secret.
    agent_home = Path(tempfile.mkdtemp(prefix="agent-probe-home-"))
    try:
        with session.stop_signals_raise_interrupt():
            proxies = start_proxies(target, recording.run, upstream, overrides, keep_secrets, mock_transport, tunnel)
            recording.started(proxies)
            for line in proxies.describe():
                print(f"proxy {line}", file=sys.stderr)
            values = {"prompt": prompt or "", "run": str(recording.run.resolve()), "agent_home": str(agent_home)}
            values.update({f"proxy.{name}": url for name, url in proxies.urls.items()})
            # What the target set is recorded in the manifest; the rest of the environment is the user's own.
            target_env = target_environment(target, values, upstream == "mock", full_traffic)
            env = agent_environment(target_env, proxies.urls)
            if command is None:
                argv = [program] + [fill_placeholders(argument, values) for argument in target.command[1:]]
                recording.set_agent(argv, agents.agent_version(program), target_env)
            else:
                argv = ["/bin/sh", "-c", command]
                recording.set_agent(["/bin/sh", "-c", mask_command(command)], None, target_env)
            exit_code, note = run_agent(argv, env, timeout)
            status = "complete" if exit_code == 0 and note is None else "agent-failed"
            if note:
                status = "interrupted"
    except KeyboardInterrupt:
        note = "stopped by Ctrl-C or a signal"
    except ProbeError as error:
        status, exit_code, note = "proxy-failed", error.exit_code, str(error)
        raise
    finally:
        if proxies is not None:
            proxies.stop()
        shutil.rmtree(agent_home, ignore_errors=True)
        if env and not keep_secrets:
            # An agent may keep its state in the run folder ({run}/...) and copy its key into it.
            recording.manifest["agent_files_scrubbed"] = scrub.scrub_run(recording.run, env)
        recording.finish(status, exit_code, note)
    return CaptureResult(recording.run, status, exit_code)


def run_agent(argv: list[str], env: dict[str, str], timeout: float | None) -> tuple[int, str | None]:
    """Run the agent in its own process group; on any interruption stop the whole group."""
    stdin = None if sys.stdin is not None and sys.stdin.isatty() else subprocess.DEVNULL
    try:
        process = processes.spawn(argv, env=env, stdin=stdin)
    except OSError as error:
        raise ProbeError(f"cannot start {argv[0]}: {error.strerror}") from None
    deadline = time.monotonic() + timeout if timeout else None
    try:
        processes.Interrupts.raise_pending()
        while process.poll() is None:
            if deadline and time.monotonic() > deadline:
                processes.stop(process)
                return 124, f"agent stopped after the {timeout:g} s timeout"
            time.sleep(0.05)
    except KeyboardInterrupt:
        processes.stop(process)
        raise
    # The agent may have left children behind in its group (node workers, tool processes).
    processes.stop(process, grace=0)
    return process.returncode, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probe.capture", description=__doc__)
    add_capture_arguments(parser)
    args = parser.parse_args(argv)
    result = capture(load_target(args.target), args.prompt, args.command, args.upstream, args.label, args.port,
                     args.timeout, args.keep_secrets, args.mock_transport, args.upstream_proxy, args.full_traffic)
    print(f"run folder: {display(result.run)} ({result.status}, agent exit code {result.exit_code})")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(run_main(main))
