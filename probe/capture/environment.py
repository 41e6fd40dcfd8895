"""The agent's environment: the user's own, with what the target sets for the run on top."""

import json
import os

from probe.capture.agent_home import PRIVATE_XDG
from probe.capture.mock_only import check_mock_only, routes_to_a_proxy
from probe.capture.upstreams import is_local
from probe.common.errors import TargetError, UsageError
from probe.redact.secret_names import is_secret_variable
from probe.redact.shapes import mask_text
from probe.runs.login_check import check_requires
from probe.runs.logins import choose_login, place_of
from probe.runs.placeholders import AGENTS, environment_values, variables_named
from probe.runs.targets import Target, fill_placeholders

USERS = "your environment"


def target_environment(
    target: Target,
    values: dict[str, str],
    mock: bool,
    full_traffic: bool,
    local: bool = False,
    environ=None,
    home: str = "private",
) -> dict[str, str]:
    """The variables the target sets for its agent, placeholders filled: `env`, then with a private home the XDG
    folders in it (agent_home.PRIVATE_XDG) and `private_env`, then `quiet_env` unless --full-traffic, then
    `mock_env` with the mock (later groups win). With `local` (an upstream on this machine), `mock_env` fills only
    what neither the target nor `environ` (the user's environment) sets: a keyless agent gets the stand-in key
    instead of retrying until its timeout, and a local gateway still gets the user's key. With the user's own home
    (`home` "own") there is no stand-in key: the agent sends the user's own login, as it would to its real API
    (masked in the capture like any secret); but the mock's routes (`mock_env` values naming a proxy) are set in
    every home, so that the stand-in model is all the agent reaches (probe.capture.mock_only)."""
    private = home == "private"
    given = environ if environ is not None else os.environ
    kinds = ["env"] + (["private_env"] if private else []) + ([] if full_traffic else ["quiet_env"])
    kinds += ["mock_env"] if mock and private else []

    def filled(kind: str, key: str, value: str) -> str:
        # {env.NAME} in a variable is the user's own: the target's variables are what is being worked out.
        where = place_of(target, kind, key)
        return fill_placeholders(value, values | environment_values(value, given, target.name, where, USERS))

    found = {key: fill_placeholders(value, values) for key, value in PRIVATE_XDG.items()} if private else {}
    found |= {key: filled(kind, key, value) for kind in kinds for key, value in getattr(target, kind).items()}
    if mock and not private:
        routes = {key: value for key, value in target.mock_env.items() if routes_to_a_proxy(value)}
        found |= {key: filled("mock_env", key, value) for key, value in routes.items()}
    if local and not mock and private:
        for key, value in target.mock_env.items():
            if key not in found and key not in given:
                found[key] = filled("mock_env", key, value)
    return found


def written_by_target(target: Target, template: str | None, home: str, stand_in: bool) -> list[tuple]:
    """What the agent's `{env.NAME}` placeholders are taken from the agent's environment for: each argument of the
    `template` the run starts (command or interactive; None for a --command), and, with a private home, each file
    (and against the mock each mock file) written into it, as (kind, key, text)."""
    places = [(template, index, text) for index, text in enumerate(getattr(target, template))] if template else []
    kinds = (["files"] + (["mock_files"] if stand_in else [])) if home == "private" else []
    return places + [(kind, name, text) for kind in kinds for name, text in getattr(target, kind).items()]


def agent_values(target: Target, text: str, kind: str, key, agent_env: dict[str, str]) -> dict[str, str]:
    """`env.NAME` -> its value in the agent's environment, for each `{env.NAME}` in one of the target's texts."""
    return environment_values(text, agent_env, target.name, place_of(target, kind, key), AGENTS)


def filled_arguments(target: Target, template: str, values: dict[str, str], agent_env: dict[str, str]) -> list[str]:
    """The arguments after the program of the target's command (or interactive session), placeholders filled."""
    arguments = list(enumerate(getattr(target, template)))[1:]
    return [
        fill_placeholders(text, values | agent_values(target, text, template, i, agent_env)) for i, text in arguments
    ]


