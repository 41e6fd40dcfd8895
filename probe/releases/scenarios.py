"""The release scenarios: what each version of an agent is asked to do against the mock, read from one YAML file
(scenarios.yaml beside this module, or the file --scenarios names) and checked against its JSON Schema."""

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from probe.common.bounded_read import read_at_most
from probe.common.cli import SCENARIO_NAME
from probe.common.errors import UsageError, one_line
from probe.common.paths import display

BUNDLED = Path(__file__).with_name("scenarios.yaml")
MAX_FILE = 1_000_000  # bytes: a scenarios file is a page of YAML
SCHEMA = {
    "type": "object",
    "required": ["scenarios"],
    "additionalProperties": False,
    "properties": {
        "scenarios": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "prompt"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": f"^{SCENARIO_NAME.pattern}$"},
                    "about": {"type": "string"},
                    "prompt": {"type": "string", "minLength": 1, "maxLength": 10_000},
                    "compares": {"type": "boolean"},
                    "all_hosts": {"type": "boolean"},
                    "agent_telemetry": {"type": "boolean"},
                },
            },
        }
    },
}


@dataclass(frozen=True)
class Scenario:
    """One scenario: its name (in run folders' names and manifests), its prompt, and the run's options."""

    name: str
    prompt: str
    about: str = ""
    compares: bool = False  # the scenario the changelog compares versions by
    all_hosts: bool = False  # --all-hosts
    agent_telemetry: bool = False  # --agent-telemetry: a target with no telemetry of its own cannot play it


def load(path: Path | None = None) -> list[Scenario]:
    """The scenarios of `path` (default: the bundled file), in the file's order; one line says what is wrong."""
    path = path or BUNDLED
    try:
        data = read_at_most(path, MAX_FILE)
    except OSError as error:
        raise UsageError(f"{display(path)}: cannot read: {error.strerror}") from None
    if data is None:
        raise UsageError(f"{display(path)}: over the {MAX_FILE:,}-byte limit for a scenarios file")
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UsageError(f"{display(path)}: not YAML: {one_line(str(error).splitlines()[0])}") from None
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))
    if problem is not None:
        where = "/".join(str(step) for step in problem.absolute_path) or "the file"
        raise UsageError(f"{display(path)}: {where}: {one_line(problem.message)}")
    scenarios = [Scenario(**entry) for entry in document["scenarios"]]
    names = [scenario.name for scenario in scenarios]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise UsageError(f"{display(path)}: scenario {', '.join(twice)} is named twice")
    return scenarios


def select(scenarios: list[Scenario], names: list[str] | None) -> list[Scenario]:
    """The scenarios named (all without names), in the file's order; an unknown name is an error."""
    if not names:
        return scenarios
    known = [scenario.name for scenario in scenarios]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"no scenario {', '.join(unknown)} (the scenarios: {', '.join(known)})")
    return [scenario for scenario in scenarios if scenario.name in names]
