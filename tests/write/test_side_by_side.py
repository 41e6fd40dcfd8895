"""`analyze --run all --jobs N`: runs analysed side by side in worker processes write what one process writes, in
the same order; a worker that dies fails only its run, and Ctrl-C stops them all without a traceback."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PROJECT_ROOT

from probe.analysis import analyze
from probe.analysis.side_by_side import Ended, default_jobs, side_by_side
from probe.runs.folders import BODIES, CAPTURE_FILES
from probe.runs.ledger import REPORT

SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*/traffic.jsonl"))
STAMPS = re.compile(rb'- Generated at: [^\n]*|<meta name="generated" content="[^"]*"')


def doubled(item: int) -> int:
    """A step for the workers (imported by name in them): dies at 0, as a worker killed would."""
    if item == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * 2


def slow(item: int, ready: str) -> int:
    """A step that says it started, then takes longer than any test waits."""
    Path(ready, f"{item}-{os.getpid()}").touch()
    time.sleep(60)
    return item


def outputs(data: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(data)): STAMPS.sub(b"", path.read_bytes())
        for name in REPORT.outputs
        for path in sorted(data.glob(f"*/*/{name}"))
    }


def test_runs_analysed_side_by_side_write_what_one_process_writes_in_the_same_order(private_data_dir, capsys):
    assert len(SAMPLES) >= 4  # the bundled samples: every API, WebSocket and HTTP
    for sample in SAMPLES:
        run = private_data_dir / sample.parent.name / sample.name
        run.mkdir(parents=True)
        for name in CAPTURE_FILES:
            shutil.copy(sample / name, run / name)
        if (sample / BODIES).is_dir():
            shutil.copytree(sample / BODIES, run / BODIES)
    (private_data_dir / "codex" / "20260101-000000-broken" / "traffic.jsonl").mkdir(parents=True)  # not a file
    assert analyze.main(["--run", "all", "--force", "--jobs", "1"]) == 1
    alone = capsys.readouterr().out
    written = outputs(private_data_dir)
    assert len(written) == len(SAMPLES) * len(REPORT.outputs)
    assert analyze.main(["--run", "all", "--force", "--jobs", "3"]) == 1
    assert capsys.readouterr().out == alone
    assert outputs(private_data_dir) == written
    assert alone.splitlines()[-1] == f"0 up to date, {len(SAMPLES)} rebuilt, 1 failed"


def test_a_worker_that_dies_costs_only_its_item_and_the_order_holds():
    assert list(side_by_side(doubled, [1, 0, 3, 4, 5], 2)) == [
        2, Ended("the process analysing it was ended by SIGKILL"), 6, 8, 10,
    ]  # fmt: skip
    assert list(side_by_side(doubled, [7], 2)) == [14]  # one item: in this process
    # Here while the results say so, then the rest in the workers.
    assert list(side_by_side(doubled, [1, 2, 3, 0, 5], 2, stay=lambda result: result < 4)) == [
        2, 4, 6, Ended("the process analysing it was ended by SIGKILL"), 10,
    ]  # fmt: skip
    assert default_jobs() >= 1


def test_jobs_go_with_run_all_and_are_a_whole_number(private_data_dir, capsys):
    assert analyze.run_main(analyze.main, ["--run", "latest", "--jobs", "2"]) == 2
    assert analyze.run_main(analyze.main, ["--run", "all", "--jobs", "0"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --jobs goes with --run all: one run is analysed in one process",
        "error: argument --jobs: expected a number of processes, 1 or more, got '0' (see python -m "
        "probe.analysis.analyze --help)",
    ]


def test_ctrl_c_stops_every_worker_without_a_traceback(tmp_path):
    script = (
        "import sys\n"
        "from probe.analysis.side_by_side import side_by_side\n"
        "from probe.common.errors import run_main\n"
        "import test_side_by_side as here\n"
        "sys.exit(run_main(lambda argv: len(list(side_by_side(here.slow, range(4), 2, sys.argv[1])))))\n"
    )
    paths = os.pathsep.join([str(PROJECT_ROOT), str(Path(__file__).parent), str(PROJECT_ROOT / "tests")])
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        env=os.environ | {"PYTHONPATH": paths},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's job is: Ctrl-C reaches every process in it
    )
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(path.name.split("-")[1]) for path in tmp_path.iterdir()]
    assert len(workers) == 2
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (130, "", "interrupted\n")
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
