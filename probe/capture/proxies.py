"""Starts one mitmdump with a reverse proxy per target proxy, loading the capture addon."""

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from probe.capture import processes
from probe.capture.forking import ForkSwitch
from probe.capture.forward import (
    FORWARD_AUTH_VARIABLE,
    make_ca_folder,
    new_credentials,
    remove_ca_folder,
    seal,
    with_credentials,
    write_proxy_url,
)
from probe.capture.mcp import http_proxies
from probe.capture.mock_process import spawn_mock
from probe.capture.ports import PortTaken, busy, choose_ports, requested_ports
from probe.capture.status import READY_TIMEOUT, StatusReader, last_log_line, log_size, wait_until_ready
from probe.capture.upstreams import (
    UPSTREAM_PROXY_VARIABLE,
    UpstreamProxy,
    check_upstream,
)
from probe.common.errors import ProxyError, ToolMissing
from probe.common.forward import ALL_HOSTS
from probe.common.paths import display
from probe.common.state_key import state_dir
from probe.runs.targets import Target

ADDON = Path(__file__).parent / "recorder" / "addon.py"
PORT_ATTEMPTS = 5  # fresh free ports, each time another process takes one before mitmdump binds it
STOP_GRACE = 60.0  # seconds mitmdump gets to write what it holds before it is killed ($PROBE_STOP_GRACE)


@dataclass
class RunningProxies:
    process: subprocess.Popen
    urls: dict[str, str]  # proxy name -> http://127.0.0.1:PORT
    upstreams: dict[str, str]  # proxy name -> upstream URL
    upstream_proxy: UpstreamProxy = field(default_factory=lambda: UpstreamProxy(None, "none"))
    mock: subprocess.Popen | None = None
    log: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    status: StatusReader | None = None  # what the capture addon reports while it runs
    died: str | None = None  # set when mitmdump ended before it was asked to
    forward: str | None = None  # with --all-hosts: the forward proxy's URL, http://127.0.0.1:PORT
    ca_folder: Path | None = None  # with --all-hosts: the run's own CA (probe.capture.forward), removed at stop
    ca: Path | None = None  # its certificate, which the agent is told to trust
    forward_credentials: str | None = None  # user:password, which the forward proxy asks of its clients
    proxy_url_file: Path | None = None  # the forward proxy's URL with them, in the CA's folder
    mcp_urls: dict[str, str] = field(default_factory=dict)  # HTTP MCP server -> its proxy's URL, upstream's path
    mcp_upstreams: dict[str, str] = field(default_factory=dict)  # HTTP MCP server -> its URL

    @property
    def agent_forward(self) -> str | None:
        """The forward proxy's URL with the run's credentials: for the agent's environment only, never shown."""
        return with_credentials(self.forward, self.forward_credentials) if self.forward else None

    @property
    def recording_errors(self) -> int:
        return self.status.errors if self.status else 0

    @property
    def fatal(self) -> str | None:
        """Why recording cannot go on (a full disk), if the addon said so."""
        return self.status.fatal if self.status else None

    def read_status(self) -> None:
        if self.status is not None:
            self.status.read()

    def describe(self) -> list[str]:
        via = f" via {self.upstream_proxy.describe()}" if self.upstream_proxy.url else ""
        lines = [f"{name}  {url} -> {self.upstreams[name]}{via}" for name, url in self.urls.items()]
        if self.forward:
            where = f"CA {self.ca}, its URL with the credentials it asks for in {self.proxy_url_file}"
            lines.append(f"{ALL_HOSTS}  {self.forward} -> every other host{via}, {where}")
        return lines + http_proxies.describe(self.mcp_upstreams, self.mcp_urls)

    def problem(self, run: Path | None) -> tuple[str, str] | None:
        """Why recording cannot go on, as (the run's status, one line), or None while all is well."""
        self.read_status()
        if run is not None and not run.is_dir():
            return (
                "run-deleted",
                f"the run folder {display(run)} was deleted during the run, so nothing more "
                "could be recorded; the agent and the proxies were stopped",
            )
        if self.fatal:
            return "recording-failed", self.fatal
        if self.process.poll() is not None:
            self.note_death()
            return "proxy-failed", self.died
        return None

    def note_death(self) -> None:
        """Record, once, that mitmdump ended on its own: every exchange after that went unrecorded."""
        code = self.process.poll()
        if code is None or self.died:
            return
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        self.died = f"mitmdump stopped during the run ({how}): {last_log_line(self.log)}"

    def stop(self) -> None:
        self.note_death()
        # SIGINT is mitmdump's clean shutdown: the addon's `done` flushes what is still open. Writing a
        # 200 MB exchange takes seconds: waiting for it keeps it, where killing mitmdump would lose it.
        asked, grace = self.process.poll() is None, stop_grace()
        code = processes.stop(self.process, signal.SIGINT, grace=grace)
        if asked and code != 0 and not self.died:
            # Killed after the grace period (hung, or stopped with SIGSTOP), or failed on the way out: what it
            # still held may be missing, and the run must not read as complete.
            if code in (None, -signal.SIGKILL):
                how = f"it did not stop within {grace:g} s and was killed"
            else:
                how = f"exit code {code}: {last_log_line(self.log)}"
            self.died = f"mitmdump did not shut down cleanly ({how}); exchanges still open then may be missing"
        if self.mock is not None:
            processes.stop(self.mock, signal.SIGTERM, grace=2)
        if self.status is not None:
            self.status.close()  # mitmdump has exited: everything it reported is in the pipe
        remove_ca_folder(self.ca_folder)  # its key signs for any host: it goes with the run that trusted it


