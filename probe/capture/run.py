"""Records one agent run: new run folder, proxies up, agent run to its end, proxies down, manifest."""

import argparse
import contextlib
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from probe.capture import agent_home, agents, environment, forward, hangup, processes, resume, scrub, session, watchdog
from probe.capture.account import transcript
from probe.capture.account.telemetry import AgentTelemetry, plan_telemetry
from probe.capture.announce import announce, announce_agent
from probe.capture.ending import finish_manifest, proxy_outcome, report_outcome
from probe.capture.forking import ForkSwitch
from probe.capture.hooks.plan import AgentHooks, plan_hooks
from probe.capture.mcp.switch import McpPlan, plan_mcp
from probe.capture.options import home_of, mock_transport_of, telemetry_of, workdir_of
from probe.capture.ports import parse_port_overrides
from probe.capture.proxies import RunningProxies, find_mitmdump, start_proxies
from probe.capture.refusal import refusing_environment
from probe.capture.supervision import INTERRUPTED, Outcome, hung_up, supervise, wait_for_a_problem
from probe.capture.terminal import check_interactive
from probe.capture.upstreams import UpstreamProxy, check_upstream, choose_upstream_proxy, is_local
from probe.common.cli import FRESH
from probe.common.errors import ProbeError, RunError, UsageError, one_line
from probe.redact.secrets import mask_command
from probe.runs.targets import Target


@dataclass
class CaptureResult:
    run: Path
    status: str
    exit_code: int  # what the capture exits with
    note: str | None = None
    agent_exit_code: int | None = None
    last_word: str | None = None  # said after the run, in place of the agent's own resume hint (probe.capture.resume)


# Given the run's traffic.jsonl once the run folder exists; returns what stops it after the proxies have stopped.
Watch = Callable[[Path], Callable[[], None]]


@dataclass
class Plan:
    """Everything one recording needs, decided before anything starts."""

    target: Target
    prompt: str | None
    command: str | None  # a shell command instead of the target's agent
    chosen: agents.Agent | None  # the target's agent; None with a command, or with no agent at all
    upstream: str | None
    label: str
    ports: dict[str, int]  # --port: the proxies given a fixed port
    timeout: float | None
    keep_secrets: bool
    mock_transport: str
    tunnel: UpstreamProxy
    full_traffic: bool
    run: Path | None = None  # record into this folder instead of a new one
    agent: bool = True  # False: no agent, record until stopped (`invoke proxies`)
    watch: "Watch | None" = None  # started once the run folder exists, stopped after the proxies
    listen_from_target: bool = False  # the proxies without --port listen on the target's `listen:`, not a free port
    stand_in: bool = False  # the upstream stands in for the model (the mock, a replay): the agent gets mock_env
    workdir: str | None = None  # where the agent runs: a folder, `fresh` (see agent_home.fresh_workdir), or here
    local_upstream: bool = False  # --upstream is on this machine: mock_env fills what the user did not set
    home: str = "private"  # own: the user's own home, settings and login; private: a new one (see --home)
    agent_args: tuple[str, ...] = ()  # given after `--`: added to the agent's command
    interactive: bool = False  # the agent's own UI in this terminal (a run given neither prompt nor command)
    all_hosts: bool = False  # a forward proxy too, which every other host the agent talks to goes through
    origin: resume.Origin | None = None  # --resume: the run whose kept session the agent goes on with
    telemetry: AgentTelemetry | None = None  # --agent-telemetry: the switch and its receiver (set by capture)
    fork: ForkSwitch | None = None  # a replay's fork: where its requests go once the fork point is served
    mcp: McpPlan | None = None  # the MCP servers given to the agent, each recorded (probe.capture.mcp)
    hooks: AgentHooks | None = None  # --hooks: the recorder added to the agent's hook events (set by capture)
    scenario: str | None = None  # --scenario: the release scenario the run plays (probe.releases)


