"""The hook the run adds to the agent's hook events (probe.capture.hooks.record): one masked line per event, appended
with the file private, and never a word or a failing exit that would change what the agent does, whatever it is
given; and how the run gives it to the agent (probe.capture.hooks.plan): merged into the settings the command gives,
as Claude Code takes only the last --settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from probe.capture.hooks.plan import plan_hooks
from probe.capture.hooks.record import MAX_INPUT
from probe.runs.targets import load_target

KEY = "sk-ant-api03-" + "Q" * 93 + "AA"  # the shape of an Anthropic key
OWN = "plain-value-of-a-secret-variable-1234"  # no shape: masked because the agent's variable says it is secret
EVENT = {
    "session_id": "s-1",
    "hook_event_name": "PreToolUse",
    "tool_name": "Bash",
    "tool_use_id": "toolu_01",
    "cwd": "/work",
    "tool_input": {"command": f"curl -H 'x-api-key: {KEY}' -d {OWN} http://x"},
}


def record(log: Path, given: bytes, *extra: str) -> subprocess.CompletedProcess:
    environ = dict(os.environ, DEPLOY_TOKEN=OWN)
    command = [sys.executable, "-P", "-m", "probe.capture.hooks.record", "--log", str(log), *extra]
    return subprocess.run(command, input=given, capture_output=True, env=environ, timeout=60)


def test_an_event_becomes_one_masked_line_and_the_hook_says_nothing(tmp_path):
    log = tmp_path / "hooks.jsonl"
    given = json.dumps(EVENT).encode()
    for _ in range(2):
        done = record(log, given)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    text = log.read_text()
    assert KEY not in text and OWN not in text and "[REDACTED sha256:" in text
    first, second = map(json.loads, text.splitlines())
    assert first["event"] == "PreToolUse" and first["tool"] == "Bash" and first["tool_use_id"] == "toolu_01"
    assert (first["session"], first["cwd"], first["size"]) == ("s-1", "/work", len(given))
    assert first["input"]["tool_input"]["command"].startswith("curl -H 'x-api-key: [REDACTED sha256:")
    assert 0 <= first["took"] < 30 and first["t"] <= second["t"]
    assert oct(log.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("given", [b"not json " + KEY.encode(), b"[1, 2]", b""])
def test_what_is_no_event_is_kept_as_its_masked_head(tmp_path, given):
    log = tmp_path / "hooks.jsonl"
    done = record(log, given)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    (line,) = map(json.loads, log.read_text().splitlines())
    assert line["not_json"] is True and line["size"] == len(given) and "event" not in line
    assert KEY not in line["head"] and line["head"].startswith(given[:5].decode())


def test_an_event_too_big_is_read_to_its_end_counted_and_cut(tmp_path):
    log = tmp_path / "hooks.jsonl"
    given = json.dumps(EVENT | {"tool_response": "x" * MAX_INPUT}).encode()
    done = record(log, given)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    (line,) = map(json.loads, log.read_text().splitlines())
    assert line["cut"] is True and line["size"] == len(given) and "event" not in line
    # Its first 2,000 characters, the key in them masked.
    assert line["head"].startswith('{"session_id": "s-1"') and line["head"].endswith("x" * 500)
    assert KEY not in line["head"] and "[REDACTED sha256:" in line["head"] and len(line["head"]) < 2000


@pytest.mark.parametrize("extra", [(), ("--other",), ("--cache",)])
def test_a_log_it_cannot_write_or_arguments_it_does_not_know_change_nothing(tmp_path, extra):
    done = record(tmp_path / "missing" / "hooks.jsonl", json.dumps(EVENT).encode(), *extra)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert not (tmp_path / "missing").exists()


TELEMETRY = ["-p", "hi", "--settings", '{"env": {"A": "1"}}', "--max-turns", "8"]


def test_the_hooks_go_into_the_last_settings_the_command_gives_or_after_it(tmp_path):
    planned = plan_hooks(load_target("claude-code"), True, "off", True)
    given = planned.given(TELEMETRY, tmp_path)
    assert given[:3] == TELEMETRY[:3] and given[4:] == TELEMETRY[4:]
    settings = json.loads(given[3])
    assert settings["env"] == {"A": "1"} and "PreToolUse" in settings["hooks"]
    (entry,) = settings["hooks"]["Stop"]
    assert entry["matcher"] == "*"
    (hook,) = entry["hooks"]
    assert hook["type"] == "command"
    log, cache = tmp_path.resolve() / "hooks.jsonl", os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    assert hook["command"] == f"{sys.executable} -P -m probe.capture.hooks.record --log {log} --cache {cache}"
    assert "WorktreeCreate" not in settings["hooks"]  # a hook there would take the place of the agent's own handling
    alone = planned.given(["-p", "hi"], tmp_path / "a b")
    assert alone[:3] == ["-p", "hi", "--settings"]
    quoted = json.loads(alone[3])["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert f"--log '{(tmp_path / 'a b').resolve()}/hooks.jsonl' --cache " in quoted


def test_when_hooks_are_on_and_why_not(capsys):
    claude = load_target("claude-code")
    assert plan_hooks(claude, None, "on", True).state == "on"  # with the agent's telemetry
    assert plan_hooks(claude, None, "off", True).state == "off"
    assert capsys.readouterr().err == ""
    assert plan_hooks(claude, True, "off", True, ("--settings", "{}")).state == "off"
    assert capsys.readouterr().err == (
        "hooks: not recorded in this run: the --settings given after -- takes the place of the run's\n"
    )
    assert plan_hooks(load_target("codex"), True, "on", True).state == "none"
    assert capsys.readouterr().err == "hooks: not recorded in this run: codex's target file declares no agent.hooks\n"
    planned = plan_hooks(claude, False, "on", True)
    assert planned.given(["-p", "hi"], Path("/tmp")) == ["-p", "hi"]
    manifest: dict = {}
    planned.stop(manifest)
    assert manifest["hooks"] == {"recorded": False, "why": planned.why}
