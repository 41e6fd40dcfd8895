"""`python -m probe.replay.run`: a fresh run of the real codex is served back to the real codex by the stand-in
upstream, and the new capture matches it; an edited recording makes the replay name the request that diverged;
bad input gets one line."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT, pipeline_against_mock

from probe.analyse.run_figures import Difference
from probe.analysis.compare_view import differences, figures_of
from probe.analysis.report import analyze_run, refresh
from probe.common.counting import counted
from probe.replay.keys import durations_out
from probe.write.diff import diff_runs

PROMPT = "write a hello world function"


# The tests of the module's fresh codex runs share one worker, so that each run is made once.
ON_THE_RECORDED_RUNS_WORKER = pytest.mark.xdist_group("codex-recorded")


@pytest.fixture(scope="module", params=["http", "websocket"])
def recorded(request, tmp_path_factory, codex_program):
    """A fresh codex run against the mock, over one transport: the recording a replay serves."""
    data_dir = tmp_path_factory.mktemp(f"recorded-{request.param}")
    options = ("--port", "model=0", "--port", "backend=0", "--mock-transport", request.param, "--label", "original")
    result, run = pipeline_against_mock("codex", codex_program, data_dir, PROMPT, *options)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def replay(run: Path, program: str, *options: str) -> tuple[subprocess.CompletedProcess, Path | None]:
    """`python -m probe.replay --run RUN` with `program`'s folder first on PATH; the new run folder, if any."""
    env = dict(os.environ, PROBE_DATA_DIR=str(run.parent.parent))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    before = set(run.parent.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "probe.replay.run", "--run", str(run), "--quiet", "--timeout", "120", *options],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    made = sorted(set(run.parent.iterdir()) - before)
    return result, made[-1] if made else None


def lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]


def model_requests(run: Path) -> list[list]:
    """What each request told the model, read here from the JSON as sent: each input item's type, role, tool
    name, arguments and output (durations left out), HTTP bodies and WebSocket client messages alike."""
    found = []
    for line in lines(run):
        bodies = [line["request"].get("body")] if line["kind"] == "http" else [
            message["body"] for message in line["messages"] if message["from"] == "client"
        ]  # fmt: skip
        for body in bodies:
            if isinstance(body, dict) and isinstance(body.get("input"), list):
                found.append([said(item) for item in body["input"] if item.get("role") not in ("developer", "system")])
    return found


def said(item: dict) -> tuple:
    output = item.get("output")
    output = re.sub(r"\d+(\.\d+)? seconds", "<duration>", output) if isinstance(output, str) else output
    text = [part.get("text") for part in item.get("content") or [] if isinstance(part, dict)]
    text = [re.sub(r"<cwd>.*?</cwd>|<root>.*?</root>", "<folder>", each or "") for each in text]
    return item.get("type"), item.get("role"), item.get("name"), item.get("arguments"), output, text


def answers(run: Path) -> list[str]:
    """Every answer the model gave, as the agent got it: SSE bodies and the server's WebSocket messages."""
    found = []
    for line in lines(run):
        if line["kind"] == "http":
            found.append(json.dumps(line["response"]["body"]))
        else:
            found += [json.dumps(message["body"]) for message in line["messages"] if message["from"] == "server"]
    return found


@ON_THE_RECORDED_RUNS_WORKER
def test_a_replay_by_the_same_codex_matches_every_request_and_the_capture_matches(recorded, codex_program):
    result, run = replay(recorded, codex_program, "--fast")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == "replay: every request matched (3 requests)"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["upstream_override"].startswith("http://127.0.0.1:")
    # Recorded on this machine, by an agent that asks before its tools: replayed without --trust.
    assert manifest["replay"] == {
        "of": f"codex/{recorded.name}", "status": "every request matched", "requests": 3, "repeated": 0,
        "not_asked": [], "threads": {"recorded": 1, "bound": 1, "unbound": 0}, "trust": "recorded here",
    }  # fmt: skip
    # The agent asked the same things, and got the recorded answers whole: the same response ids, the same text.
    assert model_requests(run) == model_requests(recorded) and len(model_requests(run)) >= 2
    assert answers(run) == answers(recorded)
    ids = set(re.findall(r"resp_[A-Za-z0-9]+", "".join(answers(recorded))))
    assert ids and ids == set(re.findall(r"resp_[A-Za-z0-9]+", "".join(answers(run))))
    assert "Hello, world!" in "".join(answers(run)) and "Hello, world!" in (run / "report.md").read_text()
    diff, _ = diff_runs(recorded, run)
    assert "- Structural changes: none" in diff, diff[:2000]


def answer_of(line: dict) -> str:
    """One exchange's answer as the agent got it: an HTTP body, or a WebSocket turn's server messages."""
    if line["kind"] == "http":
        return json.dumps(line["response"]["body"])
    return json.dumps([message["body"] for message in line["messages"] if message["from"] == "server"])


