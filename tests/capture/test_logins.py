"""A target lists the logins its agent can use (agent.logins); `--login NAME` lays one over the agent's own settings,
and `{env.NAME}` takes a value from the environment into the agent's command, variables and files."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, SHARED_CACHE

from probe.common.errors import TargetError, UsageError
from probe.redact.masking import fingerprint
from probe.runs.logins import choose_login
from probe.runs.targets import describe, parse_target

TARGET = """
name: signed
description: an agent with two logins
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
  - {name: portal, listen: 0, upstream: "https://portal.example.com/"}
agent:
  command: [sh, -c, 'echo "$*" > "$SEEN.args"; env > "$SEEN.env"; cp -r "$HOME" "$SEEN.home"; $ASK "$1"', sh,
            "{prompt}"]
  env: {SEEN: "{run}/seen", WHO: agent, ASK: "python3 -m ask"}
  private_env: {HOME: "{agent_home}"}
  mock_env: {THE_REGION: stand-in-agent}
  files:
    settings.json: {region: "{env.THE_REGION}", who: agent}
  logins:
    api-key:
      description: a key of your own
      needs: THE_REGION set
      proxies: [api]
    portal:
      description: a sign-in at the portal
      needs: a sign-in done before
      proxies: [portal]
      env: {WHO: portal, FROM_USER: "{env.USER_THING}"}
      mock_env:
        {THE_REGION: stand-in-portal, PORTAL_TOKEN: stand-in-portal-token-for-the-mock, PORTAL: "{proxy.portal}"}
      files:
        settings.json: {region: "{env.THE_REGION}", who: portal}
      mock_files:
        creds.json: {region: "{env.THE_REGION}", base: "{proxy.portal}"}
      arguments: [--portal, "{workdir}", "--region={env.THE_REGION}"]
"""


# The model's one turn: the prompt, sent to the first proxy as a Chat Completions request.
ASK = """import json, os, sys, urllib.request
body = json.dumps({"model": "mock-model", "messages": [{"role": "user", "content": sys.argv[1]}]}).encode()
request = urllib.request.Request(os.environ["PROBE_PROXY_URL"] + "/v1/chat/completions", body,
                                 {"content-type": "application/json"})
try:
    print(json.load(urllib.request.urlopen(request, timeout=60))["choices"][0]["message"]["content"])
except OSError as error:  # a test with no model behind the proxies
    print(f"no answer: {error}")
