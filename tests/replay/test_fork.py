"""`python -m probe.replay.run --until N --upstream mock --model M`: a fork. The real codex (fresh_runs, over HTTP)
and the real Claude Code (subagent_runs: a main agent, a child and a grandchild), each forked at its second request:
up to it, the requests ask what the recording's asked and get its answers; after it, every agent's requests go to
the mock, ask for M, and the mock's answers name M; the manifest and the report name the origin; --verify's check
is recorded. A run from elsewhere is refused in one line, before anything runs."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FRESH_RUNS, PROJECT_ROOT

from probe.common.errors import ProbeError
from probe.replay.fork import verify as run_check
from probe.replay.run import parse_args
from probe.runs.provenance import FIELD

NEW_MODEL = "fork-model-1"
FOLDER = re.compile(r"/tmp/agent-probe-(?:workdir|home)-[^/\s\"\\`]+")  # each run's fresh folders, named anew
INSTRUCTING = ("developer", "system")
SAID = {"role", "type", "name", "text", "content", "output", "is_error"}
WHOLE = {"arguments", "input"}  # a tool call's arguments, as the model wrote them
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:seconds?|ms)\b")


def fork(run: Path, program: str, *options: str) -> tuple[subprocess.CompletedProcess, Path | None]:
    """`python -m probe.replay.run --run RUN OPTIONS` with `program`'s folder first on PATH, into the data folder
    that holds `run`; the new run folder, if any."""
    env = dict(os.environ, PROBE_DATA_DIR=str(run.parents[1]))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    before = set(run.parent.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "probe.replay.run", "--run", str(run), "--quiet", "--fast", "--timeout", "120",
         *options],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    made = sorted(set(run.parent.iterdir()) - before)
    return result, made[-1] if made else None


def copied(run: Path, folder: Path) -> Path:
    """A copy of a session fixture's run in a data folder of the test's own (the fixture's is shared)."""
    copy = folder / "data" / run.parent.name / run.name
    shutil.copytree(run, copy)
    return copy


def exchanges(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]


def asked(line: dict) -> list:
    """What one exchange asked the model, as sent: each request body (or WebSocket client message) with its
    model and its conversation (`messages` or `input`; its instructions, which an agent stamps with the time and
    its turn's id, left out, as a replay leaves them out), the run's own folders and reported durations left
    out."""
    bodies = [line["request"].get("body")] if line["kind"] == "http" else [
        message["body"] for message in line["messages"] if message["from"] == "client"
    ]  # fmt: skip
    found = []
    for body in bodies:
        if isinstance(body, dict):
            items = body.get("messages", body.get("input")) or []
            items = [item for item in items if not (isinstance(item, dict) and item.get("role") in INSTRUCTING)]
            conversation = json.dumps(said(items), sort_keys=True)
            found.append((body.get("model"), DURATION.sub("<duration>", FOLDER.sub("<folder>", conversation))))
    return found


def said(value):
    """What an item tells the model: its role, types, texts, tool names, arguments, inputs and outputs; what an
    agent stamps on its items anew in each run (ids, times, turn ids) left out."""
    if isinstance(value, dict):
        return {key: each if key in WHOLE else said(each) for key, each in value.items() if key in SAID | WHOLE}
    if isinstance(value, list):
        return [said(each) for each in value]
    return value


def answered_models(line: dict) -> set[str]:
    """The models the answer names (Anthropic's message_start, the Responses API's response objects)."""
    if line["kind"] == "http":
        text = json.dumps(line["response"].get("body"))
    else:
        text = json.dumps([message["body"] for message in line["messages"] if message["from"] == "server"])
    return set(re.findall(r'\\?"model\\?": ?\\?"([^"\\]+)', text))


def upstream_of(line: dict) -> str:
    return line["request"]["url"].split("/v1/", 1)[0]


@FRESH_RUNS  # reads the session's fresh_runs and subagent_runs: on the worker that makes them
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("target", ["codex", "claude-code"])
def test_a_fork_at_the_second_request_matches_up_to_it_then_asks_the_mock_for_the_new_model(target, request, tmp_path):
    if target == "codex":
        recorded_run = request.getfixturevalue("fresh_runs")[1]
        program = request.getfixturevalue("codex_program")
    else:
        [recorded_run] = [run for run in request.getfixturevalue("subagent_runs")[1] if run.parent.name == target]
        program = request.getfixturevalue("claude_program")
    recorded = copied(recorded_run, tmp_path)
    verify = "test -f hello.py" if target == "codex" else "ls -a; echo agent-probe check >&2; exit 3"
    result, run = fork(recorded, program, "--until", "2", "--upstream", "mock", "--model", NEW_MODEL,
                       "--verify", verify)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert run is not None and run.name.endswith("-fork")
    said = result.stderr.splitlines()
    assert f"fork: of {target}/{recorded.name} at request 2: the recorded answers up to it, then the agent's " \
           f"requests go to the bundled mock, asking for model {NEW_MODEL}" in said  # fmt: skip
    assert "replay: request 2 served from the recording; from here the fork is live" in said
    assert said[-1] == "replay: every request matched up to 2 (2 requests)"

    before, after = exchanges(recorded), exchanges(run)
    # Up to the fork point the agent asked what the recording's asked (model and conversation), and got its answers.
    assert [asked(line) for line in after[:2]] == [asked(line) for line in before[:2]] != [[], []]
    assert [line["response"].get("body") for line in after[:2]] == [line["response"].get("body") for line in before[:2]]
    old_model = {model for line in before for model, _ in asked(line)}
    assert len(old_model) == 1 and NEW_MODEL not in old_model
    # After it, every request, whichever agent sent it, went to the mock, asked for the new model, and was answered
    # by the mock with it: none of them reached the stand-in.
    live = after[2:]
    assert len(live) >= (4 if target == "claude-code" else 1)
    assert {upstream_of(line) for line in live}.isdisjoint({upstream_of(line) for line in after[:2]})
    assert all(asked(line) and {model for model, _ in asked(line)} == {NEW_MODEL} for line in live)
    assert all(line["response"]["status"] == 200 and answered_models(line) == {NEW_MODEL} for line in live)

    manifest = json.loads((run / "manifest.json").read_text())
    checked = manifest["origin"].pop("verify")
    assert manifest["origin"] == {
        "run": f"{target}/{recorded.name}", "path": str(recorded.resolve()), "kind": "fork", "at": 2,
        "model": NEW_MODEL, "upstream": "mock",
    }  # fmt: skip
    assert manifest["replay"]["status"] == "every request matched up to 2"
    assert manifest["replay"]["forked_at_request"] == 2 and manifest["replay"]["not_asked"] == []
    assert manifest["status"] == "complete"
    assert isinstance(checked.pop("seconds"), float)
    if target == "codex":  # the mock's codex answers write no file
        assert checked == {"command": verify, "exit_code": 1, "tail": ""}
    else:  # the check ran in the fork's own folder, which the agent left empty, and its output is kept
        assert checked == {"command": verify, "exit_code": 3, "tail": ".\n..\nagent-probe check"}
    report = (run / "report.md").read_text()
    assert f"- Origin: a `fork` of run `{target}/{recorded.name}` at request `2`, from there with model " \
           f"`{NEW_MODEL}`" in report  # fmt: skip
    assert f"- Verify: `{verify}` exited `{checked['exit_code']}` after" in report
    if target == "claude-code":  # the console shows the end of what the check printed, as the manifest keeps it
        assert said[said.index("fork: verify: exit code 3, ending:") + 1 :][:3] == [
            "fork: verify: | .", "fork: verify: | ..", "fork: verify: | agent-probe check"]  # fmt: skip
    if target == "claude-code":  # the child (request 2's sender) and its parent carried on, and the grandchild
        agents = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
        assert sum(record["record"] == "agent" for record in agents) == 3


@FRESH_RUNS
@pytest.mark.e2e
def test_a_fork_of_a_run_from_elsewhere_is_refused_in_one_line_and_nothing_runs(fresh_runs, tmp_path):
    recorded = copied(fresh_runs[1], tmp_path)
    manifest = json.loads((recorded / "manifest.json").read_text())
    del manifest[FIELD]  # as a run folder from another machine comes
    (recorded / "manifest.json").write_text(json.dumps(manifest))
    agent = tmp_path / "bin"
    agent.mkdir()
    (agent / "codex").write_text(f"#!/bin/sh\ntouch {agent / 'STARTED'}\n")
    (agent / "codex").chmod(0o755)
    result, made = fork(recorded, str(agent / "codex"), "--until", "2", "--upstream", "mock", "--model", NEW_MODEL)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: replay refused: {recorded} was not recorded on this machine (no signature ")
    assert "Give --trust if you trust where the run came from" in line
    assert made is None and not (agent / "STARTED").exists() and result.stdout == ""


@pytest.mark.parametrize(
    "options, expected",
    [
        (("--until", "0", "--upstream", "mock"), "argument --until: expected a request number, 1 or more, got '0'"),
        (("--model", "m"), "--model goes with --until N (a fork): give --until"),
        (("--upstream", "mock"), "--upstream goes with --until N (a fork): give --until"),
        (("--verify", "true"), "--verify goes with --until N (a fork): give --until"),
        (("--until", "2"), "--until N: give --upstream mock, or the URL of the model API the fork goes on with"),
        (("--until", "2", "--upstream", "https://user:pw@api.example"), "--upstream https://[REDACTED"),
        (("--until", "2", "--upstream", "mock", "--verify-timeout", "5"), "--verify-timeout goes with --verify CMD"),
    ],
)
def test_options_that_make_no_fork_are_one_line(options, expected):
    with pytest.raises(ProbeError) as refused:
        parse_args(["--run", "latest", *options])
    assert str(refused.value).startswith(expected) and "\n" not in str(refused.value)


@FRESH_RUNS
@pytest.mark.e2e
def test_a_fork_point_past_the_recording_is_one_line_before_anything_starts(fresh_runs, tmp_path):
    recorded = copied(fresh_runs[1], tmp_path)
    result, made = fork(recorded, sys.executable, "--until", "4", "--upstream", "mock")
    assert result.returncode == 2 and made is None, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == ["error: --until 4: the recording's requests end at 3"]


@FRESH_RUNS
@pytest.mark.slow
@pytest.mark.e2e
def test_an_agent_that_diverges_before_the_fork_point_stops_as_a_replay_does_and_never_goes_live(
    fresh_runs, codex_program, tmp_path
):
    """The recorded tool output is edited, so codex's third request (the fork point) matches nothing recorded; the
    second request holds a mask where a replay does not look (its prompt cache key), which the fork says."""
    recorded = copied(fresh_runs[1], tmp_path)
    lines = exchanges(recorded)
    lines[1]["request"]["body"]["prompt_cache_key"] = "[REDACTED sha256:0123abcd]"
    traffic = "".join(json.dumps(line) + "\n" for line in lines)
    assert traffic.count("Sleep completed.") == 1
    (recorded / "traffic.jsonl").write_text(traffic.replace("Sleep completed.", "Sleep was cut short."))
    result, run = fork(recorded, codex_program, "--until", "3", "--upstream", "mock", "--model", NEW_MODEL, "--trust")
    assert result.returncode == 1, result.stderr[-3000:]
    said = result.stderr.splitlines()
    diverged = "replay: diverged at request 3 (POST /v1/responses, recorded thread main): it matches no recorded "
    assert f"{diverged}request; expected exchange #3 of the recording (the run's manifest.json holds the diff)" in said
    masks = "fork: 1 recorded exchange up to 3 with masked secrets: the context the agent goes on with carries them as "
    assert (
        f"{masks}their masks, never unmasked, so a request that carried a key in its body will not work as it did"
        in said
    )
    assert not any("from here the fork is live" in line for line in said)
    replayed = json.loads((run / "manifest.json").read_text())["replay"]
    assert replayed["status"] == "diverged at request 3" and replayed["forked_at_request"] is None
    assert "Sleep was cut short." in replayed["diff"] and "Sleep completed." in replayed["diff"]
    # Nothing went to the mock: every request reached the stand-in, none asked for the fork's model.
    after = exchanges(run)
    assert len({upstream_of(line) for line in after}) == 1
    assert NEW_MODEL not in {model for line in after for model, _ in asked(line)}


def thread_of(line: dict) -> str:
    return {name.lower(): value for name, value in line["request"]["headers"]}.get("thread-id", "")


@FRESH_RUNS  # reads the session's subagent_runs: on the worker that makes them
@pytest.mark.slow
@pytest.mark.e2e
def test_a_fork_of_codex_over_websockets_at_its_childs_first_request_carries_on_every_thread(
    subagent_runs, codex_program, tmp_path
):
    """codex's main agent, child and grandchild each talk over a WebSocket of their own; forked at the child's
    first request, a socket opened before the fork point is closed at its next message, and each agent opens a
    new one, to the mock, asking for the new model."""
    [recorded_run] = [run for run in subagent_runs[1] if run.parent.name == "codex"]
    recorded = copied(recorded_run, tmp_path)
    before = exchanges(recorded)
    assert before[2]["request"]["headers"] and thread_of(before[2]) != thread_of(before[0])  # the child's first
    result, run = fork(recorded, codex_program, "--until", "3", "--upstream", "mock", "--model", NEW_MODEL)
    assert result.returncode == 0, result.stderr[-3000:]
    after = exchanges(run)
    stand_in = upstream_of(after[0])
    served, live = [line for line in after if upstream_of(line) == stand_in], [
        line for line in after if upstream_of(line) != stand_in
    ]  # fmt: skip
    # Up to the fork point, each recorded request was asked again (in the order the agents' requests ended, which
    # concurrent agents may change).
    assert all(asked(line) in [asked(each) for each in served] for line in before[:3])
    # What reached the stand-in after the fork point found its socket closed, unanswered.
    closed = [line for line in served if line["ended_by"] == "socket-closed"]
    assert closed and all(line["error"].endswith("(close code 1001)") for line in closed)
    # Every agent, main, child and grandchild, went on against the mock with the new model.
    assert len({thread_of(line) for line in live}) == 3 == len({thread_of(line) for line in before})
    assert all({model for model, _ in asked(line)} == {NEW_MODEL} == answered_models(line) for line in live)
    assert all(line["ended_by"] == "terminal-event" for line in live)
    replayed = json.loads((run / "manifest.json").read_text())["replay"]
    assert replayed["status"] == "every request matched up to 3" and replayed["forked_at_request"] is not None


def test_a_checks_output_tail_is_printed_masked_and_inert_as_the_manifest_keeps_it(tmp_path, capsys):
    key = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkLzz"  # made up, in two pieces
    command = f"seq 1 30; printf 'done \\033[2J {key}\\n' >&2; exit 3"
    checked = run_check(command, tmp_path, 30)
    printed = capsys.readouterr().err.splitlines()
    assert checked["exit_code"] == 3 and key not in checked["tail"] and "[REDACTED sha256:" in checked["tail"]
    ending = printed[printed.index("fork: verify: exit code 3, ending:") + 1 :]
    # The kept tail's 20 lines, each on the console, escape sequences shown escaped and the key masked.
    assert ending == [f"fork: verify: | {line}" for line in checked["tail"].replace("\x1b", "\\x1b").splitlines()]
    assert len(ending) == 20 and ending[0] == "fork: verify: | 12" and "\x1b" not in "".join(printed[1:])
    assert ending[-1].startswith("fork: verify: | done \\x1b[2J [REDACTED sha256:")
