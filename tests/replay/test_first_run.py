"""The first run anyone makes, replayed at once: `invoke pipeline --upstream mock --prompt …` started from a git
checkout runs the real agent in a fresh folder of its run's own, never in the checkout, so `invoke replay --run
latest` asks the same things and every request matches (codex, Claude Code, gemini-cli); `--workdir .` is the way
to run it in the checkout. A replay that diverges names the earliest request that did first, in the agent's error
and in its own lines, and lists the requests after it as consequences (Claude Code retries a 400 five times)."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from probe.capture.agent_home import is_fresh_workdir
from probe.capture.options import add_capture_arguments, workdir_of
from probe.common import cli
from probe.common.counting import counted
from probe.replay.keys import RequestKey
from probe.replay.matching import Divergence, Matcher
from probe.replay.recorded import Answer
from probe.replay.run import outcome

PROMPT = "write a hello world function"
COMMIT = "A commit only this checkout has"  # what Claude Code's first request would carry from a checkout
PROGRAMS = {"claude-code": "claude_program", "codex": "codex_program", "gemini": "gemini_program"}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A folder like agent-probe's checkout, from which a newcomer runs the quick start: a git repository with a
    commit and a file of its own."""
    folder = tmp_path_factory.mktemp("checkout")
    (folder / "README.md").write_text("# a project the agent must not work in\n")
    identity = ["-c", "user.name=Probe Tests", "-c", "user.email=tests@example.invalid"]
    for command in (["init", "-q", "-b", "main"], ["add", "README.md"], [*identity, "commit", "-q", "-m", COMMIT]):
        subprocess.run(["git", *command], cwd=folder, check=True, capture_output=True)
    return folder