def filled_files(target: Target, stand_in: bool, values: dict[str, str], agent_env: dict[str, str]) -> dict[str, str]:
    """The files written into a private home (agent.files, and against the mock agent.mock_files over them), their
    placeholders filled escaped as in a JSON string, which a TOML string reads alike: a folder named with a quote or a
    backslash must not break the settings file it is written into."""
    files = {}
    for kind, name, text in written_by_target(target, None, "private", stand_in):
        filled = values | agent_values(target, text, kind, name, agent_env)
        files[name] = fill_placeholders(text, {key: json.dumps(value)[1:-1] for key, value in filled.items()})
    return files


def check_placeholders(
    target: Target, target_env: dict[str, str], template: str | None, home: str, stand_in: bool, environ=None
) -> None:
    """Every `{env.NAME}` the run will fill is set, and none puts a credential on the agent's command line, else a
    one-line error, before anything starts."""
    given = dict(environ if environ is not None else os.environ) | target_env
    for kind, key, text in written_by_target(target, template, home, stand_in):
        if variables_named(text):
            agent_values(target, text, kind, key, given)
            if kind == template:
                refuse_credentials_in_argv(target, text, kind, key, given)


def refuse_credentials_in_argv(target: Target, text: str, kind: str, key, given: dict[str, str]) -> None:
    """An argument is readable by every user of the machine (`ps`, /proc/PID/cmdline): a value that a secret's
    name or shape says is a credential goes to the agent through its environment or a file, never its argv."""
    for name in variables_named(text):
        value = given[name]
        if is_secret_variable(name, value) or mask_text(value)[1]:
            raise TargetError(
                f"target {target.name}: {place_of(target, kind, key)}: {{env.{name}}} would put a credential on "
                "the agent's command line, which every user of this machine can read; give it through the "
                "agent's environment (agent.env) or a file (agent.files)"
            )


def agent_environment(target_env: dict[str, str], urls: dict[str, str], forward: dict[str, str]) -> dict[str, str]:
    """The user's environment, the target's variables, and with --all-hosts the `forward` channel's (whose NO_PROXY
    holds only the loopback proxies: a host the user's NO_PROXY names would otherwise go unrecorded)."""
    env = dict(os.environ)
    env.update(target_env)
    # The agent talks to our proxies on loopback: a corporate HTTP_PROXY must not capture that hop.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1,localhost"]))
    env.update(forward)
    env["PROBE_PROXY_URL"] = next(iter(urls.values()))
    for name, url in urls.items():
        env[f"PROBE_PROXY_{name.upper().replace('-', '_')}_URL"] = url
    return env


def with_login(
    target: Target,
    login: str | None,
    agent: bool,
    template: str | None,
    home: str,
    stand_in: bool,
    full_traffic: bool,
    upstream: str | None,
) -> Target:
    """The target with the login a run's agent uses laid over it (probe.runs.logins.choose_login), once what the
    login needs (probe.runs.login_needs) and every `{env.NAME}` the run will fill are known to be there: else a
    one-line error, before anything starts."""
    if not agent:
        if login is not None:
            raise UsageError("--login chooses how the target's agent signs in; there is no agent in this run")
        return target
    target = choose_login(target, login)
    # With made-up values for what the run fills in later: only {env.NAME} is checked here.
    made_up = target_environment(target, {}, stand_in, full_traffic, is_local(upstream), home=home)
    # Against the real API only: the mock's stand-ins need none of the user's, and a model on this machine (a local
    # gateway, a stand-in of one's own) may hold the keys itself or ask for none.
    if template is not None and not stand_in and not is_local(upstream):
        check_requires(target, home, made_up)
    check_placeholders(target, made_up, template, home, stand_in)
    if stand_in:
        check_mock_only(target, template, home, made_up, os.environ)
    return target
