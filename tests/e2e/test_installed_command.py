"""`agent-probe`, the installed command: a fresh clone of the checkout, built into a wheel and installed (not
editable) into a new environment, runs the invoke tasks from a folder outside any git repository, with its runs in
the user's data folder or $PROBE_DATA_DIR, and its targets from inside the wheel.

The new environment takes the test environment's installed dependencies through a .pth file, so nothing is
downloaded: the build gets setuptools from the wheels that virtualenv (nox's) bundles. It is the committed state
(HEAD) that is cloned and installed.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, read_traffic
from virtualenv.seed.wheels.embed import BUNDLE_FOLDER

from probe.program import ns
from probe.read.sse import parse

# One worker runs the module: its tests share the module's installed wheel.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("installed-command")]
PROMPT = "write a hello world function for the installed command"
VERSION = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
TASK_LINE = re.compile(r"^  ([a-z][a-z-]*)\s")  # `  name    summary` in invoke's --list


def task_names(listing: str) -> list[str]:
    return [match[1] for line in listing.splitlines() if (match := TASK_LINE.match(line))]


def run(argv: list, **options) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in argv], capture_output=True, text=True, timeout=300, **options)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a new environment with the wheel of a fresh clone installed in it."""
    root = tmp_path_factory.mktemp("installed")
    run(["git", "clone", "--quiet", PROJECT_ROOT, root / "clone"])
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--find-links", BUNDLE_FOLDER,
         "--wheel-dir", root / "wheels", root / "clone"])  # fmt: skip
    run([sys.executable, "-m", "venv", "--without-pip", root / "env"])
    python = root / "env" / "bin" / "python"
    [wheel] = (root / "wheels").glob("agent_probe-*.whl")
    alone = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # no other agent-probe in sight
    run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        env=alone,
    )
    # Only then the dependencies: pip would take the test environment's own (editable) agent-probe for this one.
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "test-environment.pth").write_text("".join(f"{folder}\n" for folder in ours))
    # pip would have written mitmproxy's own command beside agent-probe, had it installed mitmproxy here.
    [mitmdump] = entry_points(group="console_scripts", name="mitmdump")
    module, function = mitmdump.value.split(":")
    launcher = root / "env" / "bin" / "mitmdump"
    launcher.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n")
    launcher.chmod(0o755)
    return root / "env" / "bin"


@pytest.fixture
def elsewhere(tmp_path, claude_program) -> tuple[Path, dict]:
    """A folder outside any git repository to run from, and an environment with its own home, none of the
    project's folders named in it, and the pinned Claude Code on PATH."""
    folder = tmp_path / "my-project"
    folder.mkdir()
    assert not [parent for parent in [folder, *folder.parents] if (parent / ".git").exists()]
    unset = ("PROBE_DATA_DIR", "PROBE_TARGETS_DIR", "PROBE_AGENTS_DIR", "XDG_DATA_HOME", "PYTHONPATH", "VIRTUAL_ENV")
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env |= {"HOME": str(tmp_path / "home"), "PATH": f"{Path(claude_program).parent}{os.pathsep}{env['PATH']}"}
    return folder, env


def pipeline(installed: Path, folder: Path, env: dict, *agent_args: str) -> tuple[str, Path]:
    argv = ["pipeline", "--target", "claude-code", "--upstream", "mock", "--prompt", PROMPT, "--timeout", "120"]
    argv += ["--", *agent_args] if agent_args else []
    result = run([installed / "agent-probe", *argv], cwd=folder, env=env)
    [folder_line] = [line for line in result.stdout.splitlines() if line.startswith("run folder: ")]
    return result.stdout, Path(folder_line.removeprefix("run folder: ").split(" (")[0])


def assert_recorded_run(run_folder: Path, stdout: str) -> None:
    """The run holds the prompt as sent, the mock's answer as received, and a report of both."""
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0 and manifest["prompt"] == PROMPT
    bundled = (PROJECT_ROOT / "targets" / "claude-code.yaml").read_bytes()
    assert manifest["target_file"]["sha256"] == hashlib.sha256(bundled).hexdigest()  # read from inside the wheel
    entries = read_traffic(run_folder)
    assert [entry["request"]["path"] for entry in entries] == ["/v1/messages?beta=true"] * 2
    first = entries[0]["request"]["body"]["messages"][0]["content"]
    assert PROMPT in [block["text"] for block in first if block["type"] == "text"]
    answer = f'Here is my answer to "{PROMPT}" (from the agent-probe mock model)'
    events = [event.data for event in parse(entries[1]["response"]["body"])]
    said = "".join(event["delta"].get("text", "") for event in events if event["type"] == "content_block_delta")
    assert said.startswith(answer) and answer in stdout
    report = (run_folder / "report.md").read_text()
    assert f"- Prompt: `{PROMPT}`" in report
    assert "- Run: target `claude-code`, status **complete**, agent exit code 0" in report
    assert answer in report and 'return "Hello, world!"' in report
    assert f"report: {run_folder / 'report.md'}" in stdout
    assert Path(manifest["agent"]["cwd"]).parent.name.startswith("agent-probe-workdir-")  # a fresh folder


