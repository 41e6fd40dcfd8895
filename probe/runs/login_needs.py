"""What an agent's login needs of the user (`requires`: a variable, a file), as its target file declares them."""

from dataclasses import dataclass
from pathlib import Path

HOMES = ("own", "private")
REQUIREMENT_KEYS = {
    "env": ("string", False),  # a variable that must be set, and not empty, in the agent's environment
    "file": ("string", False),  # a file that must exist; ~/ is the user's home
    "moved_by": ("string", False),  # a variable that, when set, names the folder that holds `file` instead
    "home": ("string", False),  # own or private: the one home this way applies to (default: either)
    "how": ("string", False),  # how the user gets it, for the error
}


@dataclass(frozen=True)
class Requirement:
    """One way to satisfy a login: a variable, a file, or, with neither, the home alone (the user's own home holds
    a login that cannot be looked for from outside, such as one kept in the system's keychain)."""

    env: str = ""
    file: str = ""
    moved_by: str = ""
    home: str = ""
    how: str = ""

    def applies(self, home: str) -> bool:
        return not self.home or self.home == home

    def met(self, environ: dict[str, str]) -> bool:
        if self.env:
            return bool(environ.get(self.env))
        if self.file:
            return self.path(environ).is_file()
        return True

    def path(self, environ: dict[str, str]) -> Path:
        if self.moved_by and environ.get(self.moved_by):
            return Path(environ[self.moved_by]) / Path(self.file).name
        if self.file.startswith("~/"):
            return Path(environ.get("HOME") or Path.home()) / self.file[2:]
        return Path(self.file)

    def describe(self) -> str:
        if not self.env and not self.file:
            return self.how or "its own login"
        said = f"{self.env} set in your environment" if self.env else self.file
        said += f" or ${self.moved_by}/{Path(self.file).name}" if self.moved_by else ""
        return f"{said} ({self.how})" if self.how else said


def parse_requires(declared: object, check, where: str) -> tuple[Requirement, ...]:
    """`requires`: a list of the ways to satisfy the login, any one of which will do."""
    if not isinstance(declared, list) or not declared:
        raise check.fail(where, "expected a list of ways to sign in (env, file, or a home alone)")
    found = []
    for index, entry in enumerate(declared):
        spec = check.mapping(entry, REQUIREMENT_KEYS, f"{where}[{index}]")
        if spec.get("env") and spec.get("file"):
            raise check.fail(f"{where}[{index}]", "expected env or file, not both (list them as two ways)")
        if spec.get("home", "own") not in HOMES:
            raise check.fail(f"{where}[{index}].home", "expected own or private")
        if not spec.get("env") and not spec.get("file") and not spec.get("home"):
            raise check.fail(f"{where}[{index}]", "expected env, file or home")
        found.append(Requirement(**spec))
    return tuple(found)