def stop_grace() -> float:
    """$PROBE_STOP_GRACE seconds if it is a number of seconds, else STOP_GRACE."""
    try:
        grace = float(os.environ.get("PROBE_STOP_GRACE", STOP_GRACE))
    except ValueError:
        return STOP_GRACE
    return grace if 0 <= grace < 86400 else STOP_GRACE


MINIMUM_MITMPROXY = (11, 0)
SLIM_MITMDUMP = "probe.capture.slim_mitmdump"  # mitmdump with only the recorder's addons, for this Python's mitmproxy


def find_mitmdump() -> str:
    """$PROBE_MITMDUMP, else the mitmdump installed with this Python, else the one on PATH; at least 11.0."""
    override = os.environ.get("PROBE_MITMDUMP")
    beside_python = Path(sys.executable).parent / "mitmdump"
    if override:
        found = shutil.which(override)
    elif beside_python.is_file():
        return str(beside_python)  # installed with this project, so its version is the pinned range's
    else:
        found = shutil.which("mitmdump")
    if not found:
        where = f"PROBE_MITMDUMP={override}" if override else "mitmdump"
        raise ToolMissing(
            f'{where} not found: install the project with `python3 -m pip install -e ".[dev]"`, which brings mitmproxy'
        )
    check_mitmdump_version(found)
    return found


