"""The agent's environment: the user's own, with what the target sets for the run on top."""

import os

from probe.runs.targets import Target, fill_placeholders


def target_environment(
    target: Target,
    values: dict[str, str],
    mock: bool,
    full_traffic: bool,
    local: bool = False,
    environ=None,
    home: str = "private",
) -> dict[str, str]:
    """The variables the target sets for its agent, placeholders filled: `env`, then `private_env` with a private
    home, then `quiet_env` unless --full-traffic, then `mock_env` with the mock (later groups win). With `local`
    (an upstream on this machine), `mock_env` fills only what neither the target nor `environ` (the user's
    environment) sets: a keyless agent gets the stand-in key instead of retrying until its timeout, and a local
    gateway still gets the user's key. With the user's own home (`home` "own") there is no stand-in key: the
    agent sends the user's own login, as it would to its real API (masked in the capture like any secret)."""
    private = home == "private"
    groups = [target.env] + ([target.private_env] if private else []) + ([] if full_traffic else [target.quiet_env])
    groups += [target.mock_env] if mock and private else []
    found = {key: fill_placeholders(value, values) for group in groups for key, value in group.items()}
    if local and not mock and private:
        given = environ if environ is not None else os.environ
        for key, value in target.mock_env.items():
            if key not in found and key not in given:
                found[key] = fill_placeholders(value, values)
    return found


def agent_environment(target_env: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(target_env)
    # The agent talks to our proxies on loopback: a corporate HTTP_PROXY must not capture that hop.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1,localhost"]))
    env["PROBE_PROXY_URL"] = next(iter(urls.values()))
    for name, url in urls.items():
        env[f"PROBE_PROXY_{name.upper().replace('-', '_')}_URL"] = url
    return env
