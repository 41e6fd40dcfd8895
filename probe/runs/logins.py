"""A target's logins (`agent.logins`): the ways its agent can sign in, and the one a run uses laid over the agent."""

import dataclasses
import re
from dataclasses import dataclass, field

from probe.common.errors import UsageError
from probe.runs.login_marks import Mark, parse_marks
from probe.runs.login_needs import Requirement, parse_requires

LOGIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LOGIN_KEYS = {
    "description": ("string", True),
    "needs": ("string", False),  # what the login needs of the user: a key, a subscription, a sign-in done before
    "proxies": ("list of strings", False),  # the target's proxies this login's traffic goes through
    "env": ("string mapping", False),
    "private_env": ("string mapping", False),
    "mock_env": ("string mapping", False),
    "quiet_env": ("string mapping", False),
    "all_hosts_env": ("string mapping", False),
    "files": ("mapping", False),
    "mock_files": ("mapping", False),
    "arguments": ("list of strings", False),  # appended to agent.command and agent.interactive
    "requires": ("list", False),  # probe.runs.login_needs: checked before anything starts
    "seen_as": ("list", False),  # probe.runs.login_marks: how a request shows it was made with this login
}
# The mappings a login lays over the agent's own, key by key (the login's value wins).
LAYERED = ("env", "private_env", "mock_env", "quiet_env", "all_hosts_env", "files", "mock_files")


@dataclass(frozen=True)
class Login:
    name: str
    description: str
    needs: str = ""
    proxies: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    private_env: dict[str, str] = field(default_factory=dict)
    mock_env: dict[str, str] = field(default_factory=dict)
    quiet_env: dict[str, str] = field(default_factory=dict)
    all_hosts_env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    mock_files: dict[str, str] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()  # in place of the agent's own
    seen_as: tuple[Mark, ...] = ()  # none: the report cannot tell this login in a request

    def where(self) -> str:
        """Its place in the target file, for errors: `agent.logins.chatgpt`."""
        return f"agent.logins.{self.name}"


def parse_logins(declared: object, proxy_names: list[str], check, agent_files) -> tuple[Login, ...]:
    """`agent.logins`: login name -> what it needs and sets; the first one listed is the default. `check` and
    `agent_files` are the target file's checks (probe.runs.target_checks), handed in by its reader, which keeps
    this module as shallow in the imports as the checks."""
    if not isinstance(declared, dict) or not declared:
        raise check.fail("agent.logins", "expected a mapping from login name to its description (at least one)")
    logins = []
    for name, entry in declared.items():
        where = f"agent.logins.{name}"
        if not isinstance(name, str) or not LOGIN_NAME.match(name):
            raise check.fail(where, "expected a login name of lowercase letters, digits, - or _")
        spec = check.mapping(entry, LOGIN_KEYS, where)
        marks = parse_marks(spec["seen_as"], proxy_names, check, f"{where}.seen_as") if "seen_as" in spec else ()
        for proxy in spec.get("proxies", []):
            if proxy not in proxy_names:
                raise check.fail(f"{where}.proxies", f"{proxy!r} names no proxy of this target")
        logins.append(
            Login(
                name=name,
                description=spec["description"],
                needs=spec.get("needs", ""),
                proxies=tuple(spec.get("proxies", [])),
                env=dict(spec.get("env", {})),
                private_env=dict(spec.get("private_env", {})),
                mock_env=dict(spec.get("mock_env", {})),
                quiet_env=dict(spec.get("quiet_env", {})),
                all_hosts_env=dict(spec.get("all_hosts_env", {})),
                files=agent_files(spec.get("files", {}), check, f"{where}.files"),
                mock_files=agent_files(spec.get("mock_files", {}), check, f"{where}.mock_files"),
                arguments=tuple(spec.get("arguments", [])),
                requires=parse_requires(spec["requires"], check, f"{where}.requires") if "requires" in spec else (),
                seen_as=marks,
            )
        )
    return tuple(logins)


def choose_login(target, name: str | None):
    """The target with one of its logins laid over its agent (`name`, else the first listed): each mapping of the
    login over the agent's own, its arguments after the agent's command and interactive session. A target without
    logins is returned as it is; naming a login it does not have is a one-line error listing those it has."""
    if target.login is not None:
        if name is None or name == target.login.name:
            return target  # already chosen
        raise UsageError(f"--login {name}: this run of {target.name} already uses its login {target.login.name}")
    if not target.logins:
        if name is not None:
            raise UsageError(f"--login {name}: {target.name} lists no logins (agent.logins in its target file)")
        return target
    login = target.logins[0] if name is None else next((x for x in target.logins if x.name == name), None)
    if login is None:
        known = ", ".join(login.name for login in target.logins)
        raise UsageError(f"--login {name}: {target.name} has no such login (its logins: {known})")
    layered = {kind: {**getattr(target, kind), **getattr(login, kind)} for kind in LAYERED}
    arguments = login.arguments
    return dataclasses.replace(
        target,
        **layered,
        command=target.command + arguments if target.command else target.command,
        interactive=target.interactive + arguments if target.interactive else target.interactive,
        login=login,
    )


def place_of(target, kind: str, key: str | int) -> str:
    """Where a value of the chosen target came from, for errors: the login's entry when the login set it, else the
    agent's (`kind`: env, files…, or command / interactive with the argument's index)."""
    login = target.login
    if kind in ("command", "interactive"):
        given = len(getattr(target, kind)) - (len(login.arguments) if login else 0)
        if login is not None and key >= given:
            return f"{login.where()}.arguments[{key - given}]"
        return f"agent.{kind}[{key}]"
    if login is not None and key in getattr(login, kind):
        return f"{login.where()}.{kind}.{key}"
    return f"agent.{kind}.{key}"
