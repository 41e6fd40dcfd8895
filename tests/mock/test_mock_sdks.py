"""The official SDKs (openai's Responses and Chat Completions, anthropic, google-genai), streamed and not, with
tools declared by schema, against `python -m probe.mock` in a process of its own: the mock must answer each as
its real API would, or the SDK fails to read it."""

import json
import subprocess
import sys
from collections.abc import Iterator

import anthropic
import jsonschema
import openai
import pytest
from google import genai
from google.genai import types

SHELL = {
    "type": "object",
    "properties": {
        "commands": {"type": "array", "items": {"type": "string"}},
        "reason": {"type": "string", "enum": ["inspect", "build"]},
    },
    "required": ["commands", "reason"],
    "additionalProperties": False,
}
LOOKUP = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
PROMPT = "write a hello world function"
FINISH = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"


def start_mock(*options: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "probe.mock", "--port", "0", "--event-delay-ms", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("mock listening on "), line
        yield line.split("mock listening on ", 1)[1].strip().rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def mock_url():
    yield from start_mock()


@pytest.fixture(scope="module")
def finishing_mock_url():
    yield from start_mock("--finish-command", FINISH)


def accepts(schema: dict, arguments: dict) -> dict:
    jsonschema.Draft202012Validator(schema).validate(arguments)
    return arguments


def test_openai_responses_without_and_with_stream(mock_url):
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-test", max_retries=0)
    tools = [
        {"type": "function", "name": "run_commands", "parameters": SHELL, "strict": True},
        {"type": "function", "name": "lookup", "parameters": LOOKUP},
    ]
    first = client.responses.create(model="gpt-test-unknown", input=PROMPT, tools=tools)
    assert first.status == "completed" and first.model == "gpt-test-unknown"
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "run_commands"
    assert accepts(SHELL, json.loads(call.arguments)) == {
        "commands": ["echo agent-probe tool call"],
        "reason": "inspect",
    }
    # A continuation counts the whole context, and reads from the cache no more than the prefix it shares.
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "agent-probe tool call"}
    second = client.responses.create(model="gpt-5.1", input=[result], tools=tools, previous_response_id=first.id)
    assert second.output_text.startswith(f'Here is my answer to "{PROMPT}"')
    shared = first.usage.input_tokens + first.usage.output_tokens
    assert second.usage.input_tokens > shared
    assert second.usage.input_tokens_details.cached_tokens == shared
    # Each answer carries its own `x-request-id`, as the real API's do: the SDK reads it from the header.
    assert first._request_id.startswith("req_") and second._request_id.startswith("req_")
    assert first._request_id != second._request_id
    # Streamed, through the SDK's own stream reader.
    with client.responses.stream(model="gpt-5.1", input=PROMPT, tools=tools, tool_choice="required") as stream:
        events = [event.type for event in stream]
        final = stream.get_final_response()
    assert events[0] == "response.created" and events[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in events
    assert accepts(SHELL, json.loads(final.output[-1].arguments))["commands"] == ["echo agent-probe tool call"]
    # tool_choice names a tool: that one is called, with arguments its schema takes.
    named = client.responses.create(
        model="gpt-5.1", input=PROMPT, tools=tools, tool_choice={"type": "function", "name": "lookup"}
    )
    assert named.output[-1].name == "lookup" and accepts(LOOKUP, json.loads(named.output[-1].arguments))
    assert client.responses.create(model="gpt-5.1", input=PROMPT, tools=tools, tool_choice="none").output_text


def test_openai_chat_completions_without_and_with_stream(mock_url):
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-test", max_retries=0)
    tools = [{"type": "function", "function": {"name": "shell", "parameters": SHELL}}]
    messages = [{"role": "user", "content": PROMPT}]
    whole = client.chat.completions.create(model="gpt-5.1", messages=messages, tools=tools)
    [call] = whole.choices[0].message.tool_calls
    assert whole.choices[0].finish_reason == "tool_calls" and accepts(SHELL, json.loads(call.function.arguments))
    assert whole._request_id.startswith("req_")
    pieces = client.chat.completions.create(
        model="gpt-5.1", messages=messages, tools=tools, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(pieces)
    arguments = "".join(
        call.function.arguments or ""
        for chunk in chunks
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
    )
    assert accepts(SHELL, json.loads(arguments)) and chunks[-1].usage.prompt_tokens > 0
    with client.chat.completions.stream(model="gpt-5.1", messages=messages, tools=tools) as stream:
        final = stream.get_final_completion()
    assert accepts(SHELL, json.loads(final.choices[0].message.tool_calls[0].function.arguments))


def test_anthropic_messages_without_and_with_stream(mock_url):
    client = anthropic.Anthropic(base_url=mock_url, api_key="sk-ant-test", max_retries=0)
    tools = [{"name": "Bash", "input_schema": SHELL}, {"name": "lookup", "input_schema": LOOKUP}]
    messages = [{"role": "user", "content": PROMPT}]
    whole = client.messages.create(model="claude-test-unknown", max_tokens=100, messages=messages, tools=tools)
    assert whole.model == "claude-test-unknown" and whole.stop_reason == "tool_use"
    [call] = [block for block in whole.content if block.type == "tool_use"]
    assert call.name == "Bash" and accepts(SHELL, call.input)
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=100,
        messages=messages,
        tools=tools,
        tool_choice={"type": "tool", "name": "lookup"},
    ) as stream:
        final = stream.get_final_message()
    assert final.content[-1].name == "lookup" and accepts(LOOKUP, final.content[-1].input)
    answered = [
        *messages,
        {"role": "assistant", "content": whole.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "ok"}]},
    ]
    last = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=answered, tools=tools)
    assert last.stop_reason == "end_turn" and last.content[0].text.startswith("Here is my answer")
    # Each answer carries its own `request-id`, as the real API's do: the SDK reads it from the header.
    ids = {whole._request_id, last._request_id}
    assert len(ids) == 2 and all(str(answer).startswith("req_") for answer in ids), ids


