"""The checks a target file's values go through: each problem reported as `file: location: message`."""

import json
from pathlib import PurePosixPath

from probe.common.errors import TargetError

# An agent.files path inside the run folder rather than the private home (an agent whose state folder is kept
# with the run).
RUN_FOLDER = "{run}/"


class Checker:
    """Reports the first problem as `file: location: message`."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, location: str, message: str) -> TargetError:
        return TargetError(f"{self.source}: {location}: {message}" if location else f"{self.source}: {message}")

    def mapping(self, value: object, keys: dict, location: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(location, "expected a mapping")
        for key in value:
            if key not in keys:
                where = f"{location}.{key}" if location else str(key)
                raise self.fail(where, f"unknown key (expected one of: {', '.join(keys)})")
        for key, (kind, required) in keys.items():
            where = f"{location}.{key}" if location else key
            if key not in value:
                if required:
                    raise self.fail(where, "missing")
                continue
            self.typed(value[key], kind, where)
        return value

    def typed(self, value: object, kind: str, location: str) -> None:
        valid = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "non-negative number": isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
            "list": isinstance(value, list),
            "mapping": isinstance(value, dict),
            "list of strings": isinstance(value, list) and all(isinstance(item, str) for item in value),
            "string or list of strings": isinstance(value, str)
            or (isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)),
            "string mapping": isinstance(value, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()),
            "string or string mapping": isinstance(value, str)
            or (
                isinstance(value, dict)
                and bool(value)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
            ),
        }[kind]
        if not valid:
            article = "an" if kind[0] in "aeiou" else "a"
            raise self.fail(location, f"expected {article} {kind}")


def agent_files(declared: dict, check: Checker, place: str = "agent.files") -> dict[str, str]:
    """`agent.files` (or another mapping of files, at `place`): each path must stay inside {agent_home}, or inside
    the run folder for one that starts `{run}/`; a mapping or list is written as JSON, so a settings file can be
    written as YAML in the target file."""
    files = {}
    for name, content in declared.items():
        where = f"{place}.{name}"
        relative = name.removeprefix(RUN_FOLDER) if isinstance(name, str) else name
        parts = PurePosixPath(relative).parts if isinstance(relative, str) else ()
        if not parts or relative.startswith(("/", "~", "{")) or ".." in parts or "\\" in relative:
            raise check.fail(
                where, "expected a relative path inside {agent_home} (or {run}/…), such as .gemini/settings.json"
            )
        if name.endswith("/"):
            if content not in (None, ""):
                raise check.fail(where, "a path ending in / is a folder: give it no content")
            files[name] = ""
        elif isinstance(content, str):
            files[name] = content
        elif isinstance(content, (dict, list)):
            files[name] = json.dumps(content, indent=2) + "\n"
        else:
            raise check.fail(where, "expected the file's text, or a mapping or list to write as JSON")
    return files


def nul_location(value: object, where: str) -> str | None:
    """Where the first string holding a NUL is, as `agent.env.A` or `agent.command[0]`; None if there is none."""
    if isinstance(value, str):
        return where if "\0" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            found = nul_location(key, inner) or nul_location(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_location(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None
