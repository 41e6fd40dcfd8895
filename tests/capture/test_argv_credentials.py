"""A credential never goes on the agent's command line, where every user of the machine reads it (`ps`): an
`{env.NAME}` in `agent.command`, `agent.interactive` or a login's `arguments` whose variable's name or value says
credential is refused in one line before anything starts. The bundled targets put none there."""

import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.capture.environment import with_login
from probe.common.errors import TargetError
from probe.runs.targets import known_targets, load_target, parse_target

TARGET = """
name: argv
description: an agent given a value on its command line
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [sh, -c, "true", sh, "{prompt}", "--value={env.GIVEN}"]
  interactive: [sh, "{env.GIVEN}"]
  env: {}
  logins:
    plain:
      description: nothing more on the command line
    flagged:
      description: a login that adds one
      arguments: ["--extra", "{env.EXTRA}"]
"""


def check(monkeypatch, environ, login="plain", template="command", text=TARGET):
    """The checks a run makes before anything starts (with_login reads the variables from os.environ)."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return with_login(parse_target(text, "argv.yaml"), login, True, template, "private", False, False, None)


# (variable, value): credentials by the variable's name, and by the value's shape under a plain name.
CREDENTIALS = [
    ("GIVEN", "sk-proj-Q2w3E4r5T6y7U8i9O0pAsDfGhJkL1234"),  # an OpenAI key's shape
    ("GIVEN", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),  # a GitHub token's shape
    ("GIVEN", "AKIAIOSFODNN7EXAMPLQ"),  # an AWS access key id
    ("MY_API_KEY", "plain-words-but-a-key"),
    ("SERVICE_TOKEN", "0123456789"),
    ("DB_PASSWORD", "correct horse battery"),
]


@pytest.mark.parametrize(("name", "value"), CREDENTIALS)
@pytest.mark.parametrize("template", ["command", "interactive"])
def test_a_credential_in_argv_is_refused_by_name_or_shape(monkeypatch, name, value, template):
    with pytest.raises(TargetError) as refused:
        check(monkeypatch, {name: value}, template=template, text=TARGET.replace("{env.GIVEN}", f"{{env.{name}}}"))
    place = "agent.command[5]" if template == "command" else "agent.interactive[1]"
    assert str(refused.value) == (
        f"target argv: {place}: {{env.{name}}} would put a credential on the agent's command line, which every user "
        "of this machine can read; give it through the agent's environment (agent.env) or a file (agent.files)"
    )
    assert value not in str(refused.value)


def test_a_login_s_argument_is_checked_and_plain_values_pass(monkeypatch):
    # A plain value (a region, a URL, a model's name) goes on the command line as before.
    for plain in ("eu-west-1", "https://gateway.example.com/v1", "gpt-4.1"):
        assert check(monkeypatch, {"GIVEN": plain}).login.name == "plain"
    with pytest.raises(TargetError, match=r"agent\.logins\.flagged\.arguments\[1\]: \{env\.EXTRA\} would put"):
        check(monkeypatch, {"GIVEN": "eu-west-1", "EXTRA": "sk-ant-api03-" + "A1b2C3d4" * 10 + "-AAAAAA"}, "flagged")


def test_the_refusal_is_one_line_exit_2_before_any_run_folder(tmp_path, private_data_dir):
    path = tmp_path / "argv.yaml"
    path.write_text(TARGET.replace("{env.GIVEN}", "{env.THE_TOKEN}"))
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(path), "--prompt", "hi"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "THE_TOKEN": "tok-0123456789abcdef"},
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: target argv: agent.command[5]: {env.THE_TOKEN} would put a credential on the agent's command line, "
        "which every user of this machine can read; give it through the agent's environment (agent.env) or a file "
        "(agent.files)"
    ]
    assert not private_data_dir.exists()


@pytest.mark.parametrize("name", known_targets())
def test_no_bundled_target_puts_a_credential_on_the_command_line(name):
    target = load_target(name)
    for login in [login.name for login in target.logins] or [None]:
        for template in ("command", "interactive"):
            if getattr(target, template):  # against the mock, with every stand-in credential in place
                with_login(target, login, True, template, "private", True, False, "mock")