def capture(
    target: Target,
    prompt: str | None,
    command: str | None,
    upstream: str | None = None,
    label: str = "",
    ports: list[str] | tuple = (),
    timeout: float | None = None,
    keep_secrets: bool = False,
    mock_transport: str = "websocket",
    upstream_proxy: str | None = None,
    full_traffic: bool = False,
    *,
    run: Path | None = None,
    agent: bool = True,
    agent_version: str | None = None,
    watch: "Watch | None" = None,
    signals: processes.StopSignals | None = None,
    listen_from_target: bool = False,
    stand_in: bool = False,
    workdir: str | None = None,
    home: str = "private",
    agent_args: list[str] | tuple = (),
    login: str | None = None,
    all_hosts: bool = False,
    resume_run: str | None = None,
    agent_telemetry: bool | None = False,
    fork: ForkSwitch | None = None,
    mcp_servers: list[str] | tuple = (),
    mcp_configs: list[str] | tuple = (),
    no_mcp: bool = False,
    agent_hooks: bool | None = None,
    scenario: str | None = None,
) -> CaptureResult:
    """Record one run. Each proxy listens on a free port of its own, so that any number of runs can record at
    once, unless `ports` (--port NAME=PORT) or, with `listen_from_target`, the target's `listen:` fix one.
    With `agent=False` no agent is started and the proxies record until stopped.
    `agent_version` runs that version of the target's npm package (see probe.capture.agents). `watch`, if given,
    is started with the run's traffic.jsonl as soon as the run folder exists (the live feed, from above this
    stage), and the function it returns is called once the proxies have stopped. `signals`, if given, is the
    caller's stop-signal handling, already entered: it then outlives the capture (see StopSignals.cleaned_up).
    `stand_in` says the upstream URL is a local stand-in for the model (a replay): the agent then gets the
    target's `mock_env`, as with the mock. `workdir`: the folder the agent runs in (default: this process's), or
    `fresh` for a new empty one. `home`: "private" (a new home the target prepares) or "own" (the user's; see
    target_environment). `agent_args` are added to the agent's command. `login` names the target's login the agent
    uses (default: the first it lists; see probe.runs.logins). An agent run given neither a prompt nor a
    command is the agent's interactive session, in this terminal. `all_hosts` adds the forward proxy (--all-hosts).
    `resume_run` (--resume): the run whose kept session goes on. `agent_telemetry`: see probe.capture.account.
    `fork`: a replay's fork (probe.capture.forking). `mcp_servers` (--mcp-server), `mcp_configs` (--mcp-config) and
    `no_mcp`: the MCP servers the agent is given, each recorded (probe.capture.mcp.switch). `agent_hooks`: see
    probe.capture.hooks.plan. `scenario` (--scenario) is recorded as the manifest's `scenario`."""
    interactive = agent and prompt is None and command is None
    if agent_args and (command is not None or not agent):
        raise UsageError("the arguments after -- go to the target's agent; with --command, write them into it")
    if command is not None and prompt is not None and "{prompt}" not in command:
        raise UsageError("--prompt goes to --command where the command writes {prompt}: it names none")
    if agent_version is not None and (command is not None or not agent):
        raise UsageError("--agent-version chooses the version of the target's agent; it does not go with --command")
    if agent and command is None and not target.command:
        raise UsageError(f"{target.name} runs no agent of its own: give the client to record with --command")
    if interactive:
        check_interactive(target)
    origin = None
    if resume_run is not None:  # its command, before the login lays its arguments over it
        target, origin = resume.resumed_target(target, resume_run, interactive, command, home)
    template = None if command is not None else "interactive" if interactive else "command"
    stand_in = stand_in or upstream == "mock"
    target = environment.with_login(target, login, agent, template, home, stand_in, full_traffic, upstream)
    telemetry = plan_telemetry(target, agent_telemetry, agent and command is None, home)
    target = telemetry.switched_on(target)
    hooks = plan_hooks(target, agent_hooks, telemetry.state, agent and command is None, tuple(agent_args))
    check_upstream(upstream)  # before the manifest records it
    given_agent = agent and command is None  # the target's agent, which MCP servers are given to
    mcp = plan_mcp(target, mcp_servers, mcp_configs, no_mcp, given_agent, home, workdir, http=True, stand_in=stand_in)
    listen = parse_port_overrides(list(ports), target)
    tunnel = choose_upstream_proxy(upstream_proxy, target, dict(os.environ))
    find_mitmdump()  # named missing or old now, not after the agent was installed from npm
    # Last of the checks, as it may install the agent from npm.
    chosen = agents.choose(target, agent_version) if agent and command is None else None
    plan = Plan(
        target, prompt, command, chosen, upstream, label, listen, timeout, keep_secrets, mock_transport, tunnel,
        full_traffic, run, agent, watch, listen_from_target, stand_in, workdir,
        is_local(upstream), home, tuple(agent_args), interactive, all_hosts, origin, telemetry, fork, mcp, hooks,
        scenario,
    )  # fmt: skip
    agent_home.remove_stale()  # left behind by runs killed together with their watchdog
    # From here on, every child is known to a watchdog, which stops them and closes the run should this
    # process be killed (SIGKILL cannot be handled here).
    watchdog.start()
    cleaned_up = False
    try:
        with contextlib.nullcontext(signals) if signals else processes.StopSignals() as handling:
            result = record(plan, handling)
            handling.cleaned_up()
        cleaned_up = True
        return result
    except (ProbeError, KeyboardInterrupt):
        cleaned_up = True  # raised after the cleanup in record(), or before anything was started
        raise
    finally:
        watchdog.stop(done=cleaned_up)


