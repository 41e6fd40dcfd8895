"""What an agent's login needs of the user (`requires`: a variable, a file), as its target file declares them."""

import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HOMES = ("own", "private")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REQUIREMENT_KEYS = {
    "env": ("string", False),  # a variable that must be set, and not empty, in the agent's environment
    "with_env": ("list of strings", False),  # more variables that must be set with `env` (all of them)
    "file": ("string", False),  # a file that must be there, and not empty; ~/ is the user's home
    # A variable that, when set, names the folder that holds `file` instead; or variable -> the start of `file` it
    # stands for (the file itself, a folder above it, or ~), the first one set winning.
    "moved_by": ("string or string mapping", False),
    "home": ("string", False),  # own or private: the one home this way applies to (default: either)
    "system": ("string", False),  # the one operating system it applies to, as Python names it (linux, darwin)
    "how": ("string", False),  # how the user gets it, for the error
}


@dataclass(frozen=True)
class Requirement:
    """One way to satisfy a login: variables, a file, or, with neither, the home alone (the user's own home holds
    a login that cannot be looked for from outside, such as one kept in the system's keychain, or a key inside a
    settings file, which is not read)."""

    env: str = ""
    with_env: tuple[str, ...] = ()
    file: str = ""
    moved_by: tuple[tuple[str, str], ...] = ()  # (variable, the start of `file` it stands for), in order
    home: str = ""
    system: str = ""
    how: str = ""

    def applies(self, home: str) -> bool:
        return (not self.home or self.home == home) and (not self.system or sys.platform.startswith(self.system))

    def met(self, environ: dict[str, str]) -> bool:
        if self.env:
            return all(environ.get(name) for name in (self.env, *self.with_env))
        if self.file:
            return holds_something(self.path(environ))
        return True

    def path(self, environ: dict[str, str]) -> Path:
        """Where the agent looks for the file with this environment: the first moving variable set decides."""
        for variable, stands_for in self.moved_by:
            if environ.get(variable):
                return Path(environ[variable]) / PurePosixPath(self.file).relative_to(stands_for)
        if self.file.startswith("~/"):
            return Path(environ.get("HOME") or Path.home()) / self.file[2:]
        return Path(self.file)

    def describe(self) -> str:
        if not self.env and not self.file:
            return self.how or "its own login"
        if self.env:
            said = " and ".join((self.env, *self.with_env)) + " set in your environment"
        else:
            said = " or ".join([self.file] + [moved(self.file, *way) for way in self.moved_by])
        return f"{said} ({self.how})" if self.how else said


def moved(file: str, variable: str, stands_for: str) -> str:
    """`$CODEX_HOME/auth.json`: the file where `variable` moves it."""
    rest = PurePosixPath(file).relative_to(stands_for)
    return f"${variable}" if rest == PurePosixPath(".") else f"${variable}/{rest}"


def holds_something(path: Path) -> bool:
    """A regular file (through a symbolic link too, as the agents read it) that is not empty. Only its status is
    asked for: the file is never opened, so nothing of a login is read, and nothing of it is changed."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):  # none there, a dangling link, a folder on the way that is not one, a NUL
        return False
    return stat.S_ISREG(found.st_mode) and found.st_size > 0


def parse_requires(declared: object, check, where: str) -> tuple[Requirement, ...]:
    """`requires`: a list of the ways to satisfy the login, any one of which will do."""
    if not isinstance(declared, list) or not declared:
        raise check.fail(where, "expected a list of ways to sign in (env, file, or a home alone)")
    found = []
    for index, entry in enumerate(declared):
        place = f"{where}[{index}]"
        spec = check.mapping(entry, REQUIREMENT_KEYS, place)
        if spec.get("env") and spec.get("file"):
            raise check.fail(place, "expected env or file, not both (list them as two ways)")
        if spec.get("home", "own") not in HOMES:
            raise check.fail(f"{place}.home", "expected own or private")
        if not spec.get("env") and not spec.get("file") and not spec.get("home"):
            raise check.fail(place, "expected env, file or home")
        if spec.get("with_env") and not spec.get("env"):
            raise check.fail(f"{place}.with_env", "goes with env: the variables needed with it")
        if spec.get("moved_by") and not spec.get("file"):
            raise check.fail(f"{place}.moved_by", "goes with file: the variables that move it")
        for name in [spec.get("env", "")] + spec.get("with_env", []):
            if name and not ENV_NAME.match(name):
                raise check.fail(place, f"{name!r}: expected a variable name (letters, digits, _)")
        moving = parse_moved_by(spec.get("moved_by", {}), spec.get("file", ""), check, f"{place}.moved_by")
        found.append(Requirement(**{**spec, "with_env": tuple(spec.get("with_env", ())), "moved_by": moving}))
    return tuple(found)


def parse_moved_by(declared: str | dict, file: str, check, where: str) -> tuple[tuple[str, str], ...]:
    """`moved_by`: a variable that names the file's folder, or variable -> the start of the file it stands for."""
    if isinstance(declared, str):
        declared = {declared: str(PurePosixPath(file).parent)}
    moving = []
    for variable, stands_for in declared.items():
        if not ENV_NAME.match(variable):
            raise check.fail(where, f"{variable!r}: expected a variable name (letters, digits, _)")
        if not PurePosixPath(file).is_relative_to(stands_for):
            raise check.fail(f"{where}.{variable}", f"expected {file} or a folder above it, such as ~")
        moving.append((variable, stands_for))
    return tuple(moving)
