"""Chooses the agent program a run starts: one on PATH, or an exact version installed from npm or PyPI into
.agents/."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from probe.capture import npm, pypi, refusal
from probe.common import cli, npm_names, pypi_names
from probe.common.errors import TargetError, ToolMissing, UsageError, one_line, run_main
from probe.common.paths import agents_dir, display
from probe.runs.targets import Install, Target, is_target_path, load_target

# How far up from its program an npm package's package.json is looked for (dist/index.js, bin/x.js: two), and
# its largest size read.
PACKAGE_DEPTH = 4
PACKAGE_JSON_MOST = 1_000_000


@dataclass(frozen=True)
class Agent:
    """The program a run starts, what it says of its version, and where it came from."""

    program: str
    version: str | None  # its own `--version` line (led by its npm package's version where that says another)
    package: str | None  # the npm package it was installed from into .agents/; None for one found on PATH
    requested: str | None  # the version asked for with --agent-version
    registry: str = "npm"  # where `package` comes from: npm, or pypi (a distribution, in a virtualenv)

    def describe(self) -> str:
        # The folder is shown resolved but not the program: node_modules/.bin/codex, not the file it links to.
        program = Path(self.program)
        # The version is the first line the program printed: shown inert, like everything it says.
        version = one_line(self.version or "version unknown")
        return f"agent: {version} at {Path(display(program.parent)) / one_line(program.name)}"


def install_folder(install: Install, version: str) -> Path:
    """The npm prefix (or the virtualenv) of one version, `.agents/<package>@<version>/`: versions never overwrite
    each other."""
    return agents_dir() / f"{install.package}@{version}"


def installed_binary(install: Install, version: str) -> Path | None:
    """The program of that version in .agents/, if it is installed there whole."""
    if install.pypi:
        folder = install_folder(install, version)
        binary = folder / "bin" / install.binary
        return binary if pypi.installed(folder, install.pypi, version) and binary.is_file() else None
    folder = install_folder(install, version) / "node_modules"
    try:
        found = json.loads((folder / install.npm / "package.json").read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    binary = folder / ".bin" / install.binary
    return binary if found == version and binary.is_file() else None


def ensure_installed(target: Target, version: str | None = None) -> Path:
    """`version` (default: the pinned one) of the target's agent in .agents/, installed now if it is not there."""
    if target.install is None:
        raise TargetError(f"{target.name} names no npm or PyPI package (agent.install) to install its agent from")
    install = target.install
    version = version or install.version
    if not install.is_plain_version(version):  # npm's and PyPI's plain versions differ (1.2 is only PyPI's)
        raise UsageError(f"argument --agent-version: expected a plain version such as 0.166.0, got {version!r}")
    binary = installed_binary(install, version)
    if binary is not None:
        return binary
    if install.npm and shutil.which("npm") is None:
        where = "" if version != install.version else f" or put {install.binary} on PATH"
        raise ToolMissing(
            f"{install.binary} {version} is not installed and npm was not found: install Node.js >= 20 "
            f"(it brings npm){where}"
        )
    folder = install_folder(install, version)
    if version != install.version:
        why = f"not the pinned {install.version}"
    else:
        why = f"pinned in {display(target.path)}" if target.path else "pinned"
    print(
        f"{install.binary}: installing {install.registry} {install.package}@{version} ({why}) into {display(folder)}",
        file=sys.stderr,
        flush=True,
    )
    if install.pypi:
        # Built in place, under a lock (see probe.capture.pypi), by a new enough Python.
        pypi.install(install.pypi, version, folder, install.python, install.extras)
    else:
        if folder.exists():
            # Installs are renamed into place whole, so this one was damaged by hand: install it afresh.
            shutil.rmtree(folder)
        npm.install(install.npm, version, folder)
    binary = installed_binary(install, version)
    if binary is None:
        raise ToolMissing(f"installing {install.package}@{version} gave no {install.binary} program")
    return binary


def choose(target: Target, requested: str | None = None) -> Agent:
    """The requested version from .agents/ (never what is on PATH); else the program on PATH; else the pinned
    version from .agents/, installed now if it is missing."""
    if requested is not None:
        if target.install is None:
            raise UsageError(
                f"--agent-version: {target.name} names no npm or PyPI package (agent.install) to install "
                "a version of its agent from"
            )
        return started_from(str(ensure_installed(target, requested)), target, requested)
    program = target.command[0]
    found = shutil.which(program)
    if found:
        return Agent(found, version_of(found, target) or version_installed(target, found), None, None)
    if target.install is None:
        raise ToolMissing(
            f"{program} not found on PATH, and {target.name} names no npm or PyPI package to install it from"
        )
    return started_from(str(ensure_installed(target)), target, None)


def started_from(program: str, target: Target, requested: str | None) -> Agent:
    # An agent that says no version of its own (mini and smolagents have no --version) is the one installed.
    said = version_of(program, target) or version_installed(target, program, requested)
    return Agent(program, said, target.install.package, requested, target.install.registry)


def version_of(program: str, target: Target) -> str | None:
    """What the agent says of its version, led by its npm package's own version where it says another: Grok CLI
    0.0.34 says `1.0.1`, a constant of its code, which no replay could install (`0.0.34 (it says 1.0.1)`)."""
    said = agent_version(program)
    package = package_version(program, target.install)
    if package is None or (said is not None and package in versions_said(said)):
        return said
    return f"{package} (it says {said})" if said is not None else package


