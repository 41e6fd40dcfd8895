"""Every login of every target says what it needs of the user (`requires`), and a run whose login lacks it stops in
one line naming the variable or file to set, exit 2, before any run folder, proxy or agent: the cases come from the
target files, so a new target or login is covered as it is added."""

import os
import re
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.capture.environment import with_login
from probe.common.errors import TargetError, UsageError
from probe.runs.targets import known_targets, load_target, parse_target

HOMES = ("private", "own")


def agent_logins():
    """(target, login or None, its requirements) for every target that runs an agent of its own."""
    found = []
    for name in known_targets():
        target = load_target(name)
        if target.command:
            found += [(target, login.name, login.requires or target.requires) for login in target.logins]
            found += [] if target.logins else [(target, None, target.requires)]
    return found


def checkable():
    """(target, login, home) where every way the login has with that home can be looked for: none is a home alone
    (a login kept where only the agent can read it, such as the system's keychain)."""
    cases = []
    for target, login, requires in agent_logins():
        for home in HOMES:
            ways = [way for way in requires if way.applies(home)]
            if all(way.env or way.file for way in ways):
                cases.append(pytest.param(target.name, login, home, id=f"{target.name}-{login or 'agent'}-{home}"))
    return cases


def test_every_login_of_every_agent_says_what_it_needs():
    for target, login, requires in agent_logins():
        assert requires, f"{target.name} login {login}: no requires"
        # Against the real API's default home at least, a missing credential is found before anything starts.
        assert any(way.env or way.file for way in requires), f"{target.name} login {login}: nothing to look for"


def unset_needs(monkeypatch, tmp_path, requires) -> None:
    """The user's environment without a variable any way names, and an empty home: no file a login reads is there."""
    for way in requires:
        for name in (way.env, *way.with_env, *(variable for variable, _ in way.moved_by)):
            if name:
                monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.mark.parametrize(("name", "login", "home"), checkable())
def test_a_login_with_its_needs_unset_is_refused_in_one_line_naming_them(monkeypatch, tmp_path, name, login, home):
    requires = next(found for t, named, found in agent_logins() if t.name == name and named == login)
    unset_needs(monkeypatch, tmp_path, requires)
    with pytest.raises(UsageError) as refused:
        with_login(load_target(name), login, True, "command", home, False, False, None)
    [line] = str(refused.value).splitlines()
    assert line.startswith(f"{name} --login {login} " if login else f"{name} ")
    # It names every variable and file that would do, for this home and the other; nothing of the target file's.
    for way in requires:
        assert (way.env or way.file or way.how) in line or not way.applies(way.home or home)  # another system's
    assert "agent." not in line and ".yaml" not in line


@pytest.mark.parametrize(
    ("name", "options", "named"),
    [
        ("claude-code", ["--login", "oauth"], "CLAUDE_CODE_OAUTH_TOKEN"),
        ("gemini", ["--login", "google"], "GOOGLE_CLOUD_ACCESS_TOKEN"),
        ("codex", ["--login", "chatgpt", "--home", "private"], "--home own, with ~/.codex/auth.json"),
    ],
)
def test_the_refusal_is_exit_2_before_any_run_folder_proxy_or_agent(tmp_path, name, options, named):
    target = load_target(name)
    requires = next(found for t, login, found in agent_logins() if t.name == name and login == options[1])
    unset = {name for way in requires for name in (way.env, *way.with_env) if name}
    unset |= {variable for way in requires for variable, _ in way.moved_by}
    environ = {key: value for key, value in os.environ.items() if key not in unset}
    environ.update(HOME=str(tmp_path / "home"), PROBE_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", target.name, "--prompt", "hi", *options],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=environ,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {name} --login {options[1]} ") and named in line
    assert not (tmp_path / "data").exists() and not (tmp_path / "home").exists()


def test_a_login_that_is_there_passes_and_the_mock_needs_none(tmp_path, monkeypatch):
    codex = load_target("codex")
    monkeypatch.delenv("CODEX_API_KEY", raising=False)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "nowhere"))
    # Against the mock, the stand-in login is the target's own: nothing of the user's is asked for.
    assert with_login(codex, "chatgpt", True, "command", "private", True, False, "mock").login.name == "chatgpt"
    # With the user's own home, the file codex keeps its login in, where CODEX_HOME moves it to.
    with pytest.raises(UsageError, match=r"~/\.codex/auth\.json or \$CODEX_HOME/auth\.json"):
        with_login(codex, "chatgpt", True, "command", "own", False, False, None)
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "auth.json").write_text("{}")
    assert with_login(codex, "chatgpt", True, "command", "own", False, False, None).login.name == "chatgpt"
    monkeypatch.setenv("CODEX_API_KEY", "sk-users-own-key-0000")
    assert with_login(codex, "api-key", True, "command", "private", False, False, None).login.name == "api-key"


BAD = """
name: bad
description: a login with a bad requires
renderer: probe.apis.generic.report
proxies: [{name: api, listen: 0, upstream: "https://api.example.com/"}]
agent:
  command: [sh]
  logins:
    one:
      description: one
      requires: REQUIRES
"""


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ("[]", "agent.logins.one.requires: expected a list of ways to sign in (env, file, or a home alone)"),
        ("[{env: A, file: b}]", "agent.logins.one.requires[0]: expected env or file, not both"),
        ("[{home: mine}]", "agent.logins.one.requires[0].home: expected own or private"),
        ("[{how: ask}]", "agent.logins.one.requires[0]: expected env, file or home"),
        ("[{envs: A}]", "agent.logins.one.requires[0].envs: unknown key"),
        ("[{with_env: [B], home: own}]", "agent.logins.one.requires[0].with_env: goes with env"),
        ("[{env: A-B}]", "agent.logins.one.requires[0]: 'A-B': expected a variable name"),
        ("[{env: A, moved_by: B}]", "agent.logins.one.requires[0].moved_by: goes with file"),
        (
            "[{file: ~/.a/b.json, moved_by: {B: ~/.c}}]",
            "agent.logins.one.requires[0].moved_by.B: expected ~/.a/b.json or a folder above",
        ),
        (
            "[{file: ~/.a/b.json, moved_by: {B-C: '~'}}]",
            "agent.logins.one.requires[0].moved_by: 'B-C': expected a variable name",
        ),
        (
            "[{file: ~/.a/b.json, moved_by: [B]}]",
            "agent.logins.one.requires[0].moved_by: expected a string or string mapping",
        ),
    ],
)
def test_a_bad_requires_is_refused_with_its_place(requires, message):
    with pytest.raises(TargetError, match=re.escape(f"bad.yaml: {message}")):
        parse_target(BAD.replace("REQUIRES", requires), "bad.yaml")
