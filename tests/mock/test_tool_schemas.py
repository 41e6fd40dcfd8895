"""The mock's tool calls hold to the schemas the tools declared: checked with a JSON Schema library over the real
agents' tools (tests/data/mock/agent_tools.json: the parameters of every tool in the project's own captures of
codex, Claude Code, gemini-cli, opencode and Qwen Code), the shell tools of agents tried beyond those, and schemas
Hypothesis makes."""

import json
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.mock import tool_schemas
from probe.mock.tool_schemas import Choice, Tool

AGENT_TOOLS = json.loads((Path(__file__).parents[1] / "data" / "mock" / "agent_tools.json").read_text())
STRING = {"type": "string"}
# Shell tools of agents beyond the five, in the shapes their requests declare them (see docs/capture.md).
MORE_SHELLS = {
    "cline/run_commands": {
        "type": "object",
        "properties": {"commands": {"type": "array", "items": STRING}},
        "required": ["commands"],
        "additionalProperties": False,
    },
    "codex-older/shell": {
        "type": "object",
        "properties": {
            "command": {"type": "array", "items": STRING},
            "workdir": STRING,
            "timeout_ms": {"type": "number"},
        },
        "required": ["command"],
        "additionalProperties": False,
    },
    "mini-swe-agent/bash": {"type": "object", "properties": {"command": STRING}, "required": ["command"]},
    "continue/Bash": {
        "type": "object",
        "properties": {"command": STRING, "timeout": {"type": "number"}},
        "required": ["command"],
    },
    "pi/bash": {
        "type": "object",
        "properties": {"command": STRING, "timeout": {"type": "number"}},
        "required": ["command"],
        "additionalProperties": False,
    },
    "scripted/shell": {
        "type": "object",
        "properties": {"script": STRING, "reason": {"type": "string", "enum": ["check", "build"]}},
        "required": ["script", "reason"],
        "additionalProperties": False,
    },
    "cmd/exec": {
        "type": "object",
        "properties": {"cmd": STRING, "yield_time_ms": {"type": "integer", "minimum": 250}},
        "required": ["cmd"],
    },
}
SHELL_TOOLS = {"claude-code/Bash", "gemini/run_shell_command", "opencode/bash", "qwen-code/run_shell_command"}


def valid(schema: dict, value: dict) -> bool:
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = list(validator(schema).iter_errors(value))
    assert not errors, f"{json.dumps(value)}: {errors[0].message}"
    return True


def test_every_real_tool_gets_arguments_its_schema_accepts():
    tools = {**AGENT_TOOLS, **MORE_SHELLS}
    assert len(AGENT_TOOLS) >= 50
    for name, schema in tools.items():
        assert valid(schema, tool_schemas.arguments_for(schema, {})), name
        # Preferred values the schema does not take (a wrong type, an undeclared field) are replaced or left out.
        assert valid(schema, tool_schemas.arguments_for(schema, {"command": 3, "description": "x", "bogus": 1}))
        forced = tool_schemas.choose([Tool(name.split("/")[1], None, schema)], Choice("required"), [])
        assert forced is not None and valid(schema, forced[1]), name


def test_shell_tools_are_known_by_their_schema_whatever_their_name():
    shells = {name for name, schema in {**AGENT_TOOLS, **MORE_SHELLS}.items() if tool_schemas.shell_parameter(schema)}
    assert shells == SHELL_TOOLS | set(MORE_SHELLS)
    for name in shells:
        schema = {**AGENT_TOOLS, **MORE_SHELLS}[name]
        tool = Tool(name.split("/")[1], None, schema)
        [others] = [[Tool("Read", None, AGENT_TOOLS["claude-code/Read"])]]
        chosen, arguments = tool_schemas.choose([*others, tool], Choice(), [])
        assert chosen is tool and valid(schema, arguments)
        command = arguments[tool_schemas.shell_parameter(schema)]
        assert command in (
            "echo agent-probe tool call",
            ["echo agent-probe tool call"],
            ["bash", "-lc", "echo agent-probe tool call"],
        )
    # Claude Code's Bash declares a description: it is given one; opencode's does not: it is given none.
    claude = tool_schemas.shell_arguments(Tool("Bash", None, AGENT_TOOLS["claude-code/Bash"]), "echo hi")
    opencode = tool_schemas.shell_arguments(Tool("bash", None, AGENT_TOOLS["opencode/bash"]), "echo hi")
    assert claude == {"command": "echo hi", "description": "Print a marker line"} and opencode == {"command": "echo hi"}


