"""What keeps a run against a stand-in model (the mock, a replay) on this machine, whatever the home and login: the
agent is pointed at nothing but the run's own proxies, and a home the run cannot point there is refused, in one
line, before anything starts."""

import re
import urllib.parse

from probe.capture.upstreams import is_local
from probe.common.errors import UsageError
from probe.runs.placeholders import PLACEHOLDER, fill_placeholders, variables_named

URL = re.compile(r"\b(?:https?|wss?)://[^\s\"'<>]+", re.IGNORECASE)


def routes_to_a_proxy(text: str) -> bool:
    """Whether a target's value names one of the run's proxies (`{proxy.NAME}`): a route, which a stand-in model
    needs in every home, not a stand-in credential, which only a private home gets."""
    return any(match.group(1).startswith("proxy.") for match in PLACEHOLDER.finditer(text))


def remote_urls(text: str) -> list[str]:
    """The URLs in `text` whose host is not this machine's loopback."""
    return [url for url in URL.findall(text) if not is_local(url)]


def check_mock_only(target, template: str | None, home: str, agent_env: dict[str, str], environ) -> None:
    """Against a stand-in model, refuse a run whose agent the target would point at a host other than the run's own
    proxies (a variable or an argument naming a remote URL), or whose login the user's own home cannot be pointed at
    the proxies in: its base URL lives only in a private home's files, so with `--home own` the agent would go where
    the user's own settings say, with the user's login. `agent_env` is the target's variables for the run (the run's
    own places, `{proxy.NAME}` and the like, not yet filled in), `environ` the user's environment."""
    every = dict(environ) | agent_env
    texts = [(f"its variable {name}", value) for name, value in agent_env.items()]
    if template is not None:
        for text in getattr(target, template)[1:]:
            values = {f"env.{name}": every.get(name, "") for name in variables_named(text)}
            texts.append((f"its argument {text!r}", fill_placeholders(text, values)))
    for where, text in texts:
        for url in remote_urls(text):
            host = urllib.parse.urlsplit(url).hostname
            raise UsageError(
                f"{target.name}: {where} would send the agent to {host}, not to the stand-in model: a run against the"
                " mock or a replay reaches nothing but this machine"
            )
    if home != "own" or template is None:
        return
    login = target.login
    wanted = login.proxies if login is not None and login.proxies else tuple(proxy.name for proxy in target.proxies)
    kept = [*target.env.values(), *getattr(target, template), *filter(routes_to_a_proxy, target.mock_env.values())]
    named = {match.group(1).removeprefix("proxy.") for text in kept for match in PLACEHOLDER.finditer(text)}
    missing = [name for name in wanted if name not in named]
    if missing:
        which = f" with its login {login.name}" if login is not None else ""
        raise UsageError(
            f"--home own: {target.name}{which} is pointed at its proxy {missing[0]} only by the files of a private"
            " home, so with your own home it would reach the host your settings name, with your login, instead of"
            " the stand-in model: give --home private"
        )
