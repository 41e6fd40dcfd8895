"""Replay runs only what the user named: a run folder's manifest names its target only by name, among targets/ (a
target file comes from --target alone); a run not recorded on this machine, or one of an agent that runs its tools
without asking (Qwen Code's --yolo), is replayed only with --trust, or with the agent's approvals on (--approvals),
and the refusal says what the replay would do. A shared run whose recorded answers make Qwen Code run shell
commands and write files runs nothing without --trust, and with --approvals the agent refuses every call."""

import concurrent.futures
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, captured_exchange, pipeline_against_mock

from probe.runs.targets import known_targets

PROMPT = "write a hello world function"
KNOWN = ", ".join(known_targets())
USER = pwd.getpwuid(os.getuid()).pw_name


def replay(data: Path, *arguments: str, path: str | None = None, cwd: Path = PROJECT_ROOT):
    """`python -m probe.replay.run ARGUMENTS` with `path` first on PATH; the finished process."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data))
    env["PATH"] = f"{path}{os.pathsep}{env['PATH']}" if path else env["PATH"]
    return subprocess.run(
        [sys.executable, "-m", "probe.replay.run", "--quiet", "--fast", "--timeout", "120", *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a refused replay prints, and that it printed nothing else and started nothing."""
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    return line


def fake_agent(folder: Path, name: str) -> Path:
    """A program called `name` that leaves a STARTED file beside itself: whether a replay started an agent."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\ntouch {folder / 'STARTED'}\n")
    program.chmod(0o755)
    return folder


def planted(data: Path, named, marker: Path) -> Path:
    """A shared run folder whose manifest names `named` as its target, holding a target file whose agent would
    leave `marker`: what an attacker sends."""
    run = data / "codex" / "20261125-120000-shared"
    run.mkdir(parents=True)
    (run / "t.yaml").write_text(
        yaml.safe_dump({
            "name": "t", "description": "d", "renderer": "probe.apis.openai_chat.report",
            "proxies": [{"name": "api", "listen": 0, "upstream": "https://x/"}],
            "agent": {"command": ["sh", "-c", f"touch {marker}", "{prompt}"]},
        })
    )  # fmt: skip
    line = captured_exchange("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    (run / "traffic.jsonl").write_text(json.dumps(line) + "\n")
    named = named(run) if callable(named) else named
    (run / "manifest.json").write_text(json.dumps({"schema": 1, "target": named, "prompt": PROMPT}))
    return run


HOSTILE_NAMES = [
    "t.yaml",
    "./t.yaml",
    lambda run: str(run / "t.yaml"),
    "../20261125-120000-shared/t.yaml",
    "t.yml",
    "../../t",
    "codex/../../x",
    "/etc/passwd",
    "Codex",
    "codex\x1b[31m",
    "codex\n",
    "t",
    "",
    {"name": "codex"},
    ["codex"],
    7,
]


@pytest.mark.parametrize("named", HOSTILE_NAMES, ids=lambda named: "run/t.yaml" if callable(named) else repr(named))
@pytest.mark.parametrize("trust", [False, True], ids=["", "--trust"])
def test_a_manifest_naming_a_target_file_or_an_unknown_target_runs_nothing(tmp_path, named, trust):
    marker = tmp_path / "PWNED"
    run = planted(tmp_path / "data", named, marker)
    said = json.loads((run / "manifest.json").read_text())["target"]
    # Run from inside the shared folder, where the file a relative name names is: the worst case. Trusting the run
    # does not make what its manifest says a file to read.
    result = replay(tmp_path / "data", "--run", str(run), *(["--trust"] if trust else []), cwd=run)
    assert error_line(result) == (
        f"error: .: its manifest names target {repr(said)[:80]}, which is not a target in targets/ (a run names its "
        f"target only by name; known: {KNOWN}): give --target NAME or FILE"
    )
    assert not marker.exists() and sorted(path.name for path in run.parent.parent.iterdir()) == ["codex"]


def test_a_manifest_naming_no_target_is_told_to_give_one(tmp_path):
    run = planted(tmp_path / "data", None, tmp_path / "PWNED")
    assert error_line(replay(tmp_path / "data", "--run", str(run))) == (
        f"error: {run}: its manifest names no target: give --target NAME or FILE"
    )


def test_a_target_file_comes_from_target_and_the_run_still_needs_trust(tmp_path):
    marker = tmp_path / "PWNED"
    run = planted(tmp_path / "data", "t", marker)
    # The user names the file: it is read, and its agent is the one the replay would start; the run is not ours.
    assert error_line(replay(tmp_path / "data", "--run", str(run), "--target", str(run / "t.yaml"))) == (
        f"error: replay refused: {run} was not recorded on this machine (no signature of this machine's). Replaying "
        f"it, sh carries out the tool calls the recorded answers of {run} make (shell commands, file writes, whatever "
        f"its tools do) as {USER}, in a new empty folder. Give --trust if you trust where the run came from, or "
        "--approvals to run the agent with its approvals on: sh runs as its target runs it, which keeps it from "
        "changing anything without an approval nobody is there to give (tools that only read still run)"
    )
    assert not marker.exists()


def test_a_run_from_elsewhere_is_refused_before_anything_starts(tmp_path):
    run = planted(tmp_path / "data", "codex", tmp_path / "PWNED")
    agent = fake_agent(tmp_path / "bin", "codex")
    workdir = tmp_path / "mine"
    workdir.mkdir()
    line = error_line(replay(tmp_path / "data", "--run", str(run), "--workdir", str(workdir), path=str(agent)))
    assert line.startswith(f"error: replay refused: {run} was not recorded on this machine (no signature of this ")
    assert f"codex carries out the tool calls the recorded answers of {run} make " in line
    assert f"as {USER}, in {workdir}. Give --trust if you trust where the run came from, or --approvals" in line
    assert not (agent / "STARTED").exists() and list(workdir.iterdir()) == []
    assert sorted(path.name for path in run.parent.iterdir()) == [run.name]


def test_an_agent_with_no_approvals_to_turn_on_is_offered_only_trust(tmp_path):
    """pi asks before nothing and its file names no way to make it ask: the refusal offers --trust alone."""
    run = planted(tmp_path / "data", "pi", tmp_path / "PWNED")
    agent = fake_agent(tmp_path / "bin", "pi")
    line = error_line(replay(tmp_path / "data", "--run", str(run), path=str(agent)))
    assert line.endswith(
        f"as {USER}, in a new empty folder. Give --trust if you trust where the run came from (its target file gives "
        "no way to run pi with its approvals on)"
    )
    assert "pi's agent runs its tools without asking (by default)" in line and "--approvals" not in line
    assert not (agent / "STARTED").exists()


def test_what_a_run_from_elsewhere_says_of_its_agent_does_not_reach_it_with_approvals_on(tmp_path):
    """Its prompt is not an option to the agent (`--dangerously-bypass-approvals-and-sandbox`), and its agent
    version is not installed and run (an older agent might not keep its approvals)."""
    data = tmp_path / "data"
    run = planted(data, "codex", tmp_path / "PWNED")
    agent = fake_agent(tmp_path / "bin", "codex")
    manifest = json.loads((run / "manifest.json").read_text())
    option = {**manifest, "prompt": "--dangerously-bypass-approvals-and-sandbox"}
    (run / "manifest.json").write_text(json.dumps(option))
    assert error_line(replay(data, "--run", str(run), "--approvals", path=str(agent))) == (
        f"error: {run}: its recorded prompt starts with '-', an agent's option: give --prompt"
    )
    assert not (agent / "STARTED").exists()
    (run / "manifest.json").write_text(json.dumps({**manifest, "agent": {"requested_version": "0.1.0"}}))
    result = replay(data, "--run", str(run), "--approvals", "--timeout", "10", path=str(agent))
    assert "replay: the agent runs at the version a new run would, not 0.1.0, the one the run names" in result.stderr
    assert "installing" not in result.stderr  # nothing asked of npm
    [new] = [folder for folder in run.parent.iterdir() if folder != run]
    assert json.loads((new / "manifest.json").read_text())["agent"]["binary"] == str(agent / "codex")


def test_trust_and_approvals_do_not_go_together(tmp_path):
    run = planted(tmp_path / "data", "codex", tmp_path / "PWNED")
    line = error_line(replay(tmp_path / "data", "--run", str(run), "--trust", "--approvals"))
    assert line.startswith("error: argument --approvals: not allowed with argument --trust")


# A shared run of Qwen Code: what its recorded first answer makes the agent do.
CALLS = [
    ("run_shell_command", {"command": "touch {marker}-shell", "description": "a recorded command"}),
    ("tool_call", {"name": "run_shell_command", "arguments": {"command": "touch {marker}-bridge", "description": "x"}}),
    ("write_file", {"file_path": "{marker}-written", "content": "a recorded write"}),
]


def asking_run(data: Path, qwen_program: str) -> subprocess.CompletedProcess:
    """Qwen Code's run against the mock as a replay with approvals on runs it: its target without --yolo."""
    target = yaml.safe_load((PROJECT_ROOT / "targets" / "qwen-code.yaml").read_text())
    target["agent"]["command"].remove("--yolo")
    del target["agent"]["auto_approve"]
    (data / "asking.yaml").write_text(yaml.safe_dump(target))
    env = dict(os.environ, PROBE_DATA_DIR=str(data / "asking"))
    env["PATH"] = f"{Path(qwen_program).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "invoke", "pipeline", "-t", str(data / "asking.yaml"), "-u", "mock", "-p", PROMPT,
         "--port", "api=0", "--workdir", "fresh", "--timeout", "120", "--quiet"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