def test_the_wheel_bundles_the_targets(installed):
    [wheel] = (installed.parent.parent / "wheels").glob("agent_probe-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        bundled = {
            Path(name).name: archive.read(name) for name in archive.namelist() if name.startswith("probe/targets/")
        }
        assert (
            "agent-probe = probe.program:main"
            in archive.read(f"agent_probe-{VERSION}.dist-info/entry_points.txt").decode()
        )
    assert bundled == {path.name: path.read_bytes() for path in (PROJECT_ROOT / "targets").glob("*.yaml")}


def test_a_run_goes_to_the_user_data_folder(installed, elsewhere):
    folder, env = elsewhere
    stdout, run_folder = pipeline(installed, folder, env)
    runs = Path(env["HOME"]) / ".local" / "share" / "agent-probe" / "runs"
    assert run_folder.parent == runs / "claude-code" and list(run_folder.parent.iterdir()) == [run_folder]
    assert_recorded_run(run_folder, stdout)
    assert sorted(path.name for path in folder.iterdir()) == []  # the folder it ran from is left as it was
    # The tasks that read runs find it there too.
    sql = run([installed / "agent-probe", "sql", "SELECT target, prompt, exchanges FROM runs",
               "--format", "csv"], cwd=folder, env=env)  # fmt: skip
    assert sql.stdout.splitlines() == ["target,prompt,exchanges", f"claude-code,{PROMPT},2"]


def test_probe_data_dir_wins_over_the_user_data_folder_and_the_agents_flags_go_through(installed, elsewhere, tmp_path):
    folder, env = elsewhere
    env |= {"PROBE_DATA_DIR": str(tmp_path / "chosen"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    stdout, run_folder = pipeline(installed, folder, env, "--model", "claude-haiku-4-5-20251001")
    assert run_folder.parent == tmp_path / "chosen" / "claude-code"
    assert_recorded_run(run_folder, stdout)
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["agent"]["argv"][-2:] == ["--model", "claude-haiku-4-5-20251001"]
    assert {entry["request"]["body"]["model"] for entry in read_traffic(run_folder)} == {"claude-haiku-4-5-20251001"}
    assert not (tmp_path / "xdg").exists() and not (Path(env["HOME"]) / ".local" / "share").exists()


def test_the_installed_folders_follow_xdg_data_home(installed, elsewhere, tmp_path):
    folder, env = elsewhere
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    show = (
        "import probe.common.paths as p; print(p.PACKAGE, p.checkout(), p.data_dir(), p.agents_dir(), p.targets_dir())"
    )
    package, checkout, data, agents, targets = run(
        [installed / "python", "-c", show], cwd=folder, env=env
    ).stdout.split()
    assert (
        checkout == "None" and targets == str(Path(package) / "targets") and package.startswith(str(installed.parent))
    )
    assert (data, agents) == (
        str(tmp_path / "xdg" / "agent-probe" / "runs"),
        str(tmp_path / "xdg" / "agent-probe" / "agents"),
    )


def test_a_relative_data_folder_in_the_configuration_is_the_current_folders(installed, elsewhere):
    folder, env = elsewhere
    env["INVOKE_PROBE_DATA_DIR"] = "runs-here"  # invoke's own variable, as for `invoke` in the checkout
    argv = [installed / "agent-probe", "sql", "SELECT count(*) AS n FROM runs", "--format", "csv"]
    result = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "error: no data folder at runs-here (see PROBE_DATA_DIR and invoke.yaml)\n"
    (folder / "runs-here").mkdir()
    assert run(argv, cwd=folder, env=env).stdout.splitlines() == ["n", "0"]


def test_the_command_lists_the_same_tasks_as_invoke_in_the_checkout_and_its_version(installed, elsewhere):
    folder, env = elsewhere
    version = run([installed / "agent-probe", "--version"], cwd=folder, env=env)
    assert version.stdout == f"agent-probe {VERSION}\n"
    listed = run([installed / "agent-probe", "--list"], cwd=folder, env=env).stdout
    in_checkout = run([sys.executable, "-m", "invoke", "--list"], cwd=PROJECT_ROOT).stdout
    names = task_names(listed)
    assert names == task_names(in_checkout)
    assert names == sorted(ns.task_names) and "pipeline" in names and "capture" in names
    assert listed.startswith("Subcommands:\n") and "Capture a run and write its report in one step" in listed


def test_bench_outside_the_checkout_is_a_one_line_error(installed, elsewhere):
    folder, env = elsewhere
    result = subprocess.run([installed / "agent-probe", "bench", "--quick"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: bench runs from agent-probe's checkout, which holds the benchmarks (bench/)\n"