def package_version(program: str, install: Install | None) -> str | None:
    """The version in the package.json of the target's npm package that `program` (resolved: npm links it from
    node_modules/.bin/) lies in, a few folders up; None where there is none, or it is not plain."""
    if install is None or not install.npm:
        return None
    try:
        place = Path(program).resolve()
        for folder in list(place.parents)[:PACKAGE_DEPTH]:
            manifest = folder / "package.json"
            if manifest.is_file() and manifest.stat().st_size <= PACKAGE_JSON_MOST:
                found = json.loads(manifest.read_text())
                if isinstance(found, dict) and found.get("name") == install.npm:
                    version = found.get("version")
                    return version if isinstance(version, str) and npm_names.is_plain_version(version) else None
    except (OSError, ValueError, RuntimeError):
        return None
    return None


def version_installed(target: Target, program: str, requested: str | None = None) -> str | None:
    """`mini-swe-agent 2.4.6`: what .agents/ says of a program that says nothing of its version itself (mini has no
    --version), when it is that version's program there (a folder installed at exactly that version); else None."""
    install = target.install
    version = requested or (install.version if install else None)
    binary = installed_binary(install, version) if version else None
    # Resolved, both: .agents/ may be reached through a link, and PATH may name it either way.
    if binary is None or binary.resolve() != Path(program).resolve():
        return None
    return f"{install.package} {version}"


def path_warning(target: Target, agent: Agent) -> str | None:
    """Why an agent found on PATH may not be the one the target was written for; None when it says the pinned
    version (or says none at all)."""
    if agent.package is not None or target.install is None or agent.version is None:
        return None
    pinned = target.install.version
    if pinned in versions_said(agent.version):
        return None
    return (
        f"{target.command[0]} on PATH ({display(Path(agent.program))}) says {agent.version!r}, not the pinned "
        f"{pinned}: --agent-version X runs version X, installed into {display(agents_dir())}/"
    )


def versions_said(said: str) -> list[str]:
    """The plain versions in what an agent says of its own version: `codex-cli 0.169.0`, `2.1.330 (Claude Code)`,
    `v1.18.33`, `llm, version 0.36`, `GitHub Copilot CLI 1.0.102.`: the version is one word of what it says (npm's
    x.y.z first, then PyPI's; a sentence's full stop left off)."""
    words = [word.removeprefix("v").rstrip(".") for word in re.split(r"[\s(),]+", said)]
    plain = [word for word in words if npm_names.is_plain_version(word)]
    return plain + [word for word in words if word not in plain and pypi_names.is_plain_version(word)]


def agent_version(program: str) -> str | None:
    """What the agent says of its own version, or None if it won't say.

    It is asked in a throwaway home (HOME, TMPDIR and the XDG folders): some agents set up their state on any start
    (opencode makes $TMPDIR/opencode), and a run touches nothing of the user's outside its own folders. Every proxy
    variable points at the refusing listener: some agents send telemetry even then (Cline to otel.cline.bot), and
    asking a version reaches no host.
    """
    with tempfile.TemporaryDirectory(prefix="agent-probe-version-") as home:
        places = {"HOME": home, "TMPDIR": home}
        places |= {f"XDG_{kind}_HOME": str(Path(home, kind.lower())) for kind in ("CONFIG", "DATA", "CACHE", "STATE")}
        try:
            result = subprocess.run(
                [program, "--version"],
                capture_output=True,
                text=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **places, **refusal.refusing_environment(True)},
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    output = (result.stdout or result.stderr).strip().splitlines()
    return output[0] if result.returncode == 0 and output else None


def target_and_version(spec: str) -> tuple[str, str | None]:
    """`codex` or `codex@0.166.0` (a target file's path is taken whole: it may hold an @)."""
    name, at, version = spec.rpartition("@")
    if not at or is_target_path(spec):
        return spec, None
    if not npm_names.is_plain_version(version) and not pypi_names.is_plain_version(version):
        raise UsageError(f"{spec}: expected a plain version after the @, such as {name}@1.2.3")
    return name, version


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m probe.capture.agents",
        description="Install each target's pinned agent, or the version named after an @, "
        "into .agents/<package>@<version>/.",
    )
    parser.add_argument("targets", nargs="+", help="target names, e.g. codex, or codex@0.166.0 for that version")
    args = parser.parse_args(argv)
    # Every spec is checked before anything is installed.
    chosen = [(spec, *target_and_version(spec)) for spec in args.targets]
    chosen = [(spec, name, load_target(name), version) for spec, name, version in chosen]
    for spec, name, target, version in chosen:
        if version is not None and target.install and not target.install.is_plain_version(version):
            raise UsageError(f"{spec}: expected a plain version after the @, such as {name}@1.2.3")
    for spec, name, target, version in chosen:
        if target.install is None:
            if version is not None:
                raise UsageError(
                    f"{spec}: {name} names no npm or PyPI package (agent.install) to install a version from"
                )
            print(f"{name}: no package pinned; nothing to install")
            continue
        binary = ensure_installed(target, version)
        print(
            f"{spec}: {one_line(agent_version(str(binary)) or version or target.install.version)} at "
            f"{Path(display(binary.parent)) / one_line(binary.name)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