# The tests of the Qwen Code runs share one worker, so that the module makes its two runs once.
ON_THE_QWEN_RUNS_WORKER = pytest.mark.xdist_group("qwen-runs")


@pytest.fixture(scope="module")
def qwen_runs(tmp_path_factory, qwen_program):
    """Two runs of Qwen Code against the mock, recorded here: as its target runs it (--yolo), and as a replay runs it
    with its approvals on (without --yolo: it then sends other requests). The two run side by side, each on free
    ports into a data folder of its own."""
    data = tmp_path_factory.mktemp("qwen-runs")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        yolo_run = pool.submit(pipeline_against_mock, "qwen-code", qwen_program, data / "yolo", PROMPT)
        asking = pool.submit(asking_run, data, qwen_program)
    result, yolo = yolo_run.result()
    assert result.returncode == 0, result.stderr[-2000:]
    result = asking.result()
    assert result.returncode == 0, result.stderr[-2000:]
    [asking] = (data / "asking" / "qwen-code").iterdir()
    return yolo, asking


def crafted(recorded: Path, data: Path, marker: Path) -> Path:
    """A shared copy of a recorded run whose first answer makes three tool calls that would each leave a file
    `marker`-something: a shell command, the same through Qwen Code's tool_call bridge, and a file write. Its
    manifest names no agent version, so the replay starts the `qwen` first on PATH."""
    run = data / "qwen-code" / "20261125-120000-shared"
    run.mkdir(parents=True)
    lines = [json.loads(line) for line in (recorded / "traffic.jsonl").read_text().splitlines()]
    calls = [
        {"index": index, "id": f"call_{index}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(arguments).replace("{marker}", str(marker))}}
        for index, (name, arguments) in enumerate(CALLS)
    ]  # fmt: skip
    chunk = {"id": "chatcmpl-shared", "object": "chat.completion.chunk", "created": 1795600000, "model": "gpt-4.1"}
    calling = {"index": 0, "delta": {"role": "assistant", "tool_calls": calls}, "finish_reason": None}
    events = [
        {**chunk, "choices": [calling]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
         "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18}},
    ]  # fmt: skip
    response = lines[0]["response"]
    for field in ("chunks", "body_size", "body_sha256"):
        response.pop(field, None)
    response["body"] = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    manifest = json.loads((recorded / "manifest.json").read_text())
    manifest["agent"].update(version=None, requested_version=None)
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def markers(marker: Path) -> list[str]:
    return sorted(path.name for path in marker.parent.glob(f"{marker.name}*"))


@ON_THE_QWEN_RUNS_WORKER
def test_a_shared_run_of_qwen_code_runs_nothing_without_trust(qwen_runs, tmp_path):
    marker = tmp_path / "PWNED"
    run = crafted(qwen_runs[0], tmp_path / "data", marker)
    agent = fake_agent(tmp_path / "bin", "qwen")
    line = error_line(replay(tmp_path / "data", "--run", str(run), path=str(agent)))
    assert line == (
        f"error: replay refused: {run} was not recorded on this machine (no signature of this machine's) and "
        f"qwen-code's agent runs its tools without asking (--yolo). Replaying it, qwen carries out the tool calls the "
        f"recorded answers of {run} make (shell commands, file writes, whatever its tools do) as {USER}, in a new "
        "empty folder. Give --trust if you trust where the run came from, or --approvals to run the agent with its "
        "approvals on: qwen runs without --yolo, and refuses the tool calls that need approval (the replay may "
        "diverge then)"
    )
    assert not (agent / "STARTED").exists() and markers(marker) == []
    assert [path.name for path in run.parent.iterdir()] == [run.name]  # no new run: no proxies, no agent


@ON_THE_QWEN_RUNS_WORKER
def test_a_run_of_qwen_code_recorded_here_still_needs_trust_as_it_runs_its_tools_without_asking(qwen_runs, tmp_path):
    recorded = tmp_path / "data" / "qwen-code" / qwen_runs[0].name
    shutil.copytree(qwen_runs[0], recorded)
    line = error_line(replay(tmp_path / "data", "--run", str(recorded)))
    assert line.startswith("error: replay refused: qwen-code's agent runs its tools without asking (--yolo). ")
    assert "not recorded on this machine" not in line


@ON_THE_QWEN_RUNS_WORKER
def test_with_trust_the_shared_run_does_run_its_calls(qwen_runs, tmp_path, qwen_program):
    """What --trust means: the recorded calls run (the shell command and the write; the bridge takes only tools that
    are not declared, and under --yolo the shell is)."""
    marker = tmp_path / "PWNED"
    run = crafted(qwen_runs[0], tmp_path / "data", marker)
    result = replay(tmp_path / "data", "--run", str(run), "--trust", path=str(Path(qwen_program).parent))
    assert f"replay: --trust: qwen carries out the tool calls the recorded answers of {run} make" in result.stderr
    assert markers(marker) == ["PWNED-shell", "PWNED-written"]


@ON_THE_QWEN_RUNS_WORKER
def test_with_approvals_the_agent_refuses_every_recorded_call(qwen_runs, tmp_path, qwen_program):
    marker = tmp_path / "PWNED"
    run = crafted(qwen_runs[1], tmp_path / "data", marker)
    result = replay(tmp_path / "data", "--run", str(run), "--approvals", path=str(Path(qwen_program).parent))
    assert "Traceback" not in result.stderr
    assert "replay: approvals on: qwen runs without --yolo, and refuses the tool calls that need approval" in (
        result.stderr
    )
    assert markers(marker) == []
    [new] = [folder for folder in run.parent.iterdir() if folder != run]
    manifest = json.loads((new / "manifest.json").read_text())
    assert "--yolo" not in manifest["agent"]["argv"] and manifest["replay"]["trust"] == "approvals on (--approvals)"
    # The agent got the recorded calls, and answered each with its refusal.
    lines = [json.loads(line) for line in (new / "traffic.jsonl").read_text().splitlines()]
    results = {
        message["tool_call_id"]: message["content"][0]["text"]
        for message in lines[1]["request"]["body"]["messages"]
        if message["role"] == "tool"
    }
    assert results == {
        "call_0": 'Qwen Code requires permission to use "run_shell_command", but that permission was declined. '
        'Matching deny rule: "run_shell_command".',
        "call_1": '[tool_call bridge refused] Deferred tool "run_shell_command" is not registered in this session. '
        "Run tool_search again to inspect the available tools.",
        "call_2": 'Qwen Code requires permission to use "write_file", but that permission was declined. Matching '
        'deny rule: "edit".',
    }
