"""The invoke tasks follow one set of conventions: a short flag means one option in every task, every option that
takes a value names it in its help, wrong combinations are errors, and invoke.yaml holds the defaults."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT

from probe import tasks
from probe.program import ns

PLACEHOLDER = re.compile(r"^[A-Za-z][\w.,|=-]*(\.\.\.)?: \S")  # NAME=PORT: ..., URL|mock: ..., websocket|http: ...


def invoke(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *argv], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip


# Read once: invoke hands each option's help over to its argument the first time, and has none the second.
ARGUMENTS = {name: ns[name].get_arguments() for name in ns.task_names}


def task_arguments() -> dict[str, list]:
    return ARGUMENTS


def test_a_short_flag_means_the_same_option_in_every_task():
    meanings: dict[str, set[str]] = {}
    for arguments in task_arguments().values():
        for argument in arguments:
            long_names = [name for name in argument.names if len(name) > 1]
            for short in (name for name in argument.names if len(name) == 1):
                meanings.setdefault(short, set()).update(long_names)
    assert {short: sorted(names) for short, names in meanings.items()} == {
        "t": ["target"], "p": ["prompt"], "r": ["run"], "l": ["label"], "i": ["input"], "o": ["output"],
        "u": ["upstream"],
    }  # fmt: skip
    # ... and no task gives a letter to anything else (invoke's own choice made -i --timeout and -o --port).
    capture = {argument.name: argument.names for argument in task_arguments()["capture"]}
    assert capture["timeout"] == ("timeout",) and capture["port"] == ("port",)


def test_every_option_that_takes_a_value_names_it_in_its_help():
    for task_name, arguments in task_arguments().items():
        for argument in arguments:
            takes_value = argument.kind is not bool
            assert bool(PLACEHOLDER.match(argument.help or "")) == takes_value, (
                task_name,
                argument.name,
                argument.help,
            )


def test_the_help_shows_the_placeholders_and_short_flags_as_read():
    result = invoke("capture", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # the columns wrap
    assert "--port NAME=PORT: the listen port of one proxy (0 picks a free port); repeat it for each proxy" in text
    assert "-t STRING, --target=STRING NAME|FILE: the agent's target" in text
    assert "--timeout=STRING SECONDS: stop the agent after this long" in text
    assert "-i STRING" not in text and "-o," not in text
    analyze_help = " ".join(invoke("analyze", "--help").stdout.split())
    assert "-i STRING, --input=STRING TRAFFIC: analyse this traffic.jsonl" in analyze_help
    assert "-r STRING, --run=STRING RUN: `latest` (default), `all` (every run)" in analyze_help


def test_capture_and_pipeline_take_the_same_options_and_pipeline_serves_the_viewer_too():
    def described(name):
        return [(argument.names, argument.kind, argument.help) for argument in task_arguments()[name]]

    pipeline = described("pipeline")
    [view] = [option for option in pipeline if option[0] == ("view",)]
    assert view[2].startswith("serve the viewer from 127.0.0.1 while the run is recorded")
    assert described("capture") == [option for option in pipeline if option is not view]
    assert ns["capture"].__doc__ != ns["pipeline"].__doc__


@pytest.mark.parametrize("task", ["capture", "pipeline", "proxies"])
def test_mock_transport_without_the_mock_is_an_error(task):
    argv = [task, "--target", "codex", "--mock-transport", "http"] + (["--prompt", "hi"] if task != "proxies" else [])
    result = invoke(*argv)
    assert result.returncode == 2
    assert result.stderr == "error: --mock-transport http goes with --upstream mock (the bundled mock)\n"
    assert result.stdout == ""


def test_script_arguments_are_built_from_the_options_given():
    argv = tasks.script_argv(target="codex", label="", port=["model=1", "backend=2"], keep_secrets=True,
                             full_traffic=False, timeout=None, prompt="a b")  # fmt: skip
    assert argv == ["--target", "codex", "--port", "model=1", "--port", "backend=2", "--keep-secrets",
                    "--prompt", "a b"]  # fmt: skip


def test_invoke_yaml_holds_the_documented_defaults():
    assert yaml.safe_load((PROJECT_ROOT / "invoke.yaml").read_text()) == {"probe": {"target": None, "data_dir": "data"}}


def test_the_default_target_and_data_folder_come_from_the_configuration(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PROBE_DATA_DIR"}
    # Invoke's own environment variables override invoke.yaml, as a project's file would.
    env |= {"INVOKE_PROBE_TARGET": "codex", "INVOKE_PROBE_DATA_DIR": str(tmp_path / "configured")}
    result = invoke("capture", "--command", "true", "--upstream", "mock", "--label", "configured", env=env)
    assert result.returncode == 0, result.stderr
    [run] = (tmp_path / "configured" / "codex").iterdir()
    assert run.name.endswith("-configured")
    assert yaml.safe_load((run / "manifest.json").read_text())["status"] == "complete"

    env["PROBE_DATA_DIR"] = str(tmp_path / "from-environment")  # the environment variable wins over invoke.yaml
    (tmp_path / "from-environment").mkdir()
    assert invoke("analyze", "--run", "all", env=env).stdout == "0 up to date, 0 rebuilt, 0 failed\n"
    del env["PROBE_DATA_DIR"]
    result = invoke("analyze", "--run", "all", env=env)
    assert result.stdout.splitlines() == [f"rebuilt {run}: report.md is missing", "0 up to date, 1 rebuilt, 0 failed"]


def test_without_a_default_target_the_error_lists_the_targets():
    result = invoke("capture", "--command", "true")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --target is required (known targets: ") and "codex" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--runs", "abc"], "error: --runs 'abc': expected a whole number, 1 or more"),
        (["--sizes", "10,abc"], "error: --sizes '10,abc': expected sizes in MB separated by commas, such as 10,100"),
        (
            ["--quick", "--runs", "3"],
            "error: --quick chooses its own sizes and runs: give it alone, or --runs and --sizes",
        ),
    ],
)
def test_bench_options_are_checked_before_anything_runs(options, message):
    result = invoke("bench", *options)
    assert result.returncode == 2 and result.stderr == message + "\n" and "== bench/" not in result.stdout


def test_bench_only_names_a_benchmark_heavy_ones_included():
    result = invoke("bench", "--only", "sql,nope")
    assert result.returncode == 2 and "== bench/" not in result.stdout
    assert result.stderr.startswith("error: --only 'sql,nope': no benchmark nope; they are streaming, ")
    assert result.stderr.rstrip().endswith(", lake_scale")  # the heavy one, named only when asked for


def scripts_of_the_tasks() -> dict[str, str]:
    """Each task that hands its options to one script (`call(c, script("MODULE"), ...)`), with that script's
    module."""
    found = {}
    for name in ns.task_names:
        for module in re.findall(r'call\(\s*c,\s*script\("([\w.]+)"\)', inspect.getsource(ns[name].body)):
            found[name] = module
    return found


def test_every_option_of_a_tasks_script_is_an_option_of_the_task():
    # docs named `invoke export --keep-secrets`, which the export script took and its task did not pass on.
    scripts = scripts_of_the_tasks()
    assert {"analyze", "export", "diff", "compare", "sql", "publish", "lake", "replay", "resend"} <= scripts.keys()
    for name, module in scripts.items():
        offered = {argument.name for argument in task_arguments()[name]}
        taken = script_options(module)
        assert taken - {"help"} <= offered, (name, module, sorted(taken - {"help"} - offered))


def script_options(module: str, *command: str) -> set[str]:
    """The options a script's --help lists, by their names as a task's; for a script of subcommands (`lake tidy`),
    each subcommand's too."""
    shown = subprocess.run([sys.executable, "-m", module, *command, "--help"], capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    options = shown.stdout.split("options:", 1)[1]
    taken = {option[2:].replace("-", "_") for option in re.findall(r"(?m)^  (?:-\w, )?(--[a-z][\w-]*)", options)}
    subcommands = re.search(r"(?m)^positional arguments:\n  \{([\w,-]+)\}", shown.stdout)
    for subcommand in subcommands.group(1).split(",") if subcommands and not command else []:
        taken |= script_options(module, subcommand)
    return taken


def test_a_run_given_as_a_word_is_answered_with_the_form_the_task_wants():
    agent_probe = Path(sys.executable).with_name("agent-probe")
    for argv, wanted in (
        (["compare", "A", "B"], "agent-probe compare --run A --run B"),
        (["diff", "one run", "B", "--wire"], "agent-probe diff --run 'one run' --run B"),
        (["view", "x\x1b[2Jy"], "agent-probe view --run 'x\\x1b[2Jy'"),
        (["lake", "remove", "A", "B"], "agent-probe lake remove --run A --run B"),
    ):
        result = subprocess.run([agent_probe, *argv], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"error: agent-probe {argv[0]} takes its runs as options: {wanted} (see agent-probe " \
            f"{argv[0]} --help)\n"  # fmt: skip
    # A word that is no run, for a task that takes none, keeps invoke's own answer.
    result = subprocess.run([agent_probe, "targets", "X"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (1, "No idea what 'X' is!\n")


def test_the_sql_help_names_every_view_and_how_invoke_takes_the_query():
    from probe.store.views import VIEWS

    script = " ".join(invoke("sql", "--help").stdout.split())  # (the script's own help, reached through the task)
    task = " ".join(invoke("--help", "sql").stdout.split())
    views = ", ".join(VIEWS)
    assert f"SQL a query over the views {views} (see docs/sql.md); `views` instead lists them" in script
    assert "--views list the views and their columns" in script and "`invoke sql --query QUERY`" in script
    assert f"--query=STRING SQL: a query over the views {views} (see docs/sql.md)" in task


def test_invoke_sql_views_lists_every_view_and_its_columns(tmp_path):
    import csv

    from probe.analysis import sql

    environment = {**os.environ, "PROBE_DATA_DIR": str(tmp_path)}
    tmp_path.mkdir(exist_ok=True)
    listed = invoke("sql", "views", "--format", "csv", env=environment)
    assert listed.returncode == 0, listed.stderr
    rows = [tuple(row) for row in csv.reader(listed.stdout.splitlines())]
    connection = sql.connect([])
    expected = [
        (view, name, kind) for view in sql.VIEWS for name, kind, *_ in connection.execute(f"DESCRIBE {view}").fetchall()
    ]
    assert rows == [("view", "column", "type"), *expected]
    assert {("runs", "peak_window_share", "DOUBLE"), ("turns", "started", "TIMESTAMP"),
            ("tool_calls", "user", "VARCHAR"), ("turns", "agent_version_parts", "INTEGER[]")} <= set(rows)  # fmt: skip
    assert {view for view, *_ in rows[1:]} == set(sql.VIEWS)


def modules_loaded_by(code: str) -> set[str]:
    """The project's modules a fresh Python has loaded after running `code` in the checkout."""
    shown = f"{code}; import sys; print(*sorted(name for name in sys.modules if name.startswith('probe')))"
    result = subprocess.run([sys.executable, "-c", shown], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_loading_the_tasks_loads_none_of_their_scripts():
    """`invoke --list`, and every task before it runs, load the tasks (tasks.py): each script is imported only when
    its task calls it. Loading them all took 0.4 s of every `invoke`."""
    loaded = modules_loaded_by("import tasks")
    scripts = set(scripts_of_the_tasks().values()) | {"probe.record", "probe.pipeline", "probe.import_capture"}
    scripts.discard("probe.analysis.lake")  # its help is the task's (KEEP, CREDIT_HELP); it loads nothing heavy
    assert "probe.tasks" in loaded and "probe.program" in loaded
    assert sorted(loaded & scripts) == []
    heavy = ("probe.analysis.report", "probe.capture.run", "probe.redact.masking", "probe.write", "probe.apis")
    assert sorted(name for name in loaded if name.startswith(heavy)) == []


def test_a_recording_alone_loads_no_analysis():
    """`invoke proxies` and a capture with a prompt run probe.record, which loads the report's analysis only for an
    interactive session, whose report it writes."""
    loaded = modules_loaded_by("import probe.record")
    assert "probe.capture.run" in loaded
    # (probe.apis is the live feed's, which reads each exchange as it is recorded)
    assert sorted(name for name in loaded if name.startswith(("probe.analysis", "probe.analyse"))) == []


# A Ctrl-C once the tasks have loaded, while invoke parses the command line and calls the task, before the task's
# script has loaded: invoke's own handler would end the run with exit 1 and say nothing.
INTERRUPTED_AFTER_LOADING = """
import os, signal, sys, time
import {module}
os.kill(os.getpid(), signal.SIGINT)
time.sleep(5)
print("not interrupted")
"""


@pytest.mark.parametrize("module", ["tasks", "probe.program"])
def test_a_ctrl_c_before_the_tasks_script_has_loaded_ends_the_run_as_interrupted(module):
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_AFTER_LOADING.format(module=module)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "")
