"""A replay carries the recording's own account: the recorded run's telemetry.jsonl and transcript.jsonl, copied into
the replay's recorded-account/ masked again, lines that are no JSON object dropped and counted, nothing the
recording links to opened, and the replay's manifest says so beside its own account."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from test_replay import replay

from probe.capture import agents
from probe.replay.run import recorded_version
from probe.runs.recorded_account import carry
from probe.runs.targets import load_target

SECRET = "ghp_" + "A1b2C3d4" * 4 + "Zz99"  # as an agent would log a token it saw in a tool's output
SAMPLE = PROJECT_ROOT / "data" / "codex" / "20261125-123532-sample-http"
TELEMETRY = [
    {"signal": "logs", "service": "codex_exec", "name": "codex.user_prompt", "time": 1795767348.9, "received": 1.0,
     "encoding": "json", "export": 0, "attributes": {"conversation.id": "c-1", "prompt": f"push with {SECRET}"}},
    {"signal": "logs", "service": "codex_exec", "name": "codex.sse_event", "time": 1795767349.1, "received": 1.0,
     "encoding": "json", "export": 0, "attributes": {"conversation.id": "c-1", "input_token_count": 1200}},
]  # fmt: skip
TRANSCRIPT = [
    {"source": "codex", "file": "rollout-1.jsonl", "line": 0, "record": {"type": "session_meta", "id": "c-1"}},
    {"source": "codex", "file": "rollout-1.jsonl", "line": 1,
     "record": {"type": "response_item", "payload": {"output": f"token={SECRET}"}}},
]  # fmt: skip


def with_account(run: Path) -> None:
    """The recorded run given its own account, planted with a secret and with lines no reader could take."""
    telemetry = "\n".join(json.dumps(each) for each in TELEMETRY) + "\n[1, 2]\nnot json\n\n"
    (run / "telemetry.jsonl").write_text(telemetry)
    (run / "transcript.jsonl").write_text("".join(json.dumps(each) + "\n" for each in TRANSCRIPT))


def carried_lines(run: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (run / "recorded-account" / name).read_text().splitlines()]


def masked(value):
    return json.loads(json.dumps(value).replace(SECRET, "MASKED"))


def without_fingerprints(lines: list[dict]) -> list[dict]:
    return json.loads(re.sub(r"\[REDACTED sha256:[0-9a-f]+\]", "MASKED", json.dumps(lines)))


def test_the_account_is_copied_masked_and_what_is_no_record_is_counted(tmp_path):
    recorded, run = tmp_path / "codex" / "recorded", tmp_path / "codex" / "replay"
    recorded.mkdir(parents=True), run.mkdir()
    assert carry(recorded, run) is None and not (run / "recorded-account").exists()  # nothing kept, nothing made
    with_account(recorded)
    summary = carry(recorded, run)
    assert summary == {"from": "codex/recorded", "folder": "recorded-account", "telemetry": 2, "transcript": 2,
                       "dropped": 2}  # fmt: skip
    assert without_fingerprints(carried_lines(run, "telemetry.jsonl")) == masked(TELEMETRY)
    assert without_fingerprints(carried_lines(run, "transcript.jsonl")) == masked(TRANSCRIPT)
    assert SECRET not in (run / "recorded-account" / "telemetry.jsonl").read_text()
    # A recording whose transcript is a link to a file elsewhere: the link is not followed.
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text(json.dumps({"record": "not the run's"}) + "\n")
    (recorded / "transcript.jsonl").unlink()
    os.symlink(elsewhere, recorded / "transcript.jsonl")
    again = tmp_path / "codex" / "again"
    again.mkdir()
    assert carry(recorded, again)["transcript"] is None
    assert not (again / "recorded-account" / "transcript.jsonl").exists()


@pytest.mark.slow
@pytest.mark.e2e  # it starts the real codex
def test_a_replay_carries_the_recordings_account_beside_its_own(tmp_path):
    """A bundled codex sample, given an account, replayed through its real agent against the stand-in."""
    copy = tmp_path / "data" / "codex" / SAMPLE.name
    shutil.copytree(SAMPLE, copy)
    with_account(copy)
    # The version it was recorded with (the pin of its day), which the replay runs.
    program = agents.ensure_installed(
        load_target("codex"), recorded_version(json.loads((SAMPLE / "manifest.json").read_text()))
    )
    result, run = replay(copy, str(program), "--fast", "--trust")
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["replay"]["status"] == "every request matched"
    assert manifest["account"]["recorded"] == {"from": f"codex/{SAMPLE.name}", "folder": "recorded-account",
                                               "telemetry": 2, "transcript": 2, "dropped": 2}  # fmt: skip
    assert without_fingerprints(carried_lines(run, "transcript.jsonl")) == masked(TRANSCRIPT)
    names = [line["name"] for line in carried_lines(run, "telemetry.jsonl")]
    assert names == ["codex.user_prompt", "codex.sse_event"]
    own = run / "telemetry.jsonl"  # the replay's own account, if it kept one, is its own: never the recording's
    assert not own.exists() or '"c-1"' not in own.read_text()
    assert not any(SECRET.encode() in path.read_bytes() for path in run.rglob("*") if path.is_file())