@functools.cache  # a run checks before it starts anything, then starts it: one `--version` is enough
def check_mitmdump_version(mitmdump: str) -> None:
    try:
        output = subprocess.run([mitmdump, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ToolMissing(f"{mitmdump} does not run: {error}") from None
    match = re.search(r"Mitmproxy:\s*(\d+)\.(\d+)", output)
    if not match:
        raise ToolMissing(f"{mitmdump} does not look like mitmdump (no version in `--version`)")
    if (int(match.group(1)), int(match.group(2))) < MINIMUM_MITMPROXY:
        raise ToolMissing(
            f"{mitmdump} is mitmproxy {match.group(1)}.{match.group(2)}, but agent-probe needs 11 or "
            "newer: upgrade it (`pip install -U 'mitmproxy>=11'`) or unset PROBE_MITMDUMP"
        )


def mitmdump_command(mitmdump: str) -> list[str]:
    """How to start `mitmdump` (find_mitmdump's): the one installed with this Python as probe.capture.slim_mitmdump,
    which starts without the addons no capture uses; another (PROBE_MITMDUMP) as it is."""
    if mitmdump != str(Path(sys.executable).parent / "mitmdump"):
        return [mitmdump]
    # -P: the folder it starts in (the user's, perhaps an agent's project) is not put on sys.path, where a module
    # of that folder's could stand in for one of mitmproxy's.
    return [sys.executable, "-P", "-m", SLIM_MITMDUMP]


def start_mock(transport: str, finish_command: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start our mock model server on a free port and return it, once it serves, with its base URL."""
    return spawn_mock(transport, finish_command).ready(READY_TIMEOUT)


def start_proxies(
    target: Target,
    run: Path | None,
    upstream: str | None = None,
    port_overrides: dict[str, int] | None = None,
    keep_secrets: bool = False,
    mock_transport: str = "websocket",
    upstream_proxy: UpstreamProxy | None = None,
    listen_from_target: bool = False,
    all_hosts: bool = False,
    stand_in: bool = False,
    fork: ForkSwitch | None = None,
    mcp_upstreams: dict[str, str] | None = None,
) -> RunningProxies:
    """Start mitmdump (and the mock, for upstream "mock") and wait until it listens. Each proxy gets a free port
    of its own unless `port_overrides` (--port) or, with `listen_from_target`, the target's `listen:` fix one.
    With `all_hosts`, it also listens as a forward proxy on a free port, with a CA of the run's own; against a
    stand-in model (the mock, or `stand_in`: a replay) that proxy records what it is sent and forwards none of it.
    `fork`: a replay's fork, whose requests go on to its own upstream once its stand-in has served the fork point.
    `mcp_upstreams`: the run's HTTP MCP servers (name -> URL), each behind a reverse proxy of its own on a free port,
    recorded to mcp.jsonl; `mcp_urls` of the result is where the agent reaches each."""
    offline = stand_in or upstream == "mock"
    mcp_upstreams = mcp_upstreams or {}
    http_proxies.check_mcp_upstreams(mcp_upstreams)
    mitmdump = find_mitmdump()
    overrides = port_overrides or {}
    requested = requested_ports(target, overrides, listen_from_target) | ({ALL_HOSTS: 0} if all_hosts else {})
    ports = choose_ports(target, requested, overrides)  # a busy fixed port stops the run before anything starts
    check_upstream(upstream)
    mock = ca_folder = starting = None
    if upstream == "mock":
        # The mock and mitmdump start side by side: the mock's socket listens before either has started.
        starting = spawn_mock(mock_transport, target.mock_finish_command)
        mock, upstream = starting.process, starting.url
    try:
        ca_folder = make_ca_folder() if all_hosts else None
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                mcp = McpProxies(mcp_upstreams, http_proxies.choose_mcp_ports(mcp_upstreams))
                options = (keep_secrets, upstream_proxy, mock, ca_folder, offline, fork, mcp)
                running = start_mitmdump(mitmdump, target, run, upstream, ports, *options)
                if starting is not None:
                    try:
                        starting.ready(READY_TIMEOUT)
                    except BaseException:
                        running.stop()
                        raise
                return running
            except PortTaken as taken:
                name = next((name for name, port in ports.items() if port == taken.port), None)
                if name is not None and requested[name]:
                    raise ProxyError(busy(target, name, taken.port, overrides)) from None
                if attempt == PORT_ATTEMPTS:
                    raise
            ports = choose_ports(target, requested, overrides)
    except BaseException:
        if mock is not None:
            processes.stop(mock, grace=2)
        remove_ca_folder(ca_folder)
        raise


@dataclass(frozen=True)
class McpProxies:
    """The run's HTTP MCP servers (name -> URL) and the port each one's reverse proxy listens on."""

    upstreams: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)


def start_mitmdump(
    mitmdump: str,
    target: Target,
    run: Path | None,
    upstream: str | None,
    ports: dict[str, int],
    keep_secrets: bool,
    upstream_proxy: UpstreamProxy | None,
    mock,
    ca_folder: Path | None = None,
    offline: bool = False,
    fork: ForkSwitch | None = None,
    mcp: McpProxies | None = None,
) -> RunningProxies:
    """Start the one mitmdump serving every proxy of the target (and, given a `ca_folder`, the forward proxy, whose
    CA mitmproxy makes there), and wait until it says it listens on `ports`."""
    upstreams = {proxy.name: upstream or proxy.upstream for proxy in target.proxies}
    argv = [
        *mitmdump_command(mitmdump),
        *(fork.script() if fork is not None else []),
        "--listen-host",
        "127.0.0.1",
        "-s",
        str(ADDON),
        # lazy: connect upstream per request, so a dead upstream becomes a recorded 502, not a dropped client.
        "--set",
        "connection_strategy=lazy",
        # mitmproxy writes its certificate authority into its confdir at start: ~/.mitmproxy is the user's own.
        # The reverse proxies speak plain HTTP to the agent, so only the forward one uses it: its own, for this run.
        "--set",
        f"confdir={ca_folder or state_dir() / 'mitmproxy'}",
        "--set",
        "termlog_verbosity=warn",
        "--set",
        "flow_detail=0",  # (mitmdump's dumper; the slim start has none, and leaves the option unset)
        "--set",
        "probe_proxy_names=" + ",".join(f"{ports[name]}={name}" for name in ports),
        "--set",
        "probe_redact_headers=" + ",".join(target.redact_headers),
        "--set",
        f"probe_stall_timeout={target.stall_timeout:g}",
    ]
    for proxy in target.proxies:
        argv += ["--mode", f"reverse:{upstreams[proxy.name]}@{ports[proxy.name]}"]
    mcp = mcp or McpProxies()
    argv += http_proxies.mode_arguments(mcp.upstreams, mcp.ports)
    if ALL_HOSTS in ports:
        argv += ["--mode", f"regular@{ports[ALL_HOSTS]}"]
        argv += ["--set", "probe_forward_offline=true"] if offline else []
    if keep_secrets:
        argv += ["--set", "probe_keep_secrets=true"]
    argv += fork.options() if fork is not None else []
    upstream_proxy = upstream_proxy or UpstreamProxy(None, "none")
    env = dict(os.environ)
    env.pop(UPSTREAM_PROXY_VARIABLE, None)
    env[http_proxies.MCP_PROXIES_VARIABLE] = http_proxies.addon_variable(mcp.upstreams, mcp.ports)
    credentials = env[FORWARD_AUTH_VARIABLE] = new_credentials()  # never in argv: every user can read that
    if upstream_proxy.url:
        # Through the environment, not an option: mitmdump's argv is readable by every user (ps), and the
        # URL may carry the proxy's credentials.
        env[UPSTREAM_PROXY_VARIABLE] = upstream_proxy.url
        argv += ["--set", f"probe_no_proxy={upstream_proxy.no_proxy}"]
    log = None
    if run is not None:
        argv += ["--set", f"probe_traffic={run / 'traffic.jsonl'}"]
        argv += ["--set", f"probe_mcp={run / 'mcp.jsonl'}"] if mcp.upstreams else []
        log = run / "proxies.log"
    since = log_size(log)  # where this mitmdump's lines begin, after an earlier attempt's
    status_read, status_write = os.pipe()
    argv += ["--set", f"probe_status_fd={status_write}"]
    log_file = (
        os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") if log else subprocess.DEVNULL
    )
    try:
        process = processes.spawn(
            argv,
            signal.SIGINT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            env=env,
            pass_fds=(status_write,),
        )
    except BaseException:
        os.close(status_read)
        raise
    finally:
        os.close(status_write)  # mitmdump holds its own copy: the pipe ends when mitmdump does
        if log:
            log_file.close()
    running = RunningProxies(
        process,
        {name: f"http://127.0.0.1:{port}" for name, port in ports.items() if name != ALL_HOSTS},
        upstreams,
        upstream_proxy,
        None,  # the mock is the caller's until mitmdump is ready: it outlives a failed attempt
        log,
        ports,
        StatusReader(status_read),
    )
    try:
        processes.Interrupts.raise_pending()
        # The MCP proxies' ports too: a taken one is retried like any other free port.
        wait_until_ready(
            process, running.status, ports | {f"mcp {name}": port for name, port in mcp.ports.items()}, log, since
        )
    except BaseException:
        running.stop()
        raise
    running.mock = mock
    running.mcp_upstreams, running.mcp_urls = mcp.upstreams, http_proxies.local_urls(mcp.upstreams, mcp.ports)
    if ca_folder is not None:
        running.forward, running.ca_folder = f"http://127.0.0.1:{ports[ALL_HOSTS]}", ca_folder
        running.ca, running.forward_credentials = seal(ca_folder), credentials
        running.proxy_url_file = write_proxy_url(ca_folder, running.agent_forward)
    return running
