"""`agent.install`: the npm package or the PyPI distribution a target's agent is installed from, at its version."""

import re
from dataclasses import dataclass

from probe.common import npm_names, pypi_names

# The name of the program a package installs (node_modules/.bin/, a virtualenv's bin/): a file name, never a path.
BINARY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*", re.ASCII)
INSTALL_KEYS = {
    "npm": ("string", False),
    "pypi": ("string", False),  # exactly one of npm and pypi
    "version": ("string", True),
    "binary": ("string", True),
    "python": ("string", False),  # a PyPI agent's minimum Python, such as "3.12"
    "extras": ("list of strings", False),  # a PyPI agent's extras, installed with it (smolagents[openai])
}
# A minimum Python as written: 3.N.
PYTHON_MINIMUM = re.compile(r"3\.\d{1,2}", re.ASCII)


@dataclass(frozen=True)
class Install:
    npm: str | None  # an npm package, installed into .agents/<package>@<version>/ (program in node_modules/.bin/)
    version: str
    binary: str
    pypi: str | None = None  # or a PyPI distribution, installed into a virtualenv there (program in bin/)
    python: str | None = None  # the oldest Python the PyPI distribution runs on, where it is newer than ours may be
    extras: tuple[str, ...] = ()  # the PyPI distribution's extras its program needs (the SDK of its provider)

    @property
    def package(self) -> str:
        return self.npm or self.pypi

    @property
    def registry(self) -> str:
        return "npm" if self.npm else "pypi"

    def is_plain_version(self, version: str) -> bool:
        """Whether `version` is one this registry's installer may be asked for."""
        return (npm_names if self.npm else pypi_names).is_plain_version(version)


def parse_install(declared: object, check) -> Install:
    """`agent.install`, checked with the target file's `check` (probe.runs.target_checks.Checker): every value goes
    into npm's or pip's command line, or names a folder under .agents/."""
    spec = check.mapping(declared, INSTALL_KEYS, "agent.install")
    if ("npm" in spec) == ("pypi" in spec):
        raise check.fail("agent.install", "expected either npm: PACKAGE or pypi: DISTRIBUTION")
    if "npm" in spec and not npm_names.PACKAGE_NAME.fullmatch(spec["npm"]):
        raise check.fail("agent.install.npm", "expected an npm package name, such as @openai/codex")
    if "pypi" in spec and not pypi_names.DISTRIBUTION_NAME.fullmatch(spec["pypi"]):
        raise check.fail("agent.install.pypi", "expected a PyPI distribution's name, such as aider-chat")
    if "python" in spec and ("pypi" not in spec or not PYTHON_MINIMUM.fullmatch(spec["python"])):
        raise check.fail("agent.install.python", "expected a PyPI agent's minimum Python, such as 3.12")
    extras = tuple(spec.get("extras", ()))
    if extras and ("pypi" not in spec or not all(pypi_names.DISTRIBUTION_NAME.fullmatch(extra) for extra in extras)):
        raise check.fail("agent.install.extras", "expected a PyPI agent's extras' names, such as [openai]")
    install = Install(spec.get("npm"), spec["version"], spec["binary"], spec.get("pypi"), spec.get("python"), extras)
    if not install.is_plain_version(spec["version"]):
        raise check.fail("agent.install.version", "expected a plain version, such as 1.2.3")
    if not BINARY_NAME.fullmatch(spec["binary"]):
        raise check.fail("agent.install.binary", "expected a program's file name, such as codex")
    return install
