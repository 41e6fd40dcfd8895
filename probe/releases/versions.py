"""Which versions of an agent a releases run takes: its registry's listing (npm or PyPI), read into plain releases,
and the choice the command line makes of them (--versions, --last, --since)."""

import json
import re
import shutil
import subprocess
import sys

from packaging.version import InvalidVersion, Version

from probe.capture import npm
from probe.common.errors import ToolMissing, UsageError, one_line
from probe.runs.install import Install

LISTING_TIMEOUT = 60.0  # seconds: a registry that has not answered by then is taken as unreachable
PINNED = "pinned"  # --since pinned: the target's own pin
# npm's plain releases: a platform build (0.171.0-linux-x64), a nightly or a pre-release carries a suffix.
NPM_RELEASE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
PIP_LISTING = re.compile(r"^Available versions: (.*)$", re.MULTILINE)


def npm_listing(output: str) -> list[str]:
    """The versions `npm view <package> versions --json` printed (a list, or a lone string for a single one)."""
    try:
        listed = json.loads(output)
    except ValueError:
        raise ToolMissing("npm's list of versions is not JSON") from None
    listed = [listed] if isinstance(listed, str) else listed
    if not isinstance(listed, list) or not all(isinstance(version, str) for version in listed):
        raise ToolMissing("npm's list of versions is not a list of versions")
    return listed


def pypi_listing(output: str) -> list[str]:
    """The versions `pip index versions <distribution>` printed, on its `Available versions:` line."""
    found = PIP_LISTING.search(output)
    if found is None:
        raise ToolMissing("pip's list of versions has no `Available versions:` line")
    return [version.strip() for version in found.group(1).split(",") if version.strip()]


def releases(listed: list[str], registry: str) -> list[str]:
    """The plain releases among `listed`, oldest first: no pre-release, nightly, dev release or platform build."""
    if registry == "npm":
        plain = [version for version in listed if NPM_RELEASE.fullmatch(version)]
    else:
        plain = [version for version in listed if parsed(version) is not None and not parsed(version).is_prerelease]
    return sorted(set(plain), key=parsed)


def parsed(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def choose(
    listed: list[str],
    install: Install,
    versions: list[str] | None = None,
    last: int | None = None,
    since: str | None = None,
) -> list[str]:
    """The versions to run, oldest first: those named (each one the registry lists), the `last` N releases, or every
    release from `since` (the pin with `pinned`) on, `since` itself first: the one the next is compared with."""
    where = f"{install.registry} has no version {{}} of {install.package}"
    ordered = releases(listed, install.registry)
    if versions is not None:
        missing = [version for version in versions if version not in listed]
        if missing:
            raise UsageError(where.format(", ".join(missing)))
        return sorted(set(versions), key=lambda version: parsed(version) or Version("0"))
    if last is not None:
        return ordered[-last:]
    baseline = install.version if since in (None, PINNED) else since
    if baseline not in listed:
        raise UsageError(where.format(baseline))
    later = [version for version in ordered if parsed(version) > parsed(baseline)]
    return [baseline, *later]


def listed_versions(install: Install, timeout: float = LISTING_TIMEOUT) -> list[str]:
    """Every version the target's registry lists for its package, asked of npm or pip."""
    if install.npm:
        program = shutil.which("npm")
        if program is None:
            raise ToolMissing("npm was not found: install Node.js >= 20 (it brings npm) to list the releases")
        command = [program, "view", install.npm, "versions", "--json", "--loglevel=error"]
        return npm_listing(ask(command, f"npm view {install.npm} versions", timeout, install))
    pip = [sys.executable, "-m", "pip", "index", "versions", install.pypi, "--no-input", "--disable-pip-version-check"]
    return pypi_listing(ask(pip, f"pip index versions {install.pypi}", timeout, install))


def ask(command: list[str], said: str, timeout: float, install: Install) -> str:
    """What a registry's client printed, or one line saying why it could not answer."""
    try:
        result = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
            timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"{said} did not answer within {timeout:g} s: is the registry reachable?") from None
    except OSError as error:
        raise ToolMissing(f"{said} could not start: {error.strerror}") from None
    if result.returncode != 0:
        why = npm_failure(result.stdout, install.package, result.returncode) if install.npm else last_line(result)
        raise ToolMissing(f"{said} failed: {one_line(why)}")
    return result.stdout


def npm_failure(output: str, package: str, code: int) -> str:
    """npm's reason in one line: the network request that failed (its other lines are the syscall, the errno and
    advice), else what npm's installer would say (probe.capture.npm.failure)."""
    network = [line.removeprefix("npm error").strip() for line in output.splitlines() if "network request to" in line]
    return network[0] if network else npm.failure(output, package, "", code)


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = [line.removeprefix("ERROR:").strip() for line in result.stdout.splitlines() if line.strip()]
    return lines[-1] if lines else f"exited with {result.returncode}"
