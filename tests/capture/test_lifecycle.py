"""How a run ends, every way it can: signals, kill -9 of the pipeline or of mitmdump, a deleted run folder,
a full disk. Nothing is left running, no completed exchange is lost, and the manifest tells the truth."""

import json
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, processes_mentioning, read_traffic, wait_for

from probe.capture import agent_home, hangup, processes
from probe.capture.supervision import INTERRUPTED

ITEST = "tests/data/itest.yaml"


def start_pipeline(data_dir: Path, command: str, *options: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invoke",
            "pipeline",
            "--target",
            ITEST,
            "--upstream",
            "mock",
            "--command",
            command,
            *options,
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=dict(os.environ, PROBE_DATA_DIR=str(data_dir), **(env or {})),
    )


def agent_running(command: str) -> list[str]:
    """The agent's own process (the pipeline's command line holds the same text after --command)."""
    return processes_mentioning(f"/bin/sh -c {command}")


def the_run(data_dir: Path) -> Path:
    [run] = (data_dir / "itest").iterdir()
    return run


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def child_running(parent: int, text: str) -> int:
    """The pid of the one child of `parent` whose command line holds `text`."""
    [pid] = [pid for pid in children_of(parent) if text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return pid


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != b"Z"


def nothing_left(marker: str, run: Path) -> bool:
    """No agent (its command line holds the marker), no mitmdump and no mock (theirs name the run or are
    children we knew of)."""
    return not processes_mentioning(marker) and not processes_mentioning(str(run))


def homes_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{agent_home.PREFIX}{pid}-*"))


@pytest.mark.parametrize(
    "signals",
    [[signal.SIGINT], [signal.SIGTERM], [signal.SIGHUP], [signal.SIGINT, signal.SIGINT, signal.SIGINT]],
    ids=["ctrl-c", "sigterm", "sighup", "ctrl-c-three-times"],
)
def test_every_stop_signal_stops_everything_and_still_reports(private_data_dir, signals):
    marker = f"probe-stop-test-{os.getpid()}-{len(signals)}-{signals[0]}"
    process = start_pipeline(private_data_dir, f"sleep 60; echo {marker}")
    assert wait_for(lambda: agent_running(f"sleep 60; echo {marker}")), "the agent never started"
    run = the_run(private_data_dir)
    sent = 0
    for signum in signals:
        # Pressed while it is still stopping: one sent after it exited (a busy machine can hold this test back
        # longer than the stopping takes) would reach the shell, not the run.
        if process.poll() is None:
            os.killpg(process.pid, signum)  # the whole foreground group, as a terminal does
            sent += 1
        time.sleep(0.1)
    stdout, stderr = process.communicate(timeout=60)
    # A hang-up says so: the terminal went (here it did not, so what follows is still said in it).
    hung_up = signals[0] == signal.SIGHUP
    assert process.returncode == (129 if hung_up else 130), stderr
    assert nothing_left(marker, run)
    assert homes_of(process.pid) == []
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["note"] == (hangup.NOTE if hung_up else INTERRUPTED.note)
    assert "this run is marked interrupted" in (run / "report.md").read_text()
    assert "Traceback" not in stderr and "report: " in stdout
    if sent > 1:
        assert stderr.count("stopping: the proxies are writing what they hold") == 1


def test_kill_9_of_the_pipeline_leaves_nothing_running_and_closes_the_run(private_data_dir):
    marker = f"probe-kill-test-{os.getpid()}"
    client = textwrap.dedent(f"""
        import json, os, time, urllib.request
        url = os.environ["PROBE_PROXY_URL"] + "/v1/responses"
        for n in range(2):
            body = json.dumps({{"model": "m", "input": f"turn {{n}}"}}).encode()
            urllib.request.urlopen(urllib.request.Request(url, body, {{"content-type": "application/json"}})).read()
        print("two turns done", flush=True)
        time.sleep(60)  # {marker}
    """)
    script = private_data_dir.parent / "client.py"
    script.write_text(client)
    process = start_pipeline(private_data_dir, f"{sys.executable} {script}")
    assert wait_for(lambda: agent_running(f"{sys.executable} {script}")), "the agent never started"
    run = the_run(private_data_dir)
    assert wait_for(lambda: len(read_traffic(run)) == 2), "the two exchanges were never recorded"
    watchdog = child_running(process.pid, "probe.capture.watchdog_process")
    assert homes_of(process.pid), "the agent's private folder should exist while it runs"
    os.kill(process.pid, signal.SIGKILL)  # only the pipeline itself: no handler can run
    process.communicate(timeout=30)
    assert wait_for(lambda: nothing_left(str(script), run) and not alive(watchdog), timeout=30)
    assert homes_of(process.pid) == []
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["exchanges"] == 2
    assert manifest["note"].startswith("the capture process ended without closing the run")
    assert [entry["request"]["body"]["input"] for entry in read_traffic(run)] == ["turn 0", "turn 1"]


def test_mitmdump_killed_mid_run_is_proxy_failed_and_said_once(private_data_dir):
    marker = f"probe-mitmdump-death-{os.getpid()}"
    process = start_pipeline(private_data_dir, f"sleep 60; echo {marker}")
    assert wait_for(lambda: agent_running(f"sleep 60; echo {marker}")), "the agent never started"
    run = the_run(private_data_dir)
    os.kill(child_running(process.pid, "recorder/addon.py"), signal.SIGKILL)  # mitmdump
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert nothing_left(marker, run)
    [error] = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith("error: mitmdump stopped during the run (killed by SIGKILL)")
    assert "Traceback" not in stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "proxy-failed" and "killed by SIGKILL" in manifest["note"]
    assert manifest["agent_exit_code"] == -signal.SIGTERM  # the agent was stopped by us, and says so
    report = (run / "report.md").read_text()
    assert "status **proxy-failed**" in report


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_mitmdump_that_hangs_at_the_end_is_killed_and_the_run_is_not_complete(private_data_dir):
    marker = f"probe-mitmdump-hang-{os.getpid()}"
    process = start_pipeline(private_data_dir, f"sleep 3; echo {marker}", env={"PROBE_STOP_GRACE": "2"})
    assert wait_for(lambda: agent_running(f"sleep 3; echo {marker}")), "the agent never started"
    run = the_run(private_data_dir)
    os.kill(child_running(process.pid, "recorder/addon.py"), signal.SIGSTOP)  # hung: deaf to the stop request
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "Traceback" not in stderr
    assert nothing_left(marker, run)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "proxy-failed" and manifest["agent_exit_code"] == 0
    assert manifest["note"] == (
        "mitmdump did not shut down cleanly (it did not stop within 2 s and was killed); "
        "exchanges still open then may be missing"
    )
    assert "status **proxy-failed**" in (run / "report.md").read_text()


def test_deleting_the_run_folder_mid_run_stops_the_run_with_one_line(private_data_dir):
    marker = f"probe-deleted-run-{os.getpid()}"
    process = start_pipeline(private_data_dir, f"sleep 60; echo {marker}")
    assert wait_for(lambda: agent_running(f"sleep 60; echo {marker}")), "the agent never started"
    run = the_run(private_data_dir)
    subprocess.run(["rm", "-rf", str(run)], check=True)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stderr.strip().splitlines()[-1].startswith("error: the run folder ")
    assert "was deleted during the run" in stderr and "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [stderr.strip().splitlines()[-1]]
    assert nothing_left(marker, run) and not run.exists()


@pytest.mark.parametrize("delay", [0.6, 0.9, 1.2, 1.6])  # after the interpreter itself has started
def test_ctrl_c_early_in_the_pipeline_says_nothing_misleading(private_data_dir, delay):
    marker = f"probe-early-stop-{os.getpid()}-{delay}"
    process = start_pipeline(private_data_dir, f"sleep 60; echo {marker}")
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "no such file" not in stderr and "Traceback" not in stderr
    for run in (private_data_dir / "itest").glob("*"):
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["status"] == "interrupted"  # never left `running` by a finished process
        assert nothing_left(marker, run)


def test_stale_agent_homes_of_dead_owners_are_removed(tmp_path):
    mine = agent_home.create()
    dead = tmp_path / f"{agent_home.PREFIX}999999999-12345-abc"
    reused = tmp_path / f"{agent_home.PREFIX}{os.getpid()}-1-abc"  # our pid, but another start time: not ours
    alive_elsewhere = tmp_path / mine.name
    for folder in (dead, reused, alive_elsewhere):
        (folder / "sessions").mkdir(parents=True)
        (folder / "sessions" / "log.jsonl").write_text("secret")
    unrelated = tmp_path / "agent-probe-home-something-else"
    unrelated.mkdir()
    dead_ca = tmp_path / f"{agent_home.CA_PREFIX}999999999-12345-abc"  # an --all-hosts run's CA, its key in it
    dead_ca.mkdir()
    (dead_ca / "mitmproxy-ca.pem").write_text("-----BEGIN PRIVATE KEY-----")
    try:
        assert sorted(agent_home.remove_stale(tmp_path)) == sorted([dead, reused, dead_ca])
        assert alive_elsewhere.is_dir() and unrelated.is_dir() and not dead.exists() and not reused.exists()
    finally:
        agent_home.remove(mine)


def test_a_run_removes_the_homes_left_by_a_killed_run(private_data_dir, tmp_path):
    stale = tmp_path / f"{agent_home.PREFIX}999999999-12345-abc"
    stale.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", ITEST, "--upstream", "mock", "--command", "true"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and list(tmp_path.glob(f"{agent_home.PREFIX}*")) == []


POSTER = """
import json, os, sys, urllib.request
url = os.environ["PROBE_PROXY_URL"] + "/v1/responses"
for size in map(int, sys.argv[1:]):
    body = json.dumps({"model": "m", "input": "x" * size}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    print(size, len(urllib.request.urlopen(request).read()), flush=True)
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system, to fill up for real."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if result.returncode:
        pytest.fail(f"the full-disk test mounts a 1 MB tmpfs, which needs root: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_stops_the_run_with_one_line_and_keeps_every_whole_exchange(small_disk, tmp_path):
    script = tmp_path / "poster.py"
    script.write_text(POSTER)
    sizes = " ".join(["20000"] + ["200000"] * 12)  # 2.4 MB of requests for a 1 MB disk
    # --quiet: no live feed line per exchange, so the error is the one line besides the proxies'.
    process = start_pipeline(small_disk, f"{sys.executable} {script} {sizes}", "--quiet")
    _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert [line for line in stderr.splitlines() if not line.startswith("proxy ")] == [
        line
        for line in stderr.splitlines()
        if line.startswith("error: recording stopped: No space left on device while writing ")
    ]
    assert len(stderr.splitlines()) == 3 and "Traceback" not in stderr  # the two proxy lines, then the error
    run = the_run(small_disk)
    entries = read_traffic(run)  # every line parses: the one that did not fit was cut back off
    assert 1 <= len(entries) < 13
    assert [len(entry["request"]["body"]["input"]) for entry in entries] == [20000, *[200000] * (len(entries) - 1)]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "recording-failed" and manifest["exchanges"] == len(entries)
    assert (
        manifest["note"].startswith("recording stopped: No space left on device") and manifest["recording_errors"] >= 1
    )
    assert nothing_left(str(script), run)


def test_a_failed_write_is_counted_logged_and_does_not_damage_the_capture(private_data_dir, tmp_path):
    """A write error other than a full disk costs one exchange, which the manifest counts; the run goes on."""
    from probe.capture.proxies import find_mitmdump

    limited = tmp_path / "limited-mitmdump"  # mitmdump that may not write files over 150 KB
    limited.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import os, resource, signal, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        os.execv({find_mitmdump()!r}, [{find_mitmdump()!r}, *sys.argv[1:]])
    """)
    )
    limited.chmod(0o755)
    script = tmp_path / "poster.py"
    script.write_text(POSTER)
    process = start_pipeline(
        private_data_dir, f"{sys.executable} {script} 1000 200000 2000", env={"PROBE_MITMDUMP": str(limited)}
    )
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "1000 " in stdout and "200000 " in stdout and "2000 " in stdout  # the agent got every answer
    run = the_run(private_data_dir)
    assert [len(entry["request"]["body"]["input"]) for entry in read_traffic(run)] == [1000, 2000]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["recording_errors"] == 1 and manifest["exchanges"] == 2
    log = (run / "proxies.log").read_text()
    assert log.count("probe: recording error: ") == 1 and "File too large" in log
    report = (run / "report.md").read_text().splitlines()
    assert "- Recording errors: 1 exchange could not be recorded (see proxies.log)" in report
    assert "- Totals: 2 exchanges (2 HTTP, 0 WebSocket)" in next(line for line in report if line.startswith("- Totals"))