def test_tool_choice_and_the_finishing_command():
    read = Tool("Read", None, AGENT_TOOLS["claude-code/Read"])
    shell = Tool("run", None, MORE_SHELLS["mini-swe-agent/bash"])
    # Nothing declared that the mock knows to be harmless: it answers in words, unless a call is required.
    assert tool_schemas.decide([read], Choice(), [], answering=False) is None
    assert tool_schemas.decide([read], Choice("required"), [], answering=False)[0] is read
    assert tool_schemas.decide([read, shell], Choice("none"), [], answering=False) is None
    assert tool_schemas.decide([read, shell], Choice("required", "Read"), [], answering=False)[0] is read
    # After a tool's result: words, or, with a finishing command, that command once; a required call is made anyway.
    assert tool_schemas.decide([shell], Choice(), [], answering=True) is None
    done = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
    assert tool_schemas.decide([shell], Choice(), [], True, done) == (shell, {"command": done})
    assert tool_schemas.decide([shell], Choice(), [], True, done, finished=True) is None
    assert tool_schemas.decide([shell], Choice("required"), [], True, done, finished=True)[0] is shell
    assert tool_schemas.ran_before(['{"command": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}'], done)
    assert not tool_schemas.ran_before([{"command": "echo agent-probe tool call"}], done)


def test_a_prompt_that_says_run_a_command_gets_that_command():
    shell = Tool("run", None, MORE_SHELLS["mini-swe-agent/bash"])
    asked = "please run `touch made-here.txt` and then tell me"
    assert tool_schemas.decide([shell], Choice(), [], False, prompt=asked) == (
        shell,
        {"command": "touch made-here.txt"},
    )
    preferred = [("run", {"command": "echo agent-probe tool call"})]
    assert tool_schemas.decide([shell], Choice(), preferred, False, prompt=asked)[1] == {
        "command": "touch made-here.txt"
    }
    # Only backticks after "run" name a command; anything else keeps the harmless marker.
    for prompt in ("write a hello world function", "run touch x", "the `ls` command", ""):
        assert tool_schemas.decide([shell], Choice(), [], False, prompt=prompt)[1] == {
            "command": tool_schemas.SHELL_COMMAND
        }
    assert tool_schemas.decide([shell], Choice(), [], True, prompt=asked) is None  # after the result: the answer


def test_a_prompt_that_says_call_a_declared_tool_with_arguments_gets_that_call():
    shell = Tool("run", None, MORE_SHELLS["mini-swe-agent/bash"])
    fetch = Tool("Fetch", None, {"type": "object", "properties": {"url": STRING}, "required": ["url"]})
    caller = Tool("tool_call", None, {  # Qwen Code's, which calls a deferred tool by name
        "type": "object", "additionalProperties": False, "required": ["name", "arguments"],
        "properties": {"name": {"type": "string", "minLength": 1}, "arguments": {"type": "object"}},
    })  # fmt: skip
    tools = [shell, fetch, caller]
    asked = 'now call `Fetch` with `{"url": "https://example.com/a", "depth": 3}` please'
    # Its arguments fitted to the schema: what it does not declare is left out.
    assert tool_schemas.decide(tools, Choice(), [], False, prompt=asked) == (fetch, {"url": "https://example.com/a"})
    deferred = 'call `tool_call` with `{"name": "web_fetch", "arguments": {"url": "https://example.com/a"}}`'
    assert tool_schemas.decide(tools, Choice(), [], False, prompt=deferred) == (
        caller,
        {"name": "web_fetch", "arguments": {"url": "https://example.com/a"}},
    )
    # A tool not declared, arguments that are not a JSON object, a tool_choice naming another: the usual call.
    for prompt in (
        'call `WebFetch` with `{"url": "https://example.com/a"}`',
        'call `Fetch` with `{"url": }`',
        "call `Fetch` with `[1]`",
    ):
        assert tool_schemas.decide(tools, Choice(), [], False, prompt=prompt)[0] is shell
    assert tool_schemas.decide(tools, Choice("required", "run"), [], False, prompt=asked)[0] is shell
    assert tool_schemas.decide(tools, Choice(), [], True, prompt=asked) is None  # after the result: the answer