def answers_by_agent(run: Path) -> dict[tuple, list[str]]:
    """Each agent's answers in order, the agents grouped by the run's own analysis (insight.jsonl) and each known
    by the names from the main agent down to it (a sub-agent's name is what its spawning call said it is for:
    the same in a faithful replay, where its id is fresh)."""
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    agents = {record["id"]: record for record in records if record["record"] == "agent"}

    def path(agent: str) -> tuple:
        record = agents[agent]
        return (path(record["parent"]) if record["parent"] else ()) + (record["name"],)

    found: dict[tuple, list[str]] = {path(agent): [] for agent in agents}
    exchanges = lines(run)
    for record in records:
        if record["record"] == "turn":
            found[path(record["agent"])].append(answer_of(exchanges[record["number"] - 1]))
    return found


def regroup(run: Path) -> None:
    """The run's exchanges reordered: each agent's in its order, but the grandchild's first, then the child's, then
    the main agent's, as if the agents had taken turns otherwise than they will in the replay."""
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    depth = {record["id"]: record["depth"] for record in records if record["record"] == "agent"}
    agent_of = {record["number"]: record["agent"] for record in records if record["record"] == "turn"}
    exchanges = (run / "traffic.jsonl").read_text().splitlines()
    order = sorted(agent_of, key=lambda number: (-depth[agent_of[number]], number))
    assert order != sorted(order)
    (run / "traffic.jsonl").write_text("".join(exchanges[number - 1] + "\n" for number in order))
    analyze_run(run)


@FRESH_RUNS  # reads the session's subagent_runs: on the worker that makes them
@pytest.mark.parametrize("order", ["as recorded", "regrouped"])
@pytest.mark.parametrize("target", ["claude-code", "codex"])
def test_a_replay_serves_each_sub_agent_the_answers_recorded_for_it(target, order, subagent_runs, tmp_path, request):
    """The main agent spawns a child, the child a grandchild: their requests interleave, and some are the same
    (codex's first request of each thread); each agent of the new run gets its recorded agent's answers, also
    when the recording's agents took turns otherwise (matched by key alone, a codex thread would get another's
    first answer)."""
    [recorded_run] = [run for run in subagent_runs[1] if run.parent.name == target]
    recorded = tmp_path / "data" / target / recorded_run.name  # a copy: the fixture's folder is shared
    shutil.copytree(recorded_run, recorded)
    analyze_run(recorded)
    if order == "regrouped":
        regroup(recorded)
    program = request.getfixturevalue("claude_program" if target == "claude-code" else "codex_program")
    # Regrouped, its capture is no longer the one recorded here: replaying it takes --trust.
    result, run = replay(recorded, program, "--fast", *(["--trust"] if order == "regrouped" else []))
    assert result.returncode == 0, result.stderr[-3000:]
    exchanges = len(lines(recorded))
    assert result.stderr.strip().splitlines()[-1] == f"replay: every request matched ({counted(exchanges, 'request')})"
    assert json.loads((run / "manifest.json").read_text())["replay"] == {
        "of": f"{target}/{recorded.name}", "status": "every request matched", "requests": exchanges, "repeated": 0,
        "not_asked": [], "threads": {"recorded": 3, "bound": 3, "unbound": 0},
        "trust": "recorded here" if order == "as recorded" else "trusted (--trust)",
    }  # fmt: skip
    expected, got = answers_by_agent(recorded), answers_by_agent(run)
    assert len(expected) == 3 and sorted(map(len, expected)) == [1, 2, 3]  # main, child, grandchild
    assert got == expected
    ids = re.compile(r"\b(?:resp|msg)_[A-Za-z0-9]+")
    for agent, answers_got in got.items():  # each answer names its response: the ids are the recorded agent's
        assert ids.findall("".join(answers_got)) == ids.findall("".join(expected[agent])) != [], agent
    # invoke compare measures it too: each request of the replay is one of the recording's, whatever their order.
    refresh(recorded)  # (regrouped: its capture changed after its analysis)
    figures = [figures_of(folder, folder / "turns.jsonl", folder / "insight.jsonl") for folder in (recorded, run)]
    assert differences(figures)[1] == Difference(None, f"none: the same {exchanges} requests")


def edited(recorded: Path, folder: Path) -> Path:
    """A copy of the recording in which the tool's output, as codex sent it back, says something else."""
    run = folder / "codex" / recorded.name
    run.mkdir(parents=True)
    (run / "manifest.json").write_bytes((recorded / "manifest.json").read_bytes())
    changed = 0
    with (run / "traffic.jsonl").open("w") as out:
        for line in lines(recorded):
            text = json.dumps(line)
            if "Sleep completed." in text:
                text, count = text.replace("Sleep completed.", "Sleep was cut short."), 1
                changed += count
            out.write(text + "\n")
    assert changed == 1
    return run