def record(plan: Plan, signals: processes.StopSignals) -> CaptureResult:
    """The run itself, inside the signal handling: whatever happens, the cleanup in `finally` runs whole."""
    recording = proxies = home = workdir = kept = None
    stop_watching = None
    env: dict[str, str] = {}
    # Stopping is how a proxies-only recording ends normally.
    outcome = initial = INTERRUPTED if plan.agent else Outcome("complete", 0)
    try:
        recording = session.open_run(
            plan.target,
            plan.run,
            plan.label if plan.agent else "proxies",
            plan.prompt,
            None,
            plan.upstream,
            plan.keep_secrets,
            session.agent_fields(plan.chosen),
        )
        hangup.Output.guard(recording.run)  # from here, a terminal that hangs up has the run's log to go to
        if plan.agent:
            recording.set_session(session.kind(plan.interactive, plan.command), plan.home, plan.agent_args)
            recording.manifest["login"] = plan.target.login.name if plan.target.login else None
            recording.manifest["mcp"] = plan.mcp.manifest()
        recording.manifest["all_hosts"] = plan.all_hosts
        if plan.scenario is not None:  # a release run (probe.releases); other runs have no such field
            recording.manifest["scenario"] = plan.scenario
        watchdog.close_run(recording.run)
        if plan.watch is not None:
            # It reads what the addon writes, from a thread of this process: the proxies never wait for it.
            stop_watching = plan.watch(recording.run / "traffic.jsonl")
        try:
            proxies = start_proxies(
                plan.target,
                recording.run,
                plan.upstream,
                plan.ports,
                plan.keep_secrets,
                plan.mock_transport,
                plan.tunnel,
                plan.listen_from_target,
                plan.all_hosts,
                plan.stand_in,
                plan.fork,
                **({"mcp_upstreams": plan.mcp.http_upstreams()} if plan.mcp.http_upstreams() else {}),
            )
            if proxies.ca_folder is not None:
                watchdog.remove(proxies.ca_folder)
        except ProbeError as error:
            outcome = Outcome("proxy-failed", error.exit_code, str(error))
            raise
        recording.started(proxies)
        if plan.agent:
            home = agent_home.create()
            watchdog.remove(home)
            if plan.workdir == FRESH:
                workdir = agent_home.fresh_workdir()
                watchdog.remove(workdir.parent)
                if plan.interactive:
                    print(f"the agent works in a new empty folder, {workdir} (--workdir: another)", file=sys.stderr)
            if plan.target.resume is not None and plan.home == "private" and plan.command is None:
                kept = resume.SessionState(plan.target, plan.origin)
            cwd = workdir or Path(plan.workdir or os.getcwd())
            plan.telemetry.start(recording.run)
            outcome = run_agent(plan, recording, proxies, home, env, cwd, kept)
        else:
            announce(proxies.describe(), recording.run)
            outcome = wait_for_a_problem(lambda: proxies.problem(recording.run))
    except KeyboardInterrupt:
        if recording is None:
            raise  # stopped before the run folder existed: nothing to close
        outcome = hung_up(None) if signals.hung_up else outcome
    except ProbeError as error:
        if outcome is initial:  # not a proxy start failure, which says so itself: a write that failed
            outcome = Outcome("recording-failed", error.exit_code, str(error))
        raise
    finally:
        signals.cleaning_up()
        if proxies is not None:
            proxies.stop()
            outcome = proxy_outcome(proxies, outcome)
        plan.telemetry.stop(recording and recording.manifest)  # the agent has exited: its last exports have landed
        plan.hooks.stop(recording and recording.manifest)  # how many events its recorder kept
        if stop_watching is not None:
            stop_watching()  # after mitmdump, so that what it wrote on its way out is shown too
        if kept is not None:
            kept.keep(recording)  # before the home it may be in is removed, and scrubbed with the run's files
        if recording is not None and plan.agent:  # the agent's own session file, read before its home is removed
            transcript.keep(plan, recording, home, env)
        if home is not None:
            agent_home.remove(home)
        if workdir is not None:
            agent_home.remove_workdir(workdir)
        if recording is not None and recording.run.is_dir():
            if env and not plan.keep_secrets:
                # An agent may keep its state in the run folder ({run}/...) and copy its key into it.
                recording.manifest["agent_files_scrubbed"] = scrub.scrub_run(recording.run, run_secrets(plan, env))
            outcome = finish_manifest(recording, outcome, proxies)
    if outcome.status == "run-deleted":
        raise RunError(outcome.note)
    result = CaptureResult(recording.run, outcome.status, outcome.exit_code, outcome.note, outcome.agent_code)
    if plan.agent and plan.command is None and plan.home == "private":
        result.last_word = resume.after_run(plan.target, recording.run, resume.FIELD in recording.manifest)
    return result