NAMES = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
LEAVES = st.one_of(
    st.just({"type": "string"}),
    st.builds(
        lambda low, extra: {"type": "string", "minLength": low, "maxLength": low + extra},
        st.integers(0, 30),
        st.integers(0, 5),
    ),
    st.builds(
        lambda low, extra: {"type": "integer", "minimum": low, "maximum": low + extra},
        st.integers(-5, 500),
        st.integers(0, 3),
    ),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), min_size=1, max_size=4, unique=True).map(
        lambda values: {"enum": values}
    ),
    st.just({"type": ["string", "null"]}),
    st.just({"const": "fixed"}),
)


def objects(children):
    def build(properties: dict, required: list, closed: bool) -> dict:
        schema = {"type": "object", "properties": properties, "required": [n for n in required if n in properties]}
        return schema | ({"additionalProperties": False} if closed else {})

    return st.builds(build, st.dictionaries(NAMES, children, max_size=5), st.lists(NAMES, max_size=5), st.booleans())


SCHEMAS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        objects(children),
        st.builds(
            lambda items, least: {"type": "array", "items": items, "minItems": least}, children, st.integers(0, 2)
        ),
        st.builds(lambda options: {"anyOf": options}, st.lists(children, min_size=1, max_size=3)),
    ),
    max_leaves=12,
)


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(objects(SCHEMAS), st.dictionaries(NAMES, st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=4))
def test_arguments_validate_against_any_declared_shape(schema, preferred):
    assert valid(schema, tool_schemas.arguments_for(schema, preferred))
    # The same through a $ref, as generated schemas (zod, pydantic) write nested types.
    referenced = {"$defs": {"args": schema}, "$ref": "#/$defs/args"}
    assert valid(referenced, tool_schemas.arguments_for(referenced, preferred))


# smolagents' tool-calling agent, as its requests declare its tools (smolagents 1.26.0, `--tools python_interpreter`).
SMOLAGENTS_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "python_interpreter",
            "description": "This is a tool that evaluates python code.",
            "parameters": {
                "type": "object",
                "properties": {"code": {"type": "string", "description": "The code snippet to evaluate."}},
                "required": ["code"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "final_answer",
            "description": "Provides a final answer to the given problem.",
            "parameters": {
                "type": "object",
                "properties": {"answer": {"type": "string", "description": "The final answer to the problem"}},
                "required": ["answer"],
            },
        },
    },
]


def test_an_agent_that_ends_through_its_answer_tool_gets_code_then_its_answer():
    """smolagents requires a call every turn and writes the call and its result back as text (the user's
    "Observation: …"): the mock runs Python with its code tool, then, once it has spoken, answers through
    final_answer, as the agent's instructions ask a model to."""
    from probe.mock import chat_api

    task = {"role": "user", "content": [{"type": "text", "text": "New task:\nlist the files, then say done"}]}
    first = {"model": "gpt-4.1", "messages": [task], "tools": SMOLAGENTS_TOOLS, "tool_choice": "required"}
    assert chat_api.choose_tool_call(first) == ("python_interpreter", {"code": 'print("agent-probe tool call")'})
    said = {"role": "assistant", "content": [{"type": "text", "text": "Calling tools:\n[{'id': 'call_1'}]"}]}
    seen = {"role": "user", "content": [{"type": "text", "text": "Observation:\nStdout:\nagent-probe tool call"}]}
    name, arguments = chat_api.choose_tool_call(first | {"messages": [task, said, seen]})
    assert name == "final_answer" and arguments["answer"].startswith('Here is my answer to "list the files, then')
    jsonschema.validate(arguments, SMOLAGENTS_TOOLS[1]["function"]["parameters"])
    # Without an answer tool a spoken turn changes nothing: a second prompt in a session gets its own call.
    shell = Tool("run", None, MORE_SHELLS["mini-swe-agent/bash"])
    assert tool_schemas.answer_call([shell], "done") is None
    assert tool_schemas.runs_python(SMOLAGENTS_TOOLS[0]["function"]["parameters"])
    assert not tool_schemas.runs_python(MORE_SHELLS["mini-swe-agent/bash"])
