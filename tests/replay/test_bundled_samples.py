"""Every bundled sample is replayed through its real agent, at the version it was recorded with, against the stand-in
serving the sample (no model is called), and the new capture matches the sample: every request matched and none
left unasked, the same conversation sent, the same answers got, the same tool calls and results, and the same
report and diff apart from volatile values."""

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from test_replay import replay

from probe.analyse.prices import prices_from
from probe.analyse.volatile import VOLATILE_HEADERS, Volatile, run_places
from probe.analysis.report import analyze_run
from probe.capture import agents
from probe.read.whole_turns import whole_turns
from probe.replay.run import recorded_version
from probe.runs.targets import load_target
from probe.write.account_section import NO_ACCOUNT
from probe.write.diff import diff_runs

DATA = PROJECT_ROOT / "data"
SAMPLES = sorted(DATA.glob("*/*-sample-*"))
# The agent versions the CI machine installs before the tests (.ci/run), so a replay installs nothing.
CI_INSTALLS = re.search(r'^AGENTS="(.*)"$', (PROJECT_ROOT / ".ci" / "run").read_text(), re.MULTILINE)[1]


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]


def normalised(run: Path):
    """A Volatile that knows the run's own folders (its agent's home, its run folder, where its agent ran)."""
    return Volatile(run_places(run, manifest(run)))


def requests(run: Path) -> list:
    """What the agent sent, in order: each HTTP request's method, path and JSON body, each WebSocket client
    message, with volatile values (ids, folders, dates, durations…) normalised, read from the JSON as stored."""
    volatile = normalised(run)
    sent = []
    for line in lines(run):
        request = line["request"]
        path = volatile.text(request["path"].split("?", 1)[0])
        if line["kind"] == "http":
            sent.append((request["method"], path, volatile.value(request.get("body"))))
        for message in line.get("messages") or []:
            if message["from"] == "client":
                sent.append(("WS", path, volatile.value(message["body"])))
    return [re.sub(r"\d+(\.\d+)? ?(seconds|ms)\b", "<duration>", json.dumps(each, sort_keys=True)) for each in sent]


def answers(run: Path) -> list[str]:
    """What the agent got, byte for byte as stored: status and body of each HTTP response, each server message."""
    got = []
    for line in lines(run):
        response = line.get("response") or {}
        if line["kind"] == "http":
            got.append(json.dumps([response.get("status"), response.get("body_sha256"), response.get("body")]))
        got += [json.dumps([m["sha256"], m["body"]]) for m in line.get("messages") or [] if m["from"] == "server"]
    return got


def tool_calls(run: Path) -> list:
    """The tool calls the model asked for and the results the agent sent back, as turns.jsonl records them."""
    volatile = normalised(run)
    found = []
    for turn in whole_turns(run / "turns.jsonl"):
        for item in turn.get("output") or []:
            found += [
                ("call", part.get("name"), part.get("arguments"))
                for part in item["parts"]
                if part["kind"] == "tool_call"
            ]
        for item in turn.get("input") or []:
            found += [
                ("result", part.get("name"), volatile.text(part.get("text") or ""), part.get("is_error"))
                for part in item["parts"]
                if part["kind"] == "tool_result"
            ]
    return [re.sub(r"\d+(\.\d+)? ?(seconds|ms)\b", "<duration>", json.dumps(each)) for each in found]


def run_target(run: Path) -> str:
    return manifest(run)["target"]


def report_lines(run: Path) -> list[str]:
    """The report's lines, sorted, with volatile values normalised and every number, duration and volatile
    header left out: what the run measured of its own pace and place (sizes of texts that name its folders,
    timings) differs, and an agent may write a JSON object's keys in any order. The numbers the API reported
    are compared exactly, from turns.jsonl (see usage)."""
    volatile = normalised(run)
    kept = []
    timed = False
    for line in (run / "report.md").read_text().splitlines():
        # Where the time went is the run's own pace: which parts it has, their order and the critical path's steps
        # (the time model's exchanges and lanes are checked on fresh runs in tests/e2e/test_e2e_time.py).
        timed = line == "## Time" or (timed and not line.startswith("## "))
        if timed or line.startswith("- Time: "):
            continue
        # How the agent was run: a replay's manifest says it (a prompt, a private home), and the samples were recorded
        # before manifests did.
        if re.search(r"Generated at|Source:", line) or line.startswith("- Agent run: "):
            continue
        # Whether the agent's own account was recorded: a replay's manifest says (off, as the sample had it), and the
        # samples were recorded before manifests did.
        if line.startswith(tuple(NO_ACCOUNT.values())):
            continue
        # codex against the mock now sends its private home's stand-in login, which its samples predate.
        if line.startswith("| authorization | `[REDACTED sha256:") and run_target(run) == "codex":
            continue
        header = re.fullmatch(r"\| ([A-Za-z0-9-]+) \| `.*` \|", line)
        # codex 0.166.0 sends its first backend request with or without its `(codex_exec; …)` User-Agent suffix,
        # as its start-up races (both seen in recordings of the same version against the same mock).
        if header and header[1].lower() in VOLATILE_HEADERS | {"user-agent"}:
            line = f"| {header[1]} | <volatile> |"
        # Whether the agent closed its connection before the last response was written down is a matter of time.
        line = line.replace(" (the connection then ended: `Client disconnected.`)", "")
        line = re.sub(r"`[0-9a-f]{8}`", "<digest>", line)  # of a tool definition, which may name a folder
        line = re.sub(r"\d[\d,.]*(?: ?(?:seconds|ms|s)\b)?", "#", volatile.text(line))
        kept.append(line)
    return sorted(kept)


