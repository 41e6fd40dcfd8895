"""The agent's own session file kept beside the wire (transcript.jsonl): Claude Code's and codex's, read from a
private home and from the user's own (a fake HOME that already holds another session of each), in prompt runs
against the mock whose prompt carries a secret. Each run's transcript holds the typed prompt and the mock's answer,
masked to the secret's fingerprint, and the manifest counts its records; with the user's own home only the run's
own session is read (Claude Code's spawns sub-agents, whose files are kept too, and the other session's are not),
and every file that home had hashes the same after the run."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from test_mock_only import XDG, fake_home, hashes
from transcript_checks import assert_subagents_kept, assert_transcript_kept

from probe.capture import agents
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SECRET = "ghp_" + "TranscriptPlanted0123456789abcdefghij"  # a GitHub token's shape, masked wherever it is
PROMPT = f"write a hello world function; my token is {SECRET}"
# Claude Code with the user's own home spawns sub-agents (probe/mock/subagents.py): their files are kept too.
PROMPTS = {("claude-code", "own"): f"spawn a sub-agent to write a hello world function; my token is {SECRET}"}
OTHER = "another-session-the-run-never-reads"
OTHER_ID = "0a0a0a0a-1111-2222-3333-444444444444"
# The user's own home: a login, and another session of the agent's, written (as far as the clock says) during the run.
OWN_HOMES = {
    "claude-code": {
        f".claude/projects/-home-user-elsewhere/{OTHER_ID}.jsonl": json.dumps({"text": OTHER}),
        f".claude/projects/-home-user-elsewhere/{OTHER_ID}/subagents/agent-a0.jsonl": json.dumps({"text": OTHER}),
    },
    "codex": {
        ".codex/auth.json": json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-fake-own"}),
        f".codex/sessions/2026/01/01/rollout-2026-01-01T00-00-00-{OTHER_ID}.jsonl": json.dumps({"text": OTHER}),
    },
}
VARIABLES = {"claude-code": {"ANTHROPIC_API_KEY": "sk-ant-api03-fake-own-key"}, "codex": {}}
ANSWER = {"claude-code": "hello_world", "codex": "hello_world"}  # in the mock's answer (probe/mock)


def pipeline(target: str, home: str, folder: Path) -> tuple[subprocess.CompletedProcess, Path, dict, dict]:
    """A prompt run against the mock with HOME and every XDG folder in a fake user's home: the process, the run
    folder, and the home's file hashes before and after."""
    user_home = fake_home(folder, OWN_HOMES[target] if home == "own" else {})
    future = time.time() + 3600  # the other session looks written during the run: only its id keeps it out
    for name in OWN_HOMES[target] if home == "own" else ():
        os.utime(user_home / name, (future, future))
    before = hashes(user_home)
    program = str(agents.ensure_installed(load_target(target)))
    environ = {name: value for name, value in os.environ.items() if not name.startswith(("XDG_", "ANTHROPIC_"))}
    environ |= {name: str(user_home / place) for name, place in XDG.items()}
    environ |= {"HOME": str(user_home), "PROBE_DATA_DIR": str(folder / "data"), **VARIABLES[target]}
    environ["PATH"] = f"{Path(program).parent}{os.pathsep}{environ['PATH']}"
    ports = [option for each in load_target(target).proxies for option in ("--port", f"{each.name}=0")]
    argv = ["--target", target, "--upstream", "mock", "--home", home, "--workdir", "fresh", *ports]
    argv += ["--mock-transport", "http"] if target == "codex" else []
    prompt = PROMPTS.get((target, home), PROMPT)
    result = subprocess.run([sys.executable, "-m", "probe.pipeline", *argv, "--prompt", prompt, "--timeout", "120"],
                            cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)  # fmt: skip
    [run] = (folder / "data" / target).iterdir()
    return result, run, before, hashes(user_home)


@pytest.fixture(scope="module", params=[("claude-code", "private"), ("claude-code", "own"), ("codex", "private"),
                                        ("codex", "own")], ids="-".join)  # fmt: skip
def transcript_run(request, tmp_path_factory):
    target, home = request.param
    result, run, before, after = pipeline(target, home, tmp_path_factory.mktemp(f"{target}-{home}"))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    return target, home, run, lines, before, after


def test_the_transcript_holds_the_typed_prompt_and_the_answer_masked_and_counted(transcript_run):
    target, home, run, _, _, _ = transcript_run
    prompt = PROMPTS.get((target, home), PROMPT)
    assert_transcript_kept(run, target, prompt.replace(SECRET, fingerprint(SECRET)), ANSWER[target])
    text = (run / "transcript.jsonl").read_text()
    assert SECRET not in text and fingerprint(SECRET) in text


def test_the_users_own_home_gives_only_the_runs_session_and_stays_as_it_was(transcript_run):
    target, home, run, lines, before, after = transcript_run
    assert {name: after.get(name) for name in before} == before  # the agent adds its own; nothing of ours changes
    if (target, home) == ("claude-code", "own"):  # its sub-agents' files, and no other session's
        assert_subagents_kept(run, lines)
    wire_session = {line["record"].get("sessionId") or line["record"].get("payload", {}).get("id") for line in lines}
    assert OTHER_ID not in wire_session
    for path in run.rglob("*"):
        assert not path.is_file() or OTHER.encode() not in path.read_bytes(), path