def run_agent(
    plan: Plan,
    recording: session.Recording,
    proxies: RunningProxies,
    home: Path,
    env: dict[str, str],
    cwd: Path,
    kept: resume.SessionState | None = None,
) -> Outcome:
    """Start the agent (or the command) in `cwd` and supervise it to its end. `env` receives its environment at
    once, so the cleanup can scrub what the agent wrote even if it is interrupted."""
    if plan.chosen is not None:
        announce_agent(plan.chosen.describe(), agents.path_warning(plan.target, plan.chosen))
    for line in proxies.describe():
        print(f"proxy {one_line(line)}", file=sys.stderr)  # upstreams come from the target file
    # {agent_home}: the agent's private state folder, outside the run folder (see probe.capture.agent_home).
    values = {"prompt": plan.prompt or "", "run": str(recording.run.resolve()), "agent_home": str(home)}
    values.update({f"proxy.{name}": url for name, url in proxies.urls.items()}, workdir=str(cwd.resolve()))
    values.update({"ca": str(proxies.ca), "forward": proxies.agent_forward} if proxies.forward else {})  # --all-hosts
    values.update(plan.telemetry.values() if plan.telemetry else {})  # --agent-telemetry: {telemetry}
    # What the target set is recorded in the manifest; the rest of the environment is the user's own.
    target_env = environment.target_environment(
        plan.target, values, plan.stand_in, plan.full_traffic, plan.local_upstream, home=plan.home
    )
    forwarding = forward.forward_environment(plan.target, proxies.ca, proxies.agent_forward, values)
    forwarding = forwarding or refusing_environment(plan.stand_in)  # a stand-in model's run stays here
    env.update(environment.agent_environment(target_env, proxies.urls, forwarding))
    for name in plan.target.interactive_unset if plan.interactive else ():
        env.pop(name, None)
    if kept is not None:  # before the target's files, which win over the state it copies
        kept.place(values, env, home, recording)
    if plan.home == "private":  # the user's own home is never written to
        agent_home.populate(home, environment.filled_files(plan.target, plan.stand_in, values, env), recording.run)
    if not plan.keep_secrets:
        watchdog.scrub(run_secrets(plan, env))
    if plan.command is None:
        template = "interactive" if plan.interactive else "command"
        arguments = environment.filled_arguments(plan.target, template, values, env)
        arguments = plan.hooks.given(arguments, recording.run)  # --hooks: the recorder, into the settings it gives
        servers = plan.mcp.arguments(recording.run, home, proxies.mcp_urls, prompt_run=not plan.interactive)
        env.update(settings := plan.mcp.environment(recording.run, home, proxies.mcp_urls, env))  # settings files
        argv = [plan.chosen.program, *arguments, *servers, *plan.agent_args]
        # An {env.NAME} in the command may have put a key of the environment into it, in any shape.
        shown = [scrub.mask_values(argument, run_secrets(plan, env)) for argument in argv]
        tokens = plan.telemetry.secrets() if plan.telemetry else []  # (its variables' secrets are masked by name)
        given = {name: scrub.mask_values(value, tokens) for name, value in target_env.items()}
        recording.set_agent(shown, plan.chosen.version, given | settings | forwarding, cwd=cwd)
    else:
        # The prompt as one word of the shell's, whatever it holds.
        command = plan.command.replace("{prompt}", shlex.quote(plan.prompt)) if plan.prompt else plan.command
        argv = ["/bin/sh", "-c", command]
        recording.set_agent(["/bin/sh", "-c", mask_command(command)], None, target_env | forwarding, True, cwd)
    env["PWD"] = str(cwd)  # what opencode tells the model is its working directory, before its real one
    if plan.interactive:
        print("interactive session: leave the agent its own way (/exit, /quit…) to end the run", file=sys.stderr)
    return supervise(argv, env, plan.timeout, lambda: proxies.problem(recording.run), cwd, plan.interactive)