"""


def test_logins_parse_and_the_first_is_the_default():
    target = parse_target(TARGET, "targets/signed.yaml")
    assert [login.name for login in target.logins] == ["api-key", "portal"]
    portal = target.logins[1]
    assert (portal.needs, portal.proxies, portal.arguments) == (
        "a sign-in done before",
        ("portal",),
        ("--portal", "{workdir}", "--region={env.THE_REGION}"),
    )
    assert json.loads(portal.mock_files["creds.json"]) == {"region": "{env.THE_REGION}", "base": "{proxy.portal}"}
    assert target.login is None
    chosen = choose_login(target, None)
    assert chosen.login.name == "api-key" and chosen.command == target.command and chosen.env == target.env


def test_a_login_is_laid_over_the_agent_and_its_arguments_appended():
    target = choose_login(parse_target(TARGET, "targets/signed.yaml"), "portal")
    assert target.login.name == "portal"
    assert target.env == {
        "SEEN": "{run}/seen",
        "WHO": "portal",
        "ASK": "python3 -m ask",
        "FROM_USER": "{env.USER_THING}",
    }
    assert target.private_env == {"HOME": "{agent_home}"}
    assert target.mock_env == {
        "THE_REGION": "stand-in-portal",
        "PORTAL_TOKEN": "stand-in-portal-token-for-the-mock",
        "PORTAL": "{proxy.portal}",
    }
    assert json.loads(target.files["settings.json"])["who"] == "portal"
    assert list(target.mock_files) == ["creds.json"]
    assert target.command[-4:] == ("{prompt}", "--portal", "{workdir}", "--region={env.THE_REGION}")
    assert choose_login(target, "portal") is target


def test_an_unknown_login_is_one_line_listing_the_logins():
    target = parse_target(TARGET, "targets/signed.yaml")
    with pytest.raises(UsageError, match=r"^--login nope: signed has no such login \(its logins: api-key, portal\)$"):
        choose_login(target, "nope")
    plain = parse_target(TARGET.split("  logins:")[0], "targets/signed.yaml")
    with pytest.raises(TargetError, match=r"agent.logins: expected a mapping from login name to its description"):
        parse_target(TARGET.split("  logins:")[0] + "  logins: {}\n", "targets/signed.yaml")
    assert choose_login(plain, None) is plain
    with pytest.raises(UsageError, match=r"^--login portal: signed lists no logins \(agent.logins in its target"):
        choose_login(plain, "portal")


PORTAL = "proxies: [portal]"  # the portal login's last line: a case's seen_as goes after it
SEEN = PORTAL + "\n      seen_as: "


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("proxies: [portal]", "proxies: [other]"), "agent.logins.portal.proxies: 'other' names no proxy"),
        (("    portal:\n", "    Portal!:\n"), "agent.logins.Portal!: expected a login name of lowercase"),
        (("needs: a sign-in done before", "needs: [a]"), "agent.logins.portal.needs: expected a string"),
        (("needs: a sign-in done before", "colour: red"), "agent.logins.portal.colour: unknown key"),
        (("        creds.json:", "        ../c.json:"), "agent.logins.portal.mock_files.../c.json: expected a"),
        (('e: "{proxy.portal}"', 'e: "{proxy.x}"'), "agent.logins.portal.mock_files.creds.json: {proxy.x} names"),
        (("[--portal,", '["{proxy.x}",'), "agent.logins.portal.arguments[0]: {proxy.x} names no proxy"),
        (("FROM_USER:", "FROM-USER:"), "agent.logins.portal.env: 'FROM-USER': expected a variable name"),
        ((PORTAL, f"{SEEN}[]"), "agent.logins.portal.seen_as: expected a list of the ways the login shows"),
        ((PORTAL, f"{SEEN}[{{proxy: portal}}]"), "agent.logins.portal.seen_as[0]: expected header or query"),
        ((PORTAL, f"{SEEN}[{{header: a, query: b}}]"), "agent.logins.portal.seen_as[0]: expected header or query"),
        ((PORTAL, f"{SEEN}[{{header: a, proxy: x}}]"), "agent.logins.portal.seen_as[0].proxy: 'x' names no proxy"),
        ((PORTAL, f"{SEEN}[{{header: a, with: [b]}}]"), "agent.logins.portal.seen_as[0].with: expected a string map"),
    ],
)
def test_bad_logins_are_rejected_with_their_place(change, message):
    with pytest.raises(TargetError) as error:
        parse_target(TARGET.replace(*change), "targets/signed.yaml")
    assert str(error.value).startswith("targets/signed.yaml: ") and message in str(error.value)


def test_targets_lists_each_login_with_its_needs_and_proxies():
    lines = describe(parse_target(TARGET, "targets/signed.yaml"))
    logins = lines.index("  login api-key (the default): a key of your own")
    assert lines[logins : logins + 6] == [
        "  login api-key (the default): a key of your own",
        "    needs: THE_REGION set",
        "    proxies: api",
        "  login portal: a sign-in at the portal",
        "    needs: a sign-in done before",
        "    proxies: portal",
    ]
    # What the target holds follows its logins, and names both.
    assert lines[logins + 6] == "  holds: logins api-key, portal; other hosts (--all-hosts); replay"


def capture(tmp_path, *options, environ=None):
    target = tmp_path / "signed.yaml"
    target.write_text(TARGET)
    (tmp_path / "ask.py").write_text(ASK)
    env = {**os.environ, **SHARED_CACHE, "USER_THING": "from the user", "PYTHONPATH": str(tmp_path), **(environ or {})}
    return subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--prompt", "hello", *options],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def seen(run, name):
    return (run / f"seen.{name}").read_text()


def seen_env(run) -> dict[str, str]:
    return dict(line.split("=", 1) for line in seen(run, "env").splitlines() if "=" in line)


def test_the_chosen_login_runs_with_its_variables_files_and_arguments_against_the_mock(tmp_path, private_data_dir):
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = capture(tmp_path, "--upstream", "mock", "--login", "portal", "--workdir", str(workdir))
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "signed").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["login"] == "portal"
    # Every proxy of the target runs, whichever login is chosen.
    assert [proxy["name"] for proxy in manifest["proxies"]] == ["api", "portal"]
    portal_url = manifest["proxies"][1]["url"]
    token = fingerprint("stand-in-portal-token-for-the-mock")
    assert seen(run, "args") == f"hello --portal {workdir} --region=stand-in-portal\n"
    env = seen_env(run)
    assert (env["WHO"], env["FROM_USER"], env["THE_REGION"]) == ("portal", "from the user", "stand-in-portal")
    # {env.NAME} in a file is the agent's environment: the login's stand-in value, over the agent's.
    assert json.loads(seen(run, "home/settings.json")) == {"region": "stand-in-portal", "who": "portal"}
    assert json.loads(seen(run, "home/creds.json")) == {"region": "stand-in-portal", "base": portal_url}
    # The stand-in key reaches the agent through its environment, fingerprinted in the manifest.
    assert manifest["agent"]["argv"][-4:] == ["hello", "--portal", str(workdir), "--region=stand-in-portal"]
    assert manifest["agent"]["env"]["PORTAL_TOKEN"] == token
    assert "stand-in-portal-token-for-the-mock" not in (run / "manifest.json").read_text()


def test_the_first_login_is_the_default_and_mock_files_need_the_mock(tmp_path, private_data_dir):
    # A local upstream that is not the mock: mock_env fills only what is unset, and no mock file is written.
    result = capture(tmp_path, "--upstream", "http://127.0.0.1:9", environ={"THE_REGION": "users-own"})
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "signed").iterdir()
    assert json.loads((run / "manifest.json").read_text())["login"] == "api-key"
    assert seen(run, "args") == "hello\n"
    assert seen_env(run)["WHO"] == "agent" and "FROM_USER" not in seen_env(run)
    assert json.loads(seen(run, "home/settings.json")) == {"region": "users-own", "who": "agent"}
    # The private home holds its XDG folders and the target's file.
    assert sorted(os.listdir(run / "seen.home")) == [".cache", ".config", ".local", ".runtime", "settings.json"]


def test_own_home_drops_the_logins_files_and_stand_ins(tmp_path, private_data_dir):
    own = tmp_path / "own-home"
    own.mkdir()
    (own / "mine.txt").write_text("the user's")
    # With the user's own home, the user's own token: the login's stand-in is not set.
    environ = {"HOME": str(own), "THE_REGION": "users-own", "PORTAL_TOKEN": "users-own-token"}
    result = capture(tmp_path, "--upstream", "mock", "--login", "portal", "--home", "own", environ=environ)
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "signed").iterdir()
    assert json.loads((run / "manifest.json").read_text())["login"] == "portal"
    env = seen_env(run)
    assert (env["HOME"], env["WHO"], env["THE_REGION"]) == (str(own), "portal", "users-own")
    # The mock's route is set in the user's own home too; its stand-in token is not.
    assert env["PORTAL"] == json.loads((run / "manifest.json").read_text())["proxies"][1]["url"]
    # Nothing of the target's is written into the user's home (what else runs here may keep a .cache in it).
    assert {"settings.json", "creds.json"}.isdisjoint(os.listdir(run / "seen.home"))
    assert "mine.txt" in os.listdir(run / "seen.home") and {"settings.json", "creds.json"}.isdisjoint(os.listdir(own))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--login", "portal"],
            "error: target signed: agent.logins.portal.env.FROM_USER: {env.USER_THING}: USER_THING is not set in "
            "your environment",
        ),
        (
            [],
            "error: target signed: agent.files.settings.json: {env.THE_REGION}: THE_REGION is not set in the "
            "agent's environment (yours, with the target's variables)",
        ),
        (["--login", "nope"], "error: --login nope: signed has no such login (its logins: api-key, portal)"),
    ],
)
def test_an_unset_variable_or_unknown_login_is_one_line_before_anything_starts(
    tmp_path, private_data_dir, options, message
):
    environ = {key: value for key, value in os.environ.items() if key not in ("USER_THING", "THE_REGION")}
    target = tmp_path / "signed.yaml"
    target.write_text(TARGET)
    result = subprocess.run(
        # The real API's upstreams: no stand-in value fills what the user did not set. Nothing starts.
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--prompt", "hi", *options],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=environ,
    )  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == message
    assert not private_data_dir.exists() or not any(private_data_dir.rglob("manifest.json"))


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_a_replay_uses_the_recorded_login_unless_told_another(tmp_path, private_data_dir):
    assert capture(tmp_path, "--upstream", "mock", "--login", "portal").returncode == 0
    [recorded] = (private_data_dir / "signed").iterdir()
    for options, login in (([], "portal"), (["--login", "api-key"], "api-key")):
        result = subprocess.run(
            [sys.executable, "-m", "probe.replay.run", "--run", str(recorded),
             "--target", str(tmp_path / "signed.yaml"), "--label", f"as-{login}", *options],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "USER_THING": "from the user", "PYTHONPATH": str(tmp_path)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        [replayed] = (private_data_dir / "signed").glob(f"*-as-{login}")
        manifest = json.loads((replayed / "manifest.json").read_text())
        assert manifest["login"] == login and manifest["replay"]["status"] == "every request matched"
        assert seen(replayed, "args").startswith("hello --portal " if login == "portal" else "hello\n")
