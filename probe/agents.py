"""Finds an agent's program, installing its pinned npm package into .agents/ when it is missing."""

import shutil
import subprocess
import sys
from pathlib import Path

from probe.errors import ToolMissing
from probe.paths import agents_dir, display
from probe.targets import Target


def installed_binary(name: str) -> Path | None:
    candidate = agents_dir() / "node_modules" / ".bin" / name
    return candidate if candidate.is_file() else None


def find_agent(target: Target) -> str:
    """The agent's program: on PATH, else installed by us, else installed now from the pinned version."""
    program = target.command[0]
    found = shutil.which(program) or installed_binary(program)
    if found:
        return str(found)
    if target.install is None:
        raise ToolMissing(f"{program} not found on PATH, and {target.name} names no npm package to install it from")
    return str(install(target))


def install(target: Target) -> Path:
    spec = f"{target.install.npm}@{target.install.version}"
    npm = shutil.which("npm")
    if not npm:
        raise ToolMissing(f"{target.install.binary} is not installed and npm was not found: install Node.js >= 20 "
                          f"(it brings npm) or put {target.install.binary} on PATH")
    folder = agents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{target.install.binary} not found on PATH; installing {spec} (pinned in targets/{target.name}.yaml) "
          f"into {display(folder)}", file=sys.stderr, flush=True)
    result = subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error",
                             spec], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    binary = installed_binary(target.install.binary)
    if result.returncode != 0 or binary is None:
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"npm exited with {result.returncode}"
        raise ToolMissing(f"installing {spec} failed: {reason}")
    return binary


def agent_version(program: str) -> str | None:
    """What the agent says of its own version, or None if it won't say."""
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = (result.stdout or result.stderr).strip().splitlines()
    return output[0] if result.returncode == 0 and output else None
