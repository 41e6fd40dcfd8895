"""Before anything starts, a run against a stand-in model refuses a target that would point its agent at a remote
URL (by a variable or an argument, in either home), and `--home own` for a login only a private home's files point at
its proxy; codex's ChatGPT login gets the mock's route with the user's own home too; the run's refusing listener
answers every request 403."""

import urllib.error
import urllib.request

import pytest

from probe.capture.environment import target_environment, with_login
from probe.capture.refusal import EVERY_PROXY_VARIABLE, refusing_environment
from probe.common.errors import UsageError
from probe.runs.targets import load_target, parse_target

TARGET = """
name: leaky
description: an agent
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [agent, "{prompt}", --base, "{env.BASE}"]
  env: {BASE: "{proxy.api}/v1"}
  logins:
    api-key: {description: a key, proxies: [api]}
    filed:
      description: a login pointed at the proxy only by a file
      env: {BASE: "http://127.0.0.1:9/v1"}
      files: {creds.json: {base: "{proxy.api}"}}
"""


def login(text, name, home, stand_in=True):
    return with_login(parse_target(text, "targets/leaky.yaml"), name, True, "command", home, stand_in, False, None)


def test_a_remote_url_in_a_variable_or_an_argument_is_refused_against_the_mock():
    assert login(TARGET, "api-key", "private").login.name == "api-key"
    for text in (TARGET.replace('"{proxy.api}/v1"', "https://api.example.com/v1"),
                 TARGET.replace('"{env.BASE}"', "https://telemetry.example.com/x")):  # fmt: skip
        for home in ("private", "own"):
            with pytest.raises(UsageError, match=r"^leaky: its (variable BASE|argument .*) would send the agent to"):
                login(text, "api-key", home)
        assert login(text, "api-key", "private", stand_in=False)  # the real API: the target's own business


def test_own_home_is_refused_for_a_login_only_a_private_home_points_at_the_proxy():
    assert login(TARGET, "filed", "private").login.name == "filed"
    with pytest.raises(UsageError, match=r"^--home own: leaky with its login filed is pointed at its proxy api only"):
        login(TARGET, "filed", "own")
    for name in ("pi", "cline", "continue"):
        with pytest.raises(
            UsageError,
            match=rf"^--home own: {name} is pointed at its proxy api only by the files of a private home, .* private$",
        ):
            with_login(load_target(name), None, True, "command", "own", True, False, None)
    with pytest.raises(
        UsageError, match=r"^--home own: qwen-code with its login qwen-oauth is pointed at its proxy portal"
    ):
        with_login(load_target("qwen-code"), "qwen-oauth", True, "interactive", "own", True, False, None)


def test_codex_chatgpt_gets_the_mock_route_in_the_users_own_home_but_no_stand_in_key():
    target = with_login(load_target("codex"), "chatgpt", True, "command", "own", True, False, None)
    values = {"proxy.backend": "http://127.0.0.1:1", "agent_home": "/h", "run": "/r", "prompt": "p"}
    env = target_environment(target, values, True, False, home="own", environ={})
    assert env["PROBE_CHATGPT_BASE_URL"] == "http://127.0.0.1:1/backend-api/"
    assert "CODEX_HOME" not in env and not any(name.startswith("XDG_") for name in env)
    private = target_environment(target, values, True, False, home="private", environ={})
    assert private["CODEX_HOME"] == "/h" and private["XDG_CACHE_HOME"] == "/h/.cache"


def test_the_refusing_listener_answers_every_request_with_403():
    env = refusing_environment(True)
    assert refusing_environment(False) == {}
    assert {env[name] for name in EVERY_PROXY_VARIABLE} == {env["HTTPS_PROXY"]}
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost,::1"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": env["HTTP_PROXY"]}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open("http://telemetry.example.com/v1/events", timeout=10)
    assert refused.value.code == 403