@ON_THE_RECORDED_RUNS_WORKER
def test_a_changed_tool_output_is_named_as_the_request_that_diverged(recorded, codex_program, tmp_path):
    # Three replays of the edited recording, side by side, each of a copy in a data folder of its own: without
    # --trust, with it, and with it and --allow-divergence.
    options = {"refused": ["--fast"], "trusted": ["--fast", "--trust"],
               "allowed": ["--fast", "--allow-divergence", "--trust"]}  # fmt: skip
    runs = {name: edited(recorded, tmp_path / name) for name in options}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(options)) as pool:
        done = {name: pool.submit(replay, runs[name], codex_program, *options[name]) for name in options}
    run = runs["refused"]
    # Its manifest, signed here, still says it was recorded here: the stand-in finds the capture is not the one signed.
    refused, nothing = done["refused"].result()
    assert refused.returncode != 0 and nothing is None and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {run / 'traffic.jsonl'} is not the capture recorded on this machine: it changed after the run was "
        "signed (replay it with --trust only if you trust whoever changed it)"
    )
    run = runs["trusted"]
    result, replayed = done["trusted"].result()
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    where = "WS" if "websocket" in lines(run)[-1]["kind"] else "POST"
    assert re.fullmatch(
        rf"replay: diverged at request 3 \({where} /v1/responses, recorded thread main\): it matches no recorded "
        r"request; expected exchange #3 of the recording \(the run's manifest.json holds the diff\)",
        message,
    ), message
    record = json.loads((replayed / "manifest.json").read_text())["replay"]
    assert record["status"] == "diverged at request 3" and record["divergences"] == 1
    assert record["thread"]["recorded"] == "main" and record["threads"] == {"recorded": 1, "bound": 1, "unbound": 0}
    assert "Sleep was cut short." in record["diff"] and "Sleep completed." in record["diff"]
    assert record["diff"].startswith("| Path | Expected (recorded) | Actual (this run) |")
    # The agent was answered with its API's own error, and showed it.
    assert "agent-probe replay: diverged at request 3" in json.dumps(lines(replayed)[-1])
    assert "Traceback" not in result.stderr

    allowed, _ = done["allowed"].result()
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert "replay: diverged at request 3" in allowed.stderr


def test_reported_durations_compare_as_one():
    """Measured anew each run: a tool's `Wall time`, a sub-agent's report's `duration_ms` (Claude Code's)."""
    assert durations_out("Wall time: 0.0113 seconds\nSleep completed. took 12ms") == (
        "Wall time: <duration>\nSleep completed. took <duration>"
    )
    report = "<usage>subagent_tokens: 9559\ntool_uses: 1\nduration_ms: 1977</usage>"
    assert durations_out(report) == "<usage>subagent_tokens: 9559\ntool_uses: 1\nduration_ms: <duration></usage>"
    assert durations_out('{"elapsed_s": 1.5, "tokens_used": 3, "files": 12}') == (
        '{"elapsed_s": <duration>, "tokens_used": 3, "files": 12}'
    )


def started(data_dir: Path, arguments: list[str]) -> subprocess.Popen:
    """`python -m probe.replay.run ARGUMENTS` recording into `data_dir`, started and left to run."""
    return subprocess.Popen(
        [sys.executable, "-m", "probe.replay.run", *arguments], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PROBE_DATA_DIR=str(data_dir)),
    )  # fmt: skip


def one_line_errors(*cases: tuple[Path, list[str]]) -> list[str]:
    """The one line each `python -m probe.replay.run ARGUMENTS` prints as it refuses, for each (data folder,
    arguments): the processes run side by side, as each refusal takes an interpreter's start and imports."""
    found = []
    for process in [started(data_dir, arguments) for data_dir, arguments in cases]:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode != 0 and "Traceback" not in stderr
        [line] = stderr.strip().splitlines()
        found.append(line)
    return found


def run_folder(data_dir: Path, traffic: str, target: str = "codex") -> Path:
    run = data_dir / target / "20261125-120000-given"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"schema": 1, "target": target, "prompt": PROMPT}))
    (run / "traffic.jsonl").write_text(traffic)
    return run


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_bad_input_gets_one_line(tmp_path, private_data_dir):
    models = {"schema": 1, "kind": "http", "id": "x", "proxy": "model", "complete": True,
              "request": {"method": "GET", "url": "http://u/v1/models", "path": "/v1/models", "headers": []},
              "response": {"status": 200, "headers": [], "body": {"data": []}, "body_format": "json"}}  # fmt: skip
    run = run_folder(tmp_path / "a", json.dumps(models) + "\n")
    damaged = run_folder(tmp_path / "b", '{"schema": 1, "kind": "http", "requ\n\x00\x01garbage\n')
    other = run_folder(tmp_path / "c", json.dumps(models) + "\n")
    empty = tmp_path / "d" / "codex" / "20261125-120000-empty"
    empty.mkdir(parents=True)
    no_model, no_model_damaged, not_its_target, no_manifest = one_line_errors(
        (tmp_path / "a", ["--run", str(run), "--trust"]),
        (tmp_path / "b", ["--run", str(damaged), "--trust"]),
        (tmp_path / "c", ["--run", str(other), "--target", "claude-code"]),
        (tmp_path / "d", ["--run", str(empty)]),
    )
    assert no_model == f"error: {run} holds no exchange with a model: there is nothing to replay"
    assert "holds no exchange with a model" in no_model_damaged
    assert not_its_target == f"error: {other} is a run of 'codex', not of 'claude-code'"
    assert "manifest.json" in no_manifest
