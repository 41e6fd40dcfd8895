"""The capture's cache folder, given to the processes a run starts inside the agent (the MCP relay, the hooks
recorder), where the secret rules are kept listed and compiled (probe.redact.maintained): in a private home the
agent's cache is a new one, and each such process listed and compiled them again there (measured: 2.7 s of CPU before
the relay recorded its first message, 8 s before the first hook event)."""

import os
from pathlib import Path

OPTION = "--cache"


def cache_arguments() -> list[str]:
    """The option naming this process's cache (XDG_CACHE_HOME, else ~/.cache) for a process the run starts."""
    return [OPTION, os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")]


def use_cache(folder: str) -> None:
    """This process reads the rules from the capture's cache `folder`: XDG_CACHE_HOME is where they are looked for."""
    os.environ["XDG_CACHE_HOME"] = folder