def test_google_genai_without_and_with_stream(mock_url):
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=mock_url))
    declaration = types.FunctionDeclaration(name="run_shell_command", parameters_json_schema=SHELL)
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])])
    whole = client.models.generate_content(model="gemini-test-unknown", contents=PROMPT, config=config)
    assert whole.model_version == "gemini-test-unknown"
    [call] = whole.function_calls
    assert call.name == "run_shell_command" and accepts(SHELL, call.args)
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents=PROMPT, config=config))
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert len(chunks) > 1 and accepts(SHELL, calls[-1].args) and chunks[-1].usage_metadata.prompt_token_count > 0
    # Mode NONE: words only.
    none = types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE"))
    words = client.models.generate_content(
        model="gemini-2.5-flash", contents=PROMPT, config=config.model_copy(update={"tool_config": none})
    )
    assert not words.function_calls and words.text.startswith("Here is my answer")


def test_an_agent_that_must_call_a_tool_every_turn_is_told_when_to_end(finishing_mock_url):
    """tool_choice "required" (mini-SWE-agent's way): after the tool's result the shell tool runs the finishing
    command the mock was given, once; the agent then ends, as it would with a real model."""
    client = openai.OpenAI(base_url=f"{finishing_mock_url}/v1", api_key="sk-test", max_retries=0)
    bash = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
    tools = [{"type": "function", "function": {"name": "bash", "parameters": bash}}]
    messages: list = [{"role": "user", "content": PROMPT}]
    commands = []
    for _ in range(2):
        answer = client.chat.completions.create(model="gpt-5.1", messages=messages, tools=tools, tool_choice="required")
        [call] = answer.choices[0].message.tool_calls
        commands.append(accepts(bash, json.loads(call.function.arguments))["command"])
        messages += [
            answer.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "done"},
        ]
    assert commands == ["echo agent-probe tool call", FINISH]
    # Anthropic's "any" is the same requirement.
    claude = anthropic.Anthropic(base_url=finishing_mock_url, api_key="sk-ant-test", max_retries=0)
    first = claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=100,
        tools=[{"name": "Bash", "input_schema": bash}],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": PROMPT}],
    )
    assert first.content[-1].input == {"command": "echo agent-probe tool call"}


