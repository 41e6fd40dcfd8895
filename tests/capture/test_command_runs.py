"""A client given with --command runs with the target's private home (its private_env and files) unless --home own,
and takes --prompt where it writes {prompt}, shell-quoted."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, SHARED_CACHE

from probe.capture.options import add_capture_arguments, home_of, parse_capture_arguments
from probe.common import cli

TARGET = """
name: client
description: a client that keeps its state in its home
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  real_api_home: own
  env: {SEEN: "{run}/seen"}
  private_env: {HOME: "{agent_home}", XDG_CONFIG_HOME: "{agent_home}/.config"}
  files:
    .config/client/settings.json: {base: "{proxy.api}/v1"}
"""
# Writes where the client keeps its state, and what it was given.
SCRIPT = 'echo "$HOME" > "$SEEN.home"; cp "$XDG_CONFIG_HOME/client/settings.json" "$SEEN.json" 2>/dev/null; true'


def parsed(*argv):
    parser = cli.ArgumentParser(prog="test")
    add_capture_arguments(parser)
    return parse_capture_arguments(parser, list(argv))


@pytest.mark.parametrize(
    ("argv", "home"),
    [
        (("--command", "c"), "private"),  # against the real API too, whatever the target's real_api_home
        (("--command", "c", "--prompt", "p"), "private"),
        (("--command", "c", "--home", "own"), "own"),
        (("--prompt", "p"), "own"),  # the target's agent, as before
    ],
)
def test_a_command_gets_the_private_home_unless_told_otherwise(argv, home):
    assert home_of(parsed("--target", "t", *argv), real_api_home="own") == home


def capture(tmp_path, *options, environ=None):
    target = tmp_path / "client.yaml"
    target.write_text(TARGET)
    return subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), *options],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, **SHARED_CACHE, **(environ or {})},
    )  # fmt: skip


def test_a_command_against_the_real_api_keeps_its_state_in_the_private_home(tmp_path, private_data_dir):
    own = tmp_path / "own"
    own.mkdir()
    result = capture(tmp_path, "--command", SCRIPT, environ={"HOME": str(own)})
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "client").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["session"], manifest["home"], manifest["prompt"]) == ("command", "private", None)
    home = (run / "seen.home").read_text().strip()
    assert os.path.basename(home).startswith("agent-probe-home-") and not os.path.exists(home)  # removed after
    assert json.loads((run / "seen.json").read_text()) == {"base": manifest["proxies"][0]["url"] + "/v1"}
    # Nothing of the client's in the user's home (agent-probe keeps its own cache and state there, .cache and .local).
    assert ".config" not in os.listdir(own)


def test_with_home_own_the_command_runs_in_the_users_home(tmp_path, private_data_dir):
    own = tmp_path / "own"
    own.mkdir()
    result = capture(tmp_path, "--command", SCRIPT, "--home", "own", environ={"HOME": str(own)})
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "client").iterdir()
    assert json.loads((run / "manifest.json").read_text())["home"] == "own"
    assert (run / "seen.home").read_text().strip() == str(own) and not (run / "seen.json").exists()


def test_the_prompt_is_one_shell_word_of_the_command(tmp_path, private_data_dir):
    prompt = """it's "$HOME"; echo pwned > "$SEEN.pwned" `id` \\ done"""
    command = 'printf "%s|" {prompt} > "$SEEN.args"'
    result = capture(tmp_path, "--command", command, "--prompt", prompt, "--upstream", "mock")
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "client").iterdir()
    assert (run / "seen.args").read_text() == prompt + "|"
    assert not (run / "seen.pwned").exists()
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["session"], manifest["prompt"]) == ("command", prompt)


def test_a_prompt_for_a_command_that_names_no_prompt_is_one_line(tmp_path, private_data_dir):
    result = capture(tmp_path, "--command", "true", "--prompt", "hi", "--upstream", "mock")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: --prompt goes to --command where the command writes {prompt}: it names none"
    assert not private_data_dir.exists()
