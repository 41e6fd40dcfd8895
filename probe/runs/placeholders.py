"""The placeholders a target file's values hold, `{prompt}`, `{proxy.NAME}`, `{env.NAME}`…, and how they are filled."""

import re

from probe.common.errors import TargetError

# Where an {env.NAME} of the agent's command is looked for, as an error names it.
AGENTS = "the agent's environment (yours, with the target's variables)"

PLACEHOLDER = re.compile(
    r"\{(prompt|run|agent_home|workdir|session|ca|forward|telemetry|proxy\.[A-Za-z0-9_-]+|env\.[A-Za-z_][A-Za-z0-9_]*)\}"
)


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace `{prompt}`, `{run}`, `{agent_home}`, `{workdir}`, `{session}` (with --resume), `{ca}` and
    `{forward}` (with --all-hosts), `{telemetry}` (with --agent-telemetry), `{proxy.NAME}` and `{env.NAME}` with
    what `values` holds for them (`env.NAME` as such); anything else, other braces too, is left alone."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def variables_named(text: str) -> list[str]:
    """The environment variables `text` takes with `{env.NAME}`, in order."""
    return [match.group(1)[4:] for match in PLACEHOLDER.finditer(text) if match.group(1).startswith("env.")]


def environment_values(text: str, environ: dict[str, str], target: str, where: str, whose: str) -> dict[str, str]:
    """`env.NAME` -> its value in `environ`, for each `{env.NAME}` in `text`; a variable `environ` does not set is a
    one-line error naming the target, the place and the variable (`whose` environment it was looked up in)."""
    values = {}
    for name in variables_named(text):
        if name not in environ:
            raise TargetError(f"target {target}: {where}: {{env.{name}}}: {name} is not set in {whose}")
        values[f"env.{name}"] = environ[name]
    return values