def run_secrets(plan: Plan, env: dict[str, str]) -> list[str]:
    """What is masked wherever the run keeps what its agent was given: its environment's secrets, and the token of
    the run's telemetry receiver (--agent-telemetry), which is in its endpoint's path."""
    return scrub.secret_values(env) + (plan.telemetry.secrets() if plan.telemetry else [])


def capture_from_arguments(
    args: argparse.Namespace,
    target: Target,
    watch: Watch | None,
    signals: processes.StopSignals | None = None,
    stand_in: bool = False,
    fork: ForkSwitch | None = None,
    mcp_servers: list[str] | tuple = (),
    mcp_configs: list[str] | tuple = (),
    no_mcp: bool = False,
) -> CaptureResult:
    """The run `capture` and `pipeline` both record, from the options they share (add_capture_arguments)."""
    result = capture(
        target,
        args.prompt,
        args.command,
        args.upstream,
        args.label,
        args.port,
        args.timeout,
        args.keep_secrets,
        mock_transport_of(args),
        args.upstream_proxy,
        args.full_traffic,
        agent_version=args.agent_version,
        watch=watch,
        signals=signals,
        stand_in=stand_in,
        workdir=workdir_of(args),
        home=home_of(args, stand_in, target.real_api_home),
        agent_args=args.agent_args,
        login=args.login,
        all_hosts=args.all_hosts,
        resume_run=args.resume,
        agent_telemetry=telemetry_of(args, stand_in),
        fork=fork,
        mcp_servers=args.mcp_server,
        mcp_configs=args.mcp_config,
        no_mcp=args.no_mcp,
        agent_hooks=getattr(args, "hooks", None),
        scenario=getattr(args, "scenario", None),
    )
    report_outcome(result)
    return result
