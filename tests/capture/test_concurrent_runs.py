"""Runs never share a proxy: any number of runs, of one target or of several, record at once, each its own
requests only; a fixed port another run holds stops the second run before its agent starts."""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, post_json, read_traffic, two_proxy_target

from probe.capture import ports as port_choice
from probe.capture import proxies as proxy_start
from probe.capture import status as proxy_status
from probe.capture.ports import free_port
from probe.common.errors import ProxyError

ITEST = "tests/data/itest.yaml"
# Waits at a gate until the test opens it, so that every run's agent is up at once; then sends one request
# through each of its run's proxies, its marker in the body.
CLIENT = textwrap.dedent(
    """
    import json, os, sys, time, urllib.request
    from pathlib import Path

    marker, gate = sys.argv[1], Path(sys.argv[2])
    (gate / (marker + ".ready")).touch()
    while not (gate / "go").exists():
        time.sleep(0.02)
    for variable, url in sorted(os.environ.items()):
        if variable.startswith("PROBE_PROXY_") and variable.endswith("_URL") and variable != "PROBE_PROXY_URL":
            body = {"model": "m", "messages": [{"role": "user", "content": marker + " via " + variable}]}
            request = urllib.request.Request(
                url + "/v1/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
    """
)


# The pipelines' own bounds on a start: the mock's and mitmdump's readiness, with a margin for a loaded machine.
START_TIMEOUT = 2 * proxy_status.READY_TIMEOUT + 60


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def gate(tmp_path) -> Path:
    folder = tmp_path / "gate"
    folder.mkdir()
    (tmp_path / "client.py").write_text(CLIENT)
    return folder


def client_command(gate: Path, marker: str) -> str:
    return shlex.join([sys.executable, str(gate.parent / "client.py"), marker, str(gate)])


def start_pipeline(data_dir: Path, target: str, command: str, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "probe.pipeline", "--target", target, "--upstream", "mock", "--quiet",
         "--timeout", "120", "--command", command, *options],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PROBE_DATA_DIR=str(data_dir)),
    )  # fmt: skip


def run_folder(stdout: str) -> Path:
    return Path(re.search(r"^run folder: (.+) \(", stdout, re.MULTILINE).group(1))


def proxy_variable(name: str) -> str:
    return f"PROBE_PROXY_{name.upper().replace('-', '_')}_URL"


def run_concurrently(data_dir: Path, gate: Path, runs: dict[str, str]) -> dict[str, Path]:
    """Start one pipeline per marker (marker -> target), all together; open the gate once every agent waits at
    it; return each marker's run folder."""
    started = {marker: start_pipeline(data_dir, runs[marker], client_command(gate, marker)) for marker in runs}

    def waiting() -> list[str]:
        return [marker for marker in runs if not (gate / f"{marker}.ready").exists()]

    # A loaded machine may take long to start four pipelines at once; each bounds its own start (the mock's and
    # mitmdump's), so wait for as long as they may, but no longer than one of them has ended without its agent.
    wait_for(lambda: not waiting() or any(started[marker].poll() is not None for marker in waiting()), START_TIMEOUT)
    if waiting():
        for process in started.values():
            process.terminate()  # the pipeline stops its mitmdump and mock on SIGTERM; a kill would orphan them
        ended = {marker: started[marker].communicate(timeout=60)[1].strip()[-2000:] for marker in waiting()}
        pytest.fail(f"not every agent started: {ended}")
    (gate / "go").touch()
    folders = {}
    for marker, process in started.items():
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
        folders[marker] = run_folder(stdout)
    return folders


