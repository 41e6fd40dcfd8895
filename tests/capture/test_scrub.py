"""Secrets an agent copies into its own files in the run folder are fingerprinted when the run ends."""

import json
import os
import subprocess
import sys

from conftest import PROJECT_ROOT

from probe.capture.scrub import scrub_run, secret_values
from probe.redact.secrets import fingerprint

SECRET = "plain-secret-value-0123"  # not token-shaped: found because the environment names it a key


def test_secret_values_come_from_secret_named_variables():
    env = {
        "ANTHROPIC_API_KEY": SECRET,
        "GITHUB_TOKEN": "ghp_abcdefgh",
        "HOME": "/home/someone-long",
        "DISABLE_TELEMETRY_KEY": "1",
    }
    assert secret_values(env) == [SECRET, "ghp_abcdefgh"]


def test_the_password_of_a_url_in_any_variable_is_a_secret_value_when_it_is_long_enough():
    proxy = "http://agent-probe:Xk3j9dLq0PzR7mN2vB5cT8wY1aE4sH6u@127.0.0.1:41234"
    env = {"HTTPS_PROXY": proxy, "ALL_PROXY": "http://user:short@proxy:3128", "HOME": "/h", "BAD": "http://[::1"}
    assert secret_values(env) == ["Xk3j9dLq0PzR7mN2vB5cT8wY1aE4sH6u"]


def test_agent_files_are_scrubbed_and_ours_left_alone(tmp_path):
    run = tmp_path / "run"
    state = run / "agent-state" / "projects"
    state.mkdir(parents=True)
    (run / "traffic.jsonl").write_text("ours, written redacted already\n")
    transcript = state / "session.jsonl"
    transcript.write_text(json.dumps({"key": SECRET, "pasted": "sk-ant-api03-" + "abcdefghijklmnop"}) + "\n")
    os.chmod(transcript, 0o600)
    blob = run / "agent-state" / "cache.bin"
    blob.write_bytes(b"\xff\xfe" + SECRET.encode() + b"\x00")
    untouched = run / "agent-state" / "settings.json"
    untouched.write_text('{"theme": "dark"}')
    assert scrub_run(run, [SECRET]) == 2
    cleaned = json.loads(transcript.read_text())
    assert cleaned == {"key": fingerprint(SECRET), "pasted": fingerprint("sk-ant-api03-" + "abcdefghijklmnop")}
    assert transcript.stat().st_mode & 0o777 == 0o600
    assert blob.read_bytes() == b"\xff\xfe" + fingerprint(SECRET).encode() + b"\x00"
    assert untouched.read_text() == '{"theme": "dark"}'
    assert (run / "traffic.jsonl").read_text() == "ours, written redacted already\n"
    assert sorted(path.name for path in (run / "agent-state").iterdir()) == ["cache.bin", "projects", "settings.json"]


def capture_leaking_command(data_dir, *options):
    leak = 'mkdir -p "$CLAUDE_CONFIG_DIR" && printf %s "$ANTHROPIC_API_KEY" > "$CLAUDE_CONFIG_DIR/key.txt"'
    env = dict(os.environ, ANTHROPIC_API_KEY=SECRET, PROBE_DATA_DIR=str(data_dir))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.record",
            "capture",
            "--target",
            "claude-code",
            "--upstream",
            "http://127.0.0.1:9",
            "--command",
            leak,
            *options,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [run] = (data_dir / "claude-code").iterdir()
    return run


def test_a_key_the_agent_writes_into_its_state_folder_is_fingerprinted(tmp_path):
    run = capture_leaking_command(tmp_path / "data")
    assert (run / "claude-config" / "key.txt").read_text() == fingerprint(SECRET)
    assert json.loads((run / "manifest.json").read_text())["agent_files_scrubbed"] == 1
    for path in run.rglob("*"):
        assert not path.is_file() or SECRET.encode() not in path.read_bytes()


def test_keep_secrets_leaves_the_agent_files_as_written(tmp_path):
    run = capture_leaking_command(tmp_path / "data", "--keep-secrets")
    assert (run / "claude-config" / "key.txt").read_text() == SECRET