def test_a_finishing_command_the_instructions_name_ends_the_agent_without_being_given(mock_url):
    """A mock given no finishing command reads one from the request's instructions, as a real model told about it
    would (mini-SWE-agent's system prompt names `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`), and runs it once,
    after the first tool result, with the declared shell-like tool, whatever its name."""
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-test", max_retries=0)
    shell = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"],
             "additionalProperties": False}  # fmt: skip
    tools = [{"type": "function", "function": {"name": "shell", "parameters": shell}}]
    system = f"Run one command per turn. When the task is done, run `{FINISH}` and nothing else."
    messages: list = [{"role": "system", "content": system}, {"role": "user", "content": PROMPT}]
    commands = []
    for stream in (False, True):
        if stream:
            chunks = list(client.chat.completions.create(model="gpt-5.1", messages=messages, tools=tools,
                                                         tool_choice="required", stream=True))  # fmt: skip
            arguments = "".join(
                call.function.arguments or ""
                for chunk in chunks if chunk.choices
                for call in (chunk.choices[0].delta.tool_calls or [])
            )  # fmt: skip
            call_id = next(call.id for chunk in chunks if chunk.choices
                           for call in (chunk.choices[0].delta.tool_calls or []) if call.id)  # fmt: skip
            message = {"role": "assistant", "tool_calls": [{"id": call_id, "type": "function",
                       "function": {"name": "shell", "arguments": arguments}}]}  # fmt: skip
        else:
            answer = client.chat.completions.create(model="gpt-5.1", messages=messages, tools=tools,
                                                    tool_choice="required")  # fmt: skip
            [call] = answer.choices[0].message.tool_calls
            arguments, call_id = call.function.arguments, call.id
            message = answer.choices[0].message.model_dump(exclude_none=True)
        commands.append(accepts(shell, json.loads(arguments))["cmd"])
        messages += [message, {"role": "tool", "tool_call_id": call_id, "content": "done"}]
    assert commands == ["echo agent-probe tool call", FINISH]
    # Without such a command in the instructions, nothing is read into them: the shell keeps its harmless call.
    plain = [{"role": "user", "content": PROMPT}, *messages[2:4]]
    again = client.chat.completions.create(model="gpt-5.1", messages=plain, tools=tools, tool_choice="required")
    assert json.loads(again.choices[0].message.tool_calls[0].function.arguments)["cmd"] != FINISH


WORDS_ONLY = "Answer in words only: say hello"


def test_a_prompt_that_asks_for_words_only_is_answered_in_words_by_every_api(mock_url):
    """The release scenario `answer`: tools are offered, the prompt asks for words only, and every API's first
    turn is an answer in words, no call."""
    said = f'Here is my answer to "{WORDS_ONLY}"'
    openai_client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-test", max_retries=0)
    responses_tools = [{"type": "function", "name": "run_commands", "parameters": SHELL}]
    response = openai_client.responses.create(model="gpt-5.1", input=WORDS_ONLY, tools=responses_tools)
    assert [item.type for item in response.output] == ["message"] and response.output_text.startswith(said)
    chat_tools = [{"type": "function", "function": {"name": "shell", "parameters": SHELL}}]
    messages = [{"role": "user", "content": WORDS_ONLY}]
    chat = openai_client.chat.completions.create(model="gpt-5.1", messages=messages, tools=chat_tools)
    assert chat.choices[0].finish_reason == "stop" and not chat.choices[0].message.tool_calls
    assert chat.choices[0].message.content.startswith(said)
    claude = anthropic.Anthropic(base_url=mock_url, api_key="sk-ant-test", max_retries=0)
    answer = claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=100, messages=messages, tools=[{"name": "Bash", "input_schema": SHELL}]
    )
    assert answer.stop_reason == "end_turn" and [block.type for block in answer.content] == ["text"]
    assert answer.content[0].text.startswith(said)
    gemini = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=mock_url))
    declaration = types.FunctionDeclaration(name="run_shell_command", parameters_json_schema=SHELL)
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])])
    words = gemini.models.generate_content(model="gemini-2.5-flash", contents=WORDS_ONLY, config=config)
    assert not words.function_calls and words.text.startswith(said)
    # A request that requires a call still gets one: the model may not refuse what the agent demands.
    required = openai_client.responses.create(
        model="gpt-5.1", input=WORDS_ONLY, tools=responses_tools, tool_choice="required"
    )
    assert [item.type for item in required.output][-1] == "function_call"
