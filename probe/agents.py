"""Finds an agent's program, installing its pinned npm package into .agents/ when it is missing."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from probe import cli
from probe.errors import ToolMissing, run_main
from probe.paths import agents_dir, display
from probe.targets import Target, load_target


def installed_binary(name: str) -> Path | None:
    candidate = agents_dir() / "node_modules" / ".bin" / name
    return candidate if candidate.is_file() else None


def installed_version(target: Target) -> str | None:
    """The version of the target's npm package in .agents/, if it is installed there."""
    manifest = agents_dir() / "node_modules" / target.install.npm / "package.json"
    try:
        return json.loads(manifest.read_text()).get("version")
    except (OSError, ValueError):
        return None


def find_agent(target: Target) -> str:
    """The agent's program: on PATH, else our pinned install, else installed now from the pinned version."""
    program = target.command[0]
    found = shutil.which(program)
    if found:
        return found
    if target.install is None:
        raise ToolMissing(f"{program} not found on PATH, and {target.name} names no npm package to install it from")
    return str(ensure_pinned(target))


def ensure_pinned(target: Target) -> Path:
    """The pinned version in .agents/, installed (or replaced) when it is not there."""
    binary = installed_binary(target.install.binary)
    if binary is not None and installed_version(target) == target.install.version:
        return binary
    return install(target)


def install(target: Target) -> Path:
    spec = f"{target.install.npm}@{target.install.version}"
    npm = shutil.which("npm")
    if not npm:
        raise ToolMissing(f"{target.install.binary} is not installed and npm was not found: install Node.js >= 20 "
                          f"(it brings npm) or put {target.install.binary} on PATH")
    folder = agents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{target.install.binary}: installing {spec} (pinned in targets/{target.name}.yaml) "
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


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.agents",
                                     description="Install the pinned agent of each target into .agents/.")
    parser.add_argument("targets", nargs="+", help="target names, e.g. codex")
    args = parser.parse_args(argv)
    for name in args.targets:
        target = load_target(name)
        if target.install is None:
            print(f"{name}: no npm package pinned; nothing to install")
            continue
        binary = ensure_pinned(target)
        print(f"{name}: {agent_version(str(binary)) or target.install.version} at {display(binary)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