def test_the_recorder_runs_under_a_mitmdump_that_cannot_import_probe(private_data_dir, tmp_path):
    """The addon is loaded by `mitmdump -s` from its file: a mitmdump installed on its own, whose Python has no
    probe package, still records (the addon puts the folder holding probe on sys.path itself)."""
    from probe.capture.proxies import find_mitmdump

    # -S: no site processing, so the editable install's path hook is not read; mitmproxy's own packages are
    # put on the path by hand. The wrapper checks that probe is then not importable before it starts mitmdump.
    site_folders = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    alone = tmp_path / "mitmdump-alone"
    alone.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable} -S
        import importlib.util, sys
        sys.path = [folder for folder in sys.path if folder] + {site_folders!r}
        assert importlib.util.find_spec("probe") is None, "probe is importable"
        from mitmproxy.tools.main import mitmdump
        sys.argv[0] = {find_mitmdump()!r}
        mitmdump()
    """)
    )
    alone.chmod(0o755)
    script = tmp_path / "poster.py"
    script.write_text(POSTER)
    process = start_pipeline(
        private_data_dir, f"{sys.executable} {script} 1000 2000", env={"PROBE_MITMDUMP": str(alone)}
    )
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    run = the_run(private_data_dir)
    assert [len(entry["request"]["body"]["input"]) for entry in read_traffic(run)] == [1000, 2000]
    assert json.loads((run / "manifest.json").read_text())["status"] == "complete"


def test_ctrl_c_is_taken_at_once_even_when_started_with_it_ignored(tmp_path, private_data_dir):
    """A shell starts a background job with SIGINT ignored. Ctrl-C while the agent is still being installed
    (here by an npm that takes a minute) stops the run all the same, npm included."""
    marker = f"probe-slow-npm-{os.getpid()}"
    bin_folder = tmp_path / marker  # so that npm's command line names it
    bin_folder.mkdir()
    npm = bin_folder / "npm"
    npm.write_text("#!/bin/sh\nsleep 60\n")
    npm.chmod(0o755)
    env = dict(
        os.environ,
        PROBE_DATA_DIR=str(private_data_dir),
        PROBE_AGENTS_DIR=str(tmp_path / "agents"),
        PATH=f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "probe.pipeline",
            "--target",
            "codex",
            "--upstream",
            "mock",
            "--prompt",
            "hi",
            "--agent-version",
            "9.9.9",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert wait_for(lambda: processes_mentioning(marker)), "npm never started"
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.splitlines()[-1] == "interrupted"
    assert time.monotonic() - started < 20  # not the minute npm would have taken
    assert wait_for(lambda: not processes_mentioning(marker), timeout=10)
    assert not private_data_dir.exists()  # stopped before any run folder was made


def send_ourselves(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.05)  # the handler runs on the main thread between two bytecodes: give it the chance


def test_after_a_stop_signal_the_wrap_up_runs_whole_and_otherwise_ctrl_c_still_interrupts_it(capsys):
    # What the pipeline relies on: Ctrl-C pressed three times must not cut the report of the run it stopped
    # short, however late the third press lands; a report after a run that ended by itself stays interruptible.
    with processes.StopSignals("stopping: test") as signals:
        with pytest.raises(KeyboardInterrupt):
            send_ourselves(signal.SIGINT)
        signals.cleaning_up()
        send_ourselves(signal.SIGINT)  # during the cleanup: said, not raised
        signals.cleaned_up()
        send_ourselves(signal.SIGINT)  # during the report: not raised either
        send_ourselves(signal.SIGTERM)
    assert capsys.readouterr().err == "stopping: test\n"
    with processes.StopSignals() as signals:
        signals.cleaning_up()
        signals.cleaned_up()
        with pytest.raises(KeyboardInterrupt):
            send_ourselves(signal.SIGINT)