def assert_only_its_own(run: Path, marker: str) -> None:
    """The run's capture holds one exchange per proxy of its own, sent to its own upstream, and nothing else."""
    manifest = json.loads((run / "manifest.json").read_text())
    upstreams = {proxy["name"]: proxy["upstream"] for proxy in manifest["proxies"]}
    entries = read_traffic(run)
    assert sorted((entry["proxy"], entry["request"]["body"]["messages"][0]["content"]) for entry in entries) == sorted(
        (name, f"{marker} via {proxy_variable(name)}") for name in upstreams
    )
    for entry in entries:
        assert entry["request"]["url"].startswith(upstreams[entry["proxy"]].rstrip("/")), entry["request"]["url"]
        assert entry["response"]["status"] == 200
    assert manifest["status"] == "complete" and manifest["exchanges"] == len(upstreams)


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_runs_of_one_target_at_once_each_record_their_own(private_data_dir, gate):
    runs = run_concurrently(private_data_dir, gate, {f"itest-{index}": ITEST for index in range(4)})
    assert len(set(runs.values())) == 4
    for marker, run in runs.items():
        assert_only_its_own(run, marker)
        assert run.parent == private_data_dir / "itest"


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_runs_of_different_targets_at_once_each_record_their_own(private_data_dir, gate):
    # codex and claude-code name fixed ports in their files (listen:), for the `proxies` command only.
    runs = run_concurrently(
        private_data_dir,
        gate,
        {"codex-1": "codex", "codex-2": "codex", "claude": "claude-code", "itest": ITEST},
    )
    for marker, run in runs.items():
        assert_only_its_own(run, marker)
    assert runs["codex-1"].parent == runs["codex-2"].parent == private_data_dir / "codex"


def test_a_fixed_port_held_by_another_run_stops_the_second_before_its_agent(private_data_dir, gate):
    port = free_port()
    first = start_pipeline(private_data_dir, ITEST, client_command(gate, "first"), "--port", f"model={port}")
    assert wait_for(lambda: (gate / "first.ready").exists()), "the first run's agent never started"
    second = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", ITEST, "--upstream", "mock", "--quiet",
         "--command", client_command(gate, "second"), "--port", f"model={port}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PROBE_DATA_DIR=str(private_data_dir)),
    )  # fmt: skip
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"error: port {port} for proxy 'model' is busy; choose another with --port model=PORT (0 picks a free one)"
    )
    assert not (gate / "second.ready").exists()  # its agent never started
    (gate / "go").touch()
    stdout, stderr = first.communicate(timeout=180)
    assert first.returncode == 0, stderr
    run = run_folder(stdout)
    assert_only_its_own(run, "first")
    assert f"127.0.0.1:{port}" in (run / "manifest.json").read_text()
    [other] = [folder for folder in (private_data_dir / "itest").iterdir() if folder != run]
    assert read_traffic(other) == []


def test_a_port_taken_between_the_check_and_the_bind_is_never_mistaken_for_ours(proxied, tmp_path, monkeypatch):
    """The check that a port is free and mitmdump's bind are two moments: another run may take the port in
    between. Its mitmdump then answers on that port, but this run's did not bind it, and is not taken as ready."""
    start, first_run = proxied
    first = start("mock", "http")
    held = first.ports["model"]
    real_choose = port_choice.choose_ports
    choices = []

    def racing_choose(target, requested, overrides):
        """The first choice hands out the held port, as if the other run took it just after the check."""
        if choices:
            chosen = real_choose(target, requested, overrides)
        else:
            chosen = {name: held if name == "model" else free_port() for name in requested}
        choices.append(chosen)
        return chosen

    monkeypatch.setattr(proxy_start, "choose_ports", racing_choose)
    second_run = tmp_path / "second"
    second_run.mkdir()
    target = two_proxy_target(tmp_path)

    # A free port: another is chosen, and the run goes on with it.
    second = proxy_start.start_proxies(target, second_run, "mock", mock_transport="http")
    try:
        assert len(choices) == 2 and second.ports["model"] not in first.ports.values()
        status, _, _ = post_json(second.urls["model"], "/v1/chat/completions", {"model": "m", "messages": []})
        assert status == 200
    finally:
        second.stop()
    assert [entry["proxy"] for entry in read_traffic(second_run)] == ["model"]

    # A fixed one: the run stops, saying so, and starts nothing more.
    choices.clear()
    with pytest.raises(ProxyError) as raised:
        proxy_start.start_proxies(target, second_run, "mock", {"model": held}, mock_transport="http")
    assert str(raised.value) == (
        f"port {held} for proxy 'model' is busy; choose another with --port model=PORT (0 picks a free one)"
    )
    assert len(choices) == 1
    status, _, _ = post_json(first.urls["model"], "/v1/chat/completions", {"model": "m", "messages": []})
    assert status == 200
    first.stop()
    assert [entry["proxy"] for entry in read_traffic(first_run)] == ["model"]
    assert len(read_traffic(second_run)) == 1