def usage(run: Path) -> list:
    """What each turn's API reported: its model, stop reason and token counts."""
    turns = list(whole_turns(run / "turns.jsonl"))
    return [json.dumps([turn.get("model"), turn.get("stop_reason"), turn.get("usage")]) for turn in turns]


def first_difference(got: list[str], expected: list[str]) -> str:
    """Where two lists of texts first differ, in a line: which item, and the text around the first change."""
    for index, (one, other) in enumerate(zip(got, expected)):
        if one != other:
            at = next(i for i, (a, b) in enumerate(zip(one + "\0", other + "\0")) if a != b)
            start = max(0, at - 150)
            return f"item {index}: got …{one[start : at + 150]}… expected …{other[start : at + 150]}…"
    return f"{len(got)} items, expected {len(expected)}"


@pytest.fixture(scope="module")
def recorded_agents():
    """Each sample's agent at its recorded version is one CI installs: a replay never installs one."""
    for target, version in {(sample.parent.name, recorded_version(manifest(sample))) for sample in SAMPLES}:
        agents.ensure_installed(load_target(target), version)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"{sample.parent.name}-{sample.name}")
def test_the_sample_replayed_through_its_agent_matches_the_sample(sample, tmp_path, recorded_agents):
    target = sample.parent.name
    recorded = manifest(sample)
    # The version it was recorded with, which a replay runs (a sample made with the pin of its day says so only in
    # the version its agent reported)
    version = recorded_version(recorded)
    assert version and version in recorded["agent"]["version"]
    pinned = load_target(target).install.version
    assert version == pinned or f"{target}@{version}" in CI_INSTALLS.split(), f"{target} {version}: not installed by CI"
    copy = tmp_path / "data" / target / sample.name
    shutil.copytree(sample, copy)
    shutil.copy(DATA / "sample-prices.yaml", tmp_path / "data")
    program = agents.ensure_installed(load_target(target), version)
    # The project's own runs, but not recorded on this machine (and gemini's and Qwen Code's agents run their tools
    # without asking): replayed with --trust, each in a fresh empty folder, where the mock's harmless calls run.
    result, run = replay(copy, str(program), "--fast", "--trust")
    assert result.returncode == 0, result.stderr[-3000:]
    with prices_from(DATA / "sample-prices.yaml"):  # as the samples' reports were made (probe.samples)
        analyze_run(run, load_target(target))
    exchanges = sum(1 if line["kind"] == "http" else sum(m["from"] == "client" for m in line["messages"])
                    for line in lines(sample))  # fmt: skip
    record = manifest(run)["replay"]
    threads = record.pop("threads")  # each agent the sample recorded (none where requests name no thread) served
    assert threads["bound"] == threads["recorded"] and threads["unbound"] == 0
    assert record == {
        "of": f"{target}/{sample.name}", "status": "every request matched", "requests": exchanges, "repeated": 0,
        "not_asked": [], "trust": "trusted (--trust)",
    }  # fmt: skip
    assert manifest(run)["status"] == "complete" and manifest(run)["agent"]["version"] == recorded["agent"]["version"]
    # The same conversation sent and the same answers got. In any order: an agent sends some requests side by side
    # (opencode its title request beside its task), and which finishes first is the machine's; within a thread,
    # the replay served them in the recorded order, or the manifest would say it diverged.
    for read in (requests, answers, usage):
        assert sorted(read(run)) == sorted(read(sample)), first_difference(read(run), read(sample))
    assert answers(sample) and any(json.loads(each)[2] for each in usage(sample))
    assert tool_calls(run) == tool_calls(sample), first_difference(tool_calls(run), tool_calls(sample))
    assert any('"call"' in call for call in tool_calls(sample))
    assert report_lines(run) == report_lines(sample)
    text, _ = diff_runs(sample, run)
    changes = re.search(r"^- Structural changes: (\w+)", text, re.M)[1]
    if changes == "headers":  # only codex 0.166.0's User-Agent race (see report_lines) may show here, and codex's
        # stand-in login, which its samples predate
        section = text.split("## Headers", 1)[1].split("\n## ", 1)[0]
        rows = {row.split("|")[1].strip() for row in section.splitlines() if row.startswith("| `")}
        only = [line for line in section.splitlines() if line.startswith("- Only in")]
        login = ["- Only in B: `authorization`"] if target == "codex" else []
        assert rows <= {"`user-agent`"} and only == login, section
    else:
        assert changes == "none", text[:3000]