def invoke(checkout: Path, data_dir: Path, program: str, *arguments: str) -> subprocess.CompletedProcess:
    """`invoke …` as typed in the checkout (`-r` finds this project's tasks from there), `program`'s folder first on
    PATH, recording into `data_dir`."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(PROJECT_ROOT), *arguments],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def git_status(folder: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True).stdout


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def runs(data_dir: Path, target: str) -> list[Path]:
    return sorted((data_dir / target).iterdir())


@pytest.fixture(scope="module")
def first_runs(checkout, tmp_path_factory, request) -> dict:
    """Each agent's first run against the mock, from the checkout, with no --workdir: target -> its data folder.
    The three run side by side: each has its own data folder, free ports and a fresh folder to work in."""
    programs = {target: request.getfixturevalue(fixture) for target, fixture in PROGRAMS.items()}
    folders = {target: tmp_path_factory.mktemp(f"first-{target}") for target in PROGRAMS}
    pipeline = ("pipeline", "-u", "mock", "-p", PROMPT, "--timeout", "120")
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(PROGRAMS)) as pool:
        done = [pool.submit(invoke, checkout, folders[t], programs[t], *pipeline, "-t", t) for t in PROGRAMS]
    for result in (future.result() for future in done):
        assert result.returncode == 0, result.stderr[-3000:]
    return {target: (folders[target], programs[target]) for target in PROGRAMS}


@pytest.mark.xdist_group("first-runs")  # the module's runs are made once, on one worker
@pytest.mark.parametrize("target", list(PROGRAMS))
def test_the_first_run_from_a_checkout_replays_with_every_request_matched(target, first_runs, checkout):
    data_dir, program = first_runs[target]
    [recorded] = runs(data_dir, target)
    # The agent worked in a fresh folder of the run's own, gone now, and read nothing of the checkout.
    cwd = manifest(recorded)["agent"]["cwd"]
    assert is_fresh_workdir(cwd) and not Path(cwd).exists() and cwd != str(checkout)
    traffic = (recorded / "traffic.jsonl").read_text()
    assert COMMIT not in traffic and str(checkout) not in traffic and PROMPT in traffic
    exchanges = len(traffic.splitlines())

    # gemini-cli runs its tools without asking (--yolo): its replay needs --trust, as the samples' do.
    trust = ["--trust"] if target == "gemini" else []
    result = invoke(checkout, data_dir, program, "replay", "--run", "latest", "--fast", "--quiet", *trust)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == f"replay: every request matched ({counted(exchanges, 'request')})"
    assert "diverged" not in result.stdout + result.stderr and "not in a fresh folder" not in result.stderr
    replayed = runs(data_dir, target)[-1]
    record = manifest(replayed)["replay"]
    assert record["status"] == "every request matched" and record["requests"] == exchanges
    assert record["not_asked"] == [] and record["repeated"] == 0 and "first_divergence" not in record
    assert is_fresh_workdir(manifest(replayed)["agent"]["cwd"])
    assert git_status(checkout) == ""  # neither agent wrote into the checkout


def test_workdir_dot_runs_the_agent_in_the_checkout(checkout, tmp_path, claude_program):
    """`--workdir .` is how to run the agent in the current folder: Claude Code then reads its git status."""
    data_dir = tmp_path / "dot"
    result = invoke(checkout, data_dir, claude_program, "pipeline", "-t", "claude-code", "-u", "mock", "-p", PROMPT,
                    "--workdir", ".", "--timeout", "120")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = runs(data_dir, "claude-code")
    assert manifest(run)["agent"]["cwd"] == str(checkout.resolve())
    first = json.loads((run / "traffic.jsonl").read_text().splitlines()[0])
    assert COMMIT in json.dumps(first["request"]["body"]["messages"])

    # Its replay runs in a fresh folder, says so before the agent starts, and diverges at the first request.
    replayed = invoke(checkout, data_dir, claude_program, "replay", "--run", "latest", "--fast", "--quiet")
    assert replayed.returncode == 1
    assert replayed.stderr.splitlines()[0] == (
        f"replay: the run's agent worked in {checkout.resolve()}, not in a fresh folder, and the replay's works in "
        "a new empty one: what it reads of its folder (files, git status) may differ, and its requests with it "
        "(--workdir FOLDER runs it in a folder like the recorded one)"
    )
    record = manifest(runs(data_dir, "claude-code")[-1])["replay"]
    assert record["status"] == "diverged at request 1" and COMMIT in record["diff"]


def edited(recorded: Path, data_dir: Path) -> Path:
    """A copy of the recording in which the tool's result, as Claude Code sent it back in its second request,
    says something else: the replay's second request differs from it."""
    run = data_dir / "claude-code" / recorded.name
    shutil.copytree(recorded, run)
    lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    results = [
        part
        for line in lines
        for message in line["request"]["body"]["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part.get("type") == "tool_result"
    ]
    assert [part["content"] for part in results] == ["agent-probe tool call"]
    results[0]["content"] = "agent-probe tool call, edited"
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return run


@pytest.mark.xdist_group("first-runs")
def test_a_replay_names_the_earliest_divergence_first_and_the_agents_retries_after_it(first_runs, checkout, tmp_path):
    data_dir, program = first_runs["claude-code"]
    [recorded] = runs(data_dir, "claude-code")[:1]
    run = edited(recorded, tmp_path / "crafted")
    result = invoke(checkout, tmp_path / "crafted", program, "replay", "--run", "latest", "--fast", "--quiet",
                    "--trust")  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    replayed = runs(tmp_path / "crafted", "claude-code")[-1]
    assert replayed != run
    record = manifest(replayed)["replay"]
    # Request 2 diverged; Claude Code answered the 400 with retries and fallbacks, each refused too: the last one
    # is the error it shows.
    last = record["requests"]
    assert record["status"] == "diverged at request 2" and record["divergences"] == last - 1 and last >= 6
    where = "(POST /v1/messages, recorded thread main)"
    first = f"diverged at request 2 {where}: it matches no recorded request; expected exchange #2 of the recording"
    assert record["first_divergence"] == first
    assert "agent-probe tool call, edited" in record["diff"] and '"agent-probe tool call"' in record["diff"]
    assert [entry["request"] for entry in record["consequences"]] == list(range(3, last + 1))
    assert all(entry["summary"].startswith(f"diverged at request {entry['request']} ") for entry in
               record["consequences"])  # fmt: skip

    # What is printed names request 2 first: the agent's own error leads with it, then the replay's lines.
    shown = result.stdout + result.stderr
    assert re.findall(r"request (\d+)", shown)[0] == "2"
    assert f"API Error: 400 agent-probe replay: {first}; request {last} {where}, after it, matches no recorded " in (
        result.stdout
    )
    assert result.stderr.strip().splitlines()[-2:] == [
        f"replay: {first} (the run's manifest.json holds the diff)",
        f"replay: then, as a consequence, {last - 2} later requests matched nothing either "
        f"({', '.join(map(str, range(3, last + 1)))}): what the agent asked once it had been answered with an error",
    ]


def key(*said: str) -> RequestKey:
    return RequestKey(
        "POST /v1/messages", "m", tuple(("user", (("text", text, None, None, False, None),)) for text in said)
    )


def test_the_earliest_divergence_comes_first_whatever_order_it_is_read_in():
    """Request 2 differs; the agent goes on, and request 6 fails too. The agent shows request 6's error, which
    names request 2 first, and the record lists 6 after 2 even if the stand-in's lines were read out of order."""
    asked = [key("a"), key("a", "b"), key("a", "x")]
    matcher = Matcher([Answer(number, request) for number, request in enumerate(asked, 1)])
    found = [matcher.answer(request) for request in [key("a"), key("a", "changed"), key("a", "x"), key("a", "x"),
                                                     key("a", "x"), key("a", "y")]]  # fmt: skip
    assert [type(each).__name__ for each in found] == ["Answer", "Divergence", "Answer", "Answer", "Answer",
                                                       "Divergence"]  # fmt: skip
    second, sixth = found[1], found[5]
    assert isinstance(second, Divergence) and isinstance(sixth, Divergence)
    assert (
        second.said()
        == second.summary()
        == (
            "diverged at request 2 (POST /v1/messages): it matches no recorded request; expected exchange #2 of the "
            "recording"
        )
    )
    assert sixth.said() == (
        f"{second.summary()}; request 6 (POST /v1/messages), after it, matches no recorded request either"
    )
    said = [
        {"event": "diverged", "request": 6, "summary": sixth.summary(), "diff": None, "after": 2},
        {"event": "diverged", "request": 2, "summary": second.summary(), "diff": second.diff(), "after": None},
        {"event": "stopped", "requests": 6, "repeated": 2, "not_asked": [2], "threads": None},
    ]
    record = outcome(Path("data/codex/20261126-000000"), said)
    assert record["status"] == "diverged at request 2" and record["first_divergence"] == second.summary()
    assert record["diff"] == second.diff() and "changed" in record["diff"] and record["divergences"] == 2
    assert record["consequences"] == [{"request": 6, "summary": sixth.summary()}]


def test_only_a_prompt_run_gets_a_fresh_folder_without_workdir(tmp_path, monkeypatch):
    parser = cli.ArgumentParser(prog="capture")
    add_capture_arguments(parser)

    def workdir(*arguments: str) -> str | None:
        return workdir_of(parser.parse_args(["--target", "codex", *arguments]))

    assert workdir("--prompt", PROMPT) == "fresh"
    assert workdir("--command", "python client.py") is None  # where it was started: its paths are relative to it
    assert workdir("--prompt", PROMPT, "--workdir", str(tmp_path)) == str(tmp_path.resolve())
    monkeypatch.chdir(tmp_path)
    assert workdir("--prompt", PROMPT, "--workdir", ".") == str(tmp_path.resolve())
