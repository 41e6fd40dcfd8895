"""Which declared tool the mock calls and with what arguments, read from the tools' JSON Schemas, for every API.

A call is only ever made to a tool the request declared, and its arguments are built from that tool's schema:
required fields present, types right, enums respected, nothing undeclared. Preferred arguments (a harmless
command, say) are used where the schema accepts them, and a value the schema does not take is replaced by one
made from the schema.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from probe.mock.wording import final_answer_text

SHELL_PARAMETERS = ("command", "cmd", "commands", "script")
SHELL_COMMAND = "echo agent-probe tool call"
# A tool that runs Python (its one required parameter named `code`, a string) is given this, as the shell is a
# command: smolagents' python_interpreter, which allows no import it was not told of.
PYTHON_CODE = 'print("agent-probe tool call")'
# The tools an agent ends through, where it takes no answer in words: smolagents' ToolCallingAgent goes on asking
# until the model calls final_answer.
ANSWER_TOOLS = ("final_answer",)
MAX_DEPTH = 8  # a schema nested deeper (or one whose $refs loop) is given the least value that fits


@dataclass(frozen=True)
class Tool:
    """A declared tool: its name, the namespace a call must name (None when there is none), its schema, and its
    kind: `function` (JSON arguments) or `custom` (free text, given as the arguments' `input`)."""

    name: str
    namespace: str | None
    schema: dict
    kind: str = "function"


@dataclass(frozen=True)
class Choice:
    """What the request lets the model do: `none` (no call), `auto`, `required` (some call), or one named tool."""

    mode: str = "auto"
    name: str | None = None


def shell_parameter(schema: dict) -> str | None:
    """The parameter that takes the command, when the tool is shell-like: exactly one of its required parameters
    is named like a command and takes a string or an array of strings (others, such as a description, are filled
    from the schema)."""
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    properties = properties_of(schema)
    named = [name for name in required if name in SHELL_PARAMETERS]
    if len(named) != 1:
        return None
    declared = resolve(properties.get(named[0]), schema)
    kinds = types_of(declared)
    if "string" in kinds:
        return named[0]
    items = resolve(declared.get("items"), schema)
    return named[0] if "array" in kinds and "string" in types_of(items) else None


def shell_arguments(tool: Tool, command: str) -> dict:
    """Arguments that run `command` with a shell-like tool: a string, or a list (one command per entry for
    `commands`, an argv otherwise)."""
    parameter = shell_parameter(tool.schema) or "command"
    kinds = types_of(resolve(properties_of(tool.schema).get(parameter), tool.schema))
    if "string" in kinds:
        value: Any = command
    elif parameter == "commands":
        value = [command]
    else:
        value = ["bash", "-lc", command]
    preferred = {parameter: value, "description": "Print a marker line"}
    return arguments_for(tool.schema, preferred)


def choose(
    tools: list[Tool], choice: Choice, preferences: list[tuple[str, dict]], command: str = SHELL_COMMAND
) -> tuple[Tool, dict] | None:
    """The call to make, (tool, arguments), or None to answer in words. The order: a tool the request names in
    tool_choice; a harmless tool the API's agents declare (`preferences`, by name); a shell-like tool (by schema),
    running `command`; and when the request requires a call, its first declared tool."""
    if choice.mode == "none" or not tools:
        return None
    by_name = {tool.name: tool for tool in tools}
    if choice.name is not None and choice.name in by_name:
        tool = by_name[choice.name]
        if shell_parameter(tool.schema):
            return tool, shell_arguments(tool, command)
        return tool, arguments_for(tool.schema, dict(preferences).get(tool.name, {}))
    for name, preferred in preferences:
        if name in by_name:
            tool = by_name[name]
            return tool, shell_arguments(tool, command) if shell_parameter(tool.schema) else arguments_for(
                tool.schema, preferred
            )
    shell = next((tool for tool in tools if shell_parameter(tool.schema)), None)
    if shell is not None:
        return shell, shell_arguments(shell, command)
    python = next((tool for tool in tools if runs_python(tool.schema)), None)
    if python is not None:
        return python, arguments_for(python.schema, {"code": PYTHON_CODE})
    if choice.mode == "required":
        return tools[0], arguments_for(tools[0].schema, {})
    return None


def runs_python(schema: dict) -> bool:
    """A tool whose one required parameter is `code`, a string: it runs the code it is given."""
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    return required == ["code"] and "string" in types_of(resolve(properties_of(schema).get("code"), schema))


def answer_call(tools: list[Tool], answer: str) -> tuple[Tool, dict] | None:
    """The call that gives the final answer, for an agent that ends only when its answer tool is called."""
    tool = next((tool for tool in tools if tool.name in ANSWER_TOOLS), None)
    return (tool, arguments_for(tool.schema, {"answer": answer})) if tool is not None else None


def finishing_call(tools: list[Tool], command: str) -> tuple[Tool, dict] | None:
    """The shell-like tool running the finishing command, for an agent that ends when a command says it is done."""
    shell = next((tool for tool in tools if shell_parameter(tool.schema)), None)
    return (shell, shell_arguments(shell, command)) if shell is not None else None


def properties_of(schema: Any) -> dict:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def types_of(schema: Any) -> set[str]:
    """The JSON types a schema allows, lower case (Gemini's OpenAPI schemas write `STRING`); empty for any."""
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    found = {str(each).lower() for each in kinds}
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or [] if isinstance(schema.get(key), list) else []:
            found |= types_of(option)
    if not found and "properties" in schema:
        found.add("object")
    return found


def resolve(schema: Any, root: dict, depth: int = 0) -> Any:
    """A schema with its local `$ref` (`#/$defs/x`, `#/definitions/x`) followed."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < MAX_DEPTH:
        target: Any = root
        for step in schema["$ref"].lstrip("#").strip("/").split("/"):
            target = target.get(step) if isinstance(target, dict) else None
        schema, depth = target if isinstance(target, dict) else {}, depth + 1
    return schema if isinstance(schema, dict) else {}


def arguments_for(schema: Any, preferred: dict) -> dict:
    """An object the tool's schema accepts: `preferred` values where they fit, every required field filled."""
    value = value_for(schema if isinstance(schema, dict) else {}, schema, preferred, 0)
    return value if isinstance(value, dict) else {}


def value_for(schema: dict, root: Any, preferred: Any, depth: int) -> Any:
    """A value `schema` accepts, `preferred` when it fits."""
    schema = resolve(schema, root if isinstance(root, dict) else {})
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return preferred if preferred in schema["enum"] else schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [resolve(option, root) for option in schema.get(key) or [] if isinstance(option, dict)]
        if options:
            fitting = [option for option in options if fits_type(preferred, types_of(option))]
            return value_for(fitting[0] if fitting else options[0], root, preferred, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged = merge_all_of(schema, root)
        return value_for(merged, root, preferred, depth + 1)
    kinds = types_of(schema) or ({type_name(preferred)} if preferred is not None else {"string"})
    fits = preferred is not None and fits_type(preferred, kinds) and fits_bounds(preferred, schema)
    if fits and not isinstance(preferred, (dict, list)):
        return preferred
    kind = next(
        (each for each in ("object", "string", "array", "integer", "number", "boolean") if each in kinds), "null"
    )
    if depth >= MAX_DEPTH:
        return {"object": {}, "array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(kind)
    if kind == "object":
        return object_for(schema, root, preferred if isinstance(preferred, dict) else {}, depth)
    if kind == "array":
        return array_for(schema, root, preferred if isinstance(preferred, list) else None, depth)
    if kind == "string":
        return string_for(schema)
    if kind in ("integer", "number"):
        return number_for(schema, kind)
    return False if kind == "boolean" else None


def object_for(schema: dict, root: Any, preferred: dict, depth: int) -> dict:
    """Every required property, and the preferred ones the schema declares (only those: a schema may forbid
    any other, and a tool may reject what it does not know)."""
    properties = properties_of(schema)
    required = [name for name in schema.get("required") or [] if isinstance(name, str)]
    # A schema that says nothing of its properties takes any; otherwise only the declared ones are sent.
    open_ended = "properties" not in schema and schema.get("additionalProperties") is not False
    names = required + [name for name in preferred if (open_ended or name in properties) and name not in required]
    result = {}
    for name in names:
        declared = properties.get(name)
        if declared is None:  # required but not described: any value does, a string reads best
            result[name] = preferred.get(name, "agent-probe")
            continue
        result[name] = value_for(declared, root, preferred.get(name), depth + 1)
    return result


def array_for(schema: dict, root: Any, preferred: list | None, depth: int) -> list:
    items = resolve(schema.get("items"), root) if isinstance(schema.get("items"), dict) else {}
    least = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
    most = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
    if preferred is not None and least <= len(preferred) and (most is None or len(preferred) <= most):
        values = [value_for(items, root, each, depth + 1) for each in preferred]
        if values == preferred:
            return values
    return [value_for(items, root, None, depth + 1) for _ in range(max(least, 1) if least else 0)]


def string_for(schema: dict) -> str:
    """A short string of the length the schema asks (a pattern is not followed: the mock's tools rarely have one)."""
    least = schema.get("minLength") if isinstance(schema.get("minLength"), int) else 0
    text = "agent-probe"
    text = (text * (least // len(text) + 1))[: max(least, len(text))]
    most = schema.get("maxLength")
    return text[:most] if isinstance(most, int) else text


def number_for(schema: dict, kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value = 1
    if isinstance(low, (int, float)) and not isinstance(low, bool):
        value = int(low) + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
    if isinstance(high, (int, float)) and not isinstance(high, bool) and value > high:
        value = high
    return int(value) if kind == "integer" else value


def merge_all_of(schema: dict, root: Any) -> dict:
    merged: dict = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema["allOf"]:
        part = resolve(part, root)
        merged.setdefault("properties", {}).update(properties_of(part))
        merged["required"] = list(merged.get("required") or []) + list(part.get("required") or [])
        for key, value in part.items():
            merged.setdefault(key, value)
    return merged


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), "null")


def fits_type(value: Any, kinds: set[str]) -> bool:
    if value is None:
        return "null" in kinds
    name = type_name(value)
    return not kinds or name in kinds or (name == "integer" and "number" in kinds)


def fits_bounds(value: Any, schema: dict) -> bool:
    if isinstance(value, str):
        least, most = schema.get("minLength"), schema.get("maxLength")
        return (not isinstance(least, int) or len(value) >= least) and (not isinstance(most, int) or len(value) <= most)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        return (not isinstance(low, (int, float)) or value >= low) and (
            not isinstance(high, (int, float)) or value <= high
        )
    return True


def decide(
    tools: list[Tool],
    choice: Choice,
    preferences: list[tuple[str, dict]],
    answering: bool,
    finish_command: str | None = None,
    finished: bool = False,
    prompt: str = "",
    mcp: tuple[Tool, dict] | None = None,
) -> tuple[Tool, dict] | None:
    """The call a turn makes, or None to answer in words. `answering`: the turn follows a tool's result, so the
    model is done. Then, with a finishing command not yet run, the shell-like tool runs it (how an agent that must
    call a tool every turn learns that the task is over); else the MCP step `mcp` (the call to a tool a search just
    loaded, see mcp_calls), else the agent's answer tool (ANSWER_TOOLS) where it declares one, else only a request that
    requires a call gets one. The shell-like tool runs the command
    the `prompt` asks for (see asked_command), else a harmless marker. On a fresh turn a call or command the prompt
    asks for comes first, then the MCP step (a model offered an MCP server uses it), then the usual choice; a
    prompt that asks for words only (WORDS_ONLY) is answered in words whenever the request lets the model choose."""
    if choice.mode == "none" or not (tools or mcp):
        return None
    if answering and finish_command and not finished:
        call = finishing_call(tools, finish_command)
        if call is not None:
            return call
    if mcp is not None and choice.name not in (None, mcp[0].name):
        mcp = None
    if answering and mcp is not None:
        return mcp
    answer = answer_call(tools, final_answer_text(prompt)) if answering else None
    if answer is not None and choice.name in (None, answer[0].name):
        return answer
    if answering and choice.mode == "auto":
        return None
    if choice.mode == "auto" and words_only(prompt):
        return None
    asked = asked_call(tools, prompt)
    if asked is not None and choice.name in (None, asked[0].name):
        return asked
    command = asked_command(prompt)
    if mcp is not None and command is None:
        return mcp
    return choose(tools, choice, preferences, command or SHELL_COMMAND)


# A prompt that says so is answered in words on its first turn, whatever tools are offered: the release scenario
# that measures what an agent sends for a plain answer (probe/releases/scenarios.yaml).
WORDS_ONLY = re.compile(r"\banswer in words only\b", re.IGNORECASE)


def words_only(prompt: str) -> bool:
    return WORDS_ONLY.search(prompt) is not None


# A prompt that says run `COMMAND` (in backticks) has the shell-like tool run it, as a model would: how a test
# makes the agent act on its working folder. The prompt is the user's own words, which could run it themselves.
ASKED_COMMAND = re.compile(r"\brun `([^`\n]{1,200})`")


def asked_command(prompt: str) -> str | None:
    """The command the user's prompt asks to run, or None."""
    match = ASKED_COMMAND.search(prompt[:10_000])
    return match[1] if match else None


# A prompt that says call `TOOL` with `{JSON arguments}` has that declared tool called, its arguments fitted to its
# schema: how a test makes the agent use a tool other than its shell (a web fetch, say) the way a model would.
ASKED_CALL = re.compile(r"\bcall `([\w.:-]{1,128})` with `(\{[^`\n]{0,4000}\})`")


def asked_call(tools: list[Tool], prompt: str) -> tuple[Tool, dict] | None:
    """The call the user's prompt asks for, when it names a declared tool and gives JSON arguments; else None."""
    match = ASKED_CALL.search(prompt[:10_000])
    tool = next((tool for tool in tools if match and tool.name == match[1]), None)
    if tool is None:
        return None
    try:
        arguments = json.loads(match[2])
    except ValueError:
        return None
    return (tool, arguments_for(tool.schema, arguments)) if isinstance(arguments, dict) else None


def ran_before(calls: list[object], command: str) -> bool:
    """Whether one of the conversation's earlier calls (their arguments, as sent) already ran `command`."""
    needle = json.dumps(command)[1:-1]
    return any(needle in (call if isinstance(call, str) else json.dumps(call)) for call in calls)


# A finishing command as agents that must call a tool every turn name it in their instructions (mini-SWE-agent:
# `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`): `echo` and one capitalised word of three or more parts, a marker no
# one types by chance.
NAMED_FINISH = re.compile(r"\becho ([A-Z][A-Z0-9]*(?:_[A-Z0-9]+){2,})\b")
FINISH_LOOKED_AT = 1 << 20  # characters of a request searched for one: the instructions come first


def finishing_command_named(request: dict) -> str | None:
    """The finishing command a request's instructions name, which a real model told about it would run when done;
    None when they name none."""
    found = NAMED_FINISH.search(json.dumps(request, ensure_ascii=False)[:FINISH_LOOKED_AT])
    return f"echo {found.group(1)}" if found else None
