"""The mock calls an MCP tool when a request offers one, for every API, decided from request bodies shaped as the
pinned agents send them (Claude Code 2.1.330 and codex 0.169.0 defer MCP tools: names only, for their tool search):
a tool offered in full is called on the first turn; a deferred one is loaded through the agent's tool search first,
then called on the turn after; then the mock answers in words. One MCP call a conversation, and a harmless one."""

import json
from pathlib import Path

from probe.mock import chat_api, code_mode, gemini_api, mcp_calls, messages_api, responses_api
from probe.mock.tool_schemas import Tool

AGENT_TOOLS = json.loads((Path(__file__).parents[1] / "data" / "mock" / "agent_tools.json").read_text())
PROMPT = "read /tmp/parcels/notes.txt and sum it up"
PATH_SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "tail": {"type": "number"}, "head": {"type": "number"}},
    "required": ["path"],
}
BASH = {"name": "Bash", "input_schema": AGENT_TOOLS["claude-code/Bash"]}
TOOL_SEARCH = {"name": "ToolSearch", "input_schema": AGENT_TOOLS["claude-code/ToolSearch"]}
# Claude Code lists the deferred tools in a system message, one a line, after this heading (measured).
DEFERRED = (
    "The following deferred tools are now available via ToolSearch. Their schemas are NOT loaded — calling them "
    'directly will fail with InputValidationError. Use ToolSearch with query "select:<name>[,<name>...]" to load '
    "tool schemas before calling them:\nWebFetch\nmcp__fs__create_directory\nmcp__fs__read_text_file\n"
    "mcp__fs__write_file\n\nAvailable agent types for the Agent tool:"
)
FS_READER = {
    "name": "mcp__fs__read_text_file",
    "description": "Read the complete contents of a file from the file system as text.",
    "input_schema": PATH_SCHEMA,
    "defer_loading": True,
}


def user(text: str) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def claude_first() -> dict:
    return {
        "model": "claude-opus-5-5",
        "tools": [BASH, TOOL_SEARCH],
        "messages": [user(PROMPT), {"role": "system", "content": [{"type": "text", "text": DEFERRED}]}],
    }


def tool_uses(message: dict) -> list[tuple[str, dict]]:
    return [(block["name"], block["input"]) for block in message["content"] if block["type"] == "tool_use"]


def answer_with(request: dict, message: dict, result: object, tools: list[dict] | None = None) -> dict:
    """The request after `message`'s one tool_use, answered with `result` (Claude Code's tool_result content)."""
    [block] = [block for block in message["content"] if block["type"] == "tool_use"]
    turn = [{"type": "tool_result", "tool_use_id": block["id"], "content": result}]
    messages = [*request["messages"], {"role": "assistant", "content": message["content"]},
                {"role": "user", "content": turn}]  # fmt: skip
    return dict(request, tools=tools or request["tools"], messages=messages)


def test_claude_code_loads_a_deferred_mcp_tool_with_tool_search_then_reads_the_prompts_file_then_answers():
    first = claude_first()
    searching = messages_api.plan_message(first)
    # Not the harmless Bash the mock otherwise calls: the tool search, selecting the reader, as its schema asks.
    assert tool_uses(searching) == [("ToolSearch", {"query": "select:mcp__fs__read_text_file", "max_results": 1})]
    # Claude Code answers with a tool_reference and sends the loaded tool, marked defer_loading, from then on.
    loaded = answer_with(first, searching, [{"type": "tool_reference", "tool_name": "mcp__fs__read_text_file"}],
                         [BASH, TOOL_SEARCH, FS_READER])  # fmt: skip
    calling = messages_api.plan_message(loaded)
    assert tool_uses(calling) == [("mcp__fs__read_text_file", {"path": "/tmp/parcels/notes.txt"})]
    answered = messages_api.plan_message(answer_with(loaded, calling, "The courier is Zanzibar Quokka Express.\n"))
    assert tool_uses(answered) == [] and answered["stop_reason"] == "end_turn"
    assert answered["content"][0]["text"].startswith('Here is my answer to "read /tmp/parcels/notes.txt')


def test_claude_code_calls_an_mcp_tool_sent_in_full_at_once_and_never_one_not_yet_loaded():
    full = dict(FS_READER)
    del full["defer_loading"]
    request = {"model": "claude-opus-5-5", "tools": [BASH, TOOL_SEARCH, full], "messages": [user(PROMPT)]}
    assert tool_uses(messages_api.plan_message(request)) == [
        ("mcp__fs__read_text_file", {"path": "/tmp/parcels/notes.txt"})
    ]
    # Marked defer_loading and referenced by no tool search yet, the model does not see it: the usual Bash.
    hidden = dict(request, tools=[BASH, FS_READER])
    assert [name for name, _ in tool_uses(messages_api.plan_message(hidden))] == ["Bash"]


def test_a_search_that_loads_nothing_is_answered_and_not_searched_again():
    first = claude_first()
    searching = messages_api.plan_message(first)
    failed = answer_with(first, searching, "No matching deferred tools found")
    answered = messages_api.plan_message(failed)
    assert tool_uses(answered) == [] and answered["stop_reason"] == "end_turn"


def test_without_mcp_tools_claude_code_keeps_its_harmless_bash_call():
    request = {"model": "claude-opus-5-5", "tools": [BASH, TOOL_SEARCH], "messages": [user(PROMPT)]}
    assert [name for name, _ in tool_uses(messages_api.plan_message(request))] == ["Bash"]


def test_a_call_the_prompt_asks_for_comes_before_the_mcp_tool():
    request = claude_first()
    request["messages"][0] = user("run `ls /tmp` please")
    assert tool_uses(messages_api.plan_message(request)) == [
        ("Bash", {"command": "ls /tmp", "description": "Print a marker line"})
    ]


# codex 0.169.0's code mode: one free-text `exec` in the `functions` namespace, the server named as deferred.
EXEC = {"type": "custom", "name": "exec", "description": "Run JavaScript code to orchestrate/compose tool calls",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: /[\\s\\S]+/"}}  # fmt: skip
SLEEP = {"type": "function", "name": "sleep", "parameters": AGENT_TOOLS["codex/sleep"]}
CODEX_TOOLS = {"type": "additional_tools", "tools": [
    {"type": "namespace", "name": "functions", "tools": [EXEC]},
    {"type": "namespace", "name": "clock", "tools": [SLEEP]},
]}  # fmt: skip
CODEX_DEFERRED = {"type": "message", "role": "developer", "content": [
    {"type": "input_text", "text": "<collaboration_mode>…</collaboration_mode>"},
    {"type": "input_text", "text": "<tools>\nDeferred tool namespaces:\n- codex_apps\n- mcp__fs\n</tools>"},
]}  # fmt: skip
# What codex sent back for the mock's listing script (measured; two of the server's fourteen tools kept).
LISTING = [
    {"type": "input_text", "text": "Script completed\nWall time 0.0 seconds\nOutput:\n"},
    {"type": "input_text", "text": "agent-probe tool listing\n" + json.dumps([
        {"name": "mcp__fs__write_file", "description": "Create a new file.\n\nexec tool declaration:\n```ts\n"
         "declare const tools: { mcp__fs__write_file(args: { content: string; path: string; }): "
         "Promise<CallToolResult<{ content: string; }>>; };\n```"},
        {"name": "mcp__fs__read_text_file", "description": "Read a file as text.\n\nexec tool declaration:\n```ts\n"
         "declare const tools: { mcp__fs__read_text_file(args: {\n  // If provided, returns only the first N lines\n"
         "  head?: number;\n  path: string;\n  tail?: number;\n}): Promise<CallToolResult<{ content: string; }>>; };"
         "\n```"},
    ])},
]  # fmt: skip


def codex_request(*items: dict) -> dict:
    prompt = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROMPT}]}
    return {"model": "gpt-6.1-sol", "tools": [], "input": [CODEX_TOOLS, CODEX_DEFERRED, prompt, *items]}


def output_items(request: dict) -> list[dict]:
    [done] = [event for event in responses_api.plan_events(request) if event["type"] == "response.completed"]
    return [item for item in done["response"]["output"] if item["type"] != "reasoning"]


def test_codex_lists_the_deferred_namespace_in_exec_then_calls_the_reader_in_exec_then_answers():
    [search] = output_items(codex_request())
    assert (search["type"], search["name"], search["namespace"]) == ("custom_tool_call", "exec", "functions")
    assert search["input"] == (
        'const found = ALL_TOOLS.filter((tool) => tool.name.startsWith("mcp__fs__"));\n'
        'text("agent-probe tool listing" + "\\n" + JSON.stringify(found));\n'
    )
    listed = {"type": "custom_tool_call_output", "call_id": search["call_id"], "output": LISTING}
    [call] = output_items(codex_request(search, listed))
    # The reader (never write_file), its path parameter from the declaration, the path from the prompt.
    assert call["type"] == "custom_tool_call" and call["input"] == (
        'const result = await tools["mcp__fs__read_text_file"]({"path": "/tmp/parcels/notes.txt"});\n'
        "text(JSON.stringify(result));\n"
    )
    result = {"type": "custom_tool_call_output", "call_id": call["call_id"], "output": [
        {"type": "input_text", "text": '{"content":[{"type":"text","text":"Zanzibar Quokka Express"}]}'}]}  # fmt: skip
    [answer] = output_items(codex_request(search, listed, call, result))
    assert answer["type"] == "message" and answer["content"][0]["text"].startswith("Here is my answer")
    # Over WebSocket a follow-up sends only the new items after previous_response_id, no tools and no prompt: the
    # server carries the conversation's exec and prompt, the listing alone tells the turn after the search, and the
    # call's result alone is answered.
    runner = responses_api.exec_runner(codex_request())

    def follow_up(item: dict) -> list[dict]:
        body = {"model": "gpt-6.1-sol", "previous_response_id": "resp_1", "input": [item]}
        [done] = [event for event in responses_api.plan_events(body, PROMPT, runner=runner)
                  if event["type"] == "response.completed"]  # fmt: skip
        return [item for item in done["response"]["output"] if item["type"] != "reasoning"]

    assert [item.get("input") for item in follow_up(listed)] == [call["input"]]
    assert [item["type"] for item in follow_up(result)] == ["message"]


def test_codex_without_mcp_servers_keeps_its_sleep_call():
    request = codex_request()
    request["input"].remove(CODEX_DEFERRED)
    [call] = output_items(request)
    assert (call["type"], call["name"], call["namespace"]) == ("function_call", "sleep", "clock")


def test_exec_declarations_become_schemas():
    assert code_mode.declared_schema(
        'declare const tools: { t(args: {\n  // a note\n  edits: Array<{ a: string; }>;\n  mode?: "x" | "y";\n'
        "  [key: string]: unknown;\n}): Promise<unknown>; };"
    ) == {
        "type": "object",
        "properties": {"edits": {"type": "array"}, "mode": {"type": "string", "enum": ["x", "y"]}},
        "required": ["edits"],
    }
    assert code_mode.declared_schema("no declaration") == {}


# server-everything's tools as gemini-cli and Chat Completions agents get them: in full, named mcp_<server>_<tool>.
ECHO_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
GET_ENV = {"type": "object", "properties": {}}


def test_gemini_calls_the_servers_echo_with_a_message_once():
    declarations = [{"name": "run_shell_command", "parametersJsonSchema": AGENT_TOOLS["gemini/run_shell_command"]},
                    {"name": "mcp_everything_get-env", "parametersJsonSchema": GET_ENV},
                    {"name": "mcp_everything_echo", "parametersJsonSchema": ECHO_SCHEMA}]  # fmt: skip
    request = {"contents": [{"role": "user", "parts": [{"text": "say hi"}]}],
               "tools": [{"functionDeclarations": declarations}]}  # fmt: skip
    assert gemini_api.choose_tool_call(request) == ("mcp_everything_echo", {"message": "agent-probe MCP call"})
    request["contents"] += [
        {"role": "model", "parts": [{"functionCall": {"name": "mcp_everything_echo", "args": {"message": "x"}}}]},
        {"role": "user", "parts": [{"text": "a later question"}]},
    ]
    # Called once already: a later turn gets the usual shell call.
    assert gemini_api.choose_tool_call(request)[0] == "run_shell_command"


def test_chat_completions_calls_an_mcp_tool_sent_in_full():
    tools = [{"type": "function", "function": {"name": "mcp__parcels__echo_text", "parameters": {
        "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}}]  # fmt: skip
    request = {"messages": [{"role": "user", "content": "say hi"}], "tools": tools}
    assert chat_api.choose_tool_call(request) == ("mcp__parcels__echo_text", {"text": "agent-probe MCP call"})


def test_the_choice_is_harmless():
    def offered(*names: str) -> mcp_calls.McpOffer:
        return mcp_calls.McpOffer(tuple(Tool(name, None, {"type": "object"}) for name in names))

    def chosen(offer: mcp_calls.McpOffer, prompt: str = "say hi") -> str | None:
        step = mcp_calls.next_step(offer, prompt, answering=False)
        return None if step is None else step.name

    # Without a path in the prompt no reader is wanted; with one, the text reader first.
    files = offered("mcp__fs__write_file", "mcp__fs__list_directory", "mcp__fs__read_text_file")
    assert chosen(files) == "mcp__fs__list_directory" and chosen(files, PROMPT) == "mcp__fs__read_text_file"
    # Without a path, one that needs none (server-filesystem's list of the folders it may read).
    assert chosen(offered("mcp__fs__list_directory", "mcp__fs__list_allowed_directories")) == (
        "mcp__fs__list_allowed_directories"
    )
    # Arguments only of the parameters a schema declares: none for a schema that declares none.
    assert mcp_calls.arguments(Tool("mcp__fs__list_allowed_directories", None, {"type": "object"}), PROMPT) == {}
    # A server of tools that change things, or read the environment, is left alone.
    assert chosen(offered("mcp__fs__write_file", "mcp__fs__move_file", "mcp_everything_get-env")) is None
    assert chosen(offered("mcp__parcels__add_numbers", "mcp__parcels__lookup_order")) == "mcp__parcels__lookup_order"
    assert mcp_calls.prompt_path("see /tmp/a-b/c.txt, then /etc") == "/tmp/a-b/c.txt"
    assert mcp_calls.prompt_path("and/or http://x/y") is None


def test_qwen_code_reviews_a_deferred_mcp_tool_with_tool_search_then_calls_it_through_tool_call():
    search = {
        "type": "function",
        "function": {"name": "tool_search", "parameters": AGENT_TOOLS["qwen-code/tool_search"]},
    }
    runner = {"type": "function", "function": {"name": "tool_call", "parameters": AGENT_TOOLS["qwen-code/tool_call"]}}
    shell = {"type": "function", "function": {"name": "run_shell_command",
                                              "parameters": AGENT_TOOLS["qwen-code/run_shell_command"]}}  # fmt: skip
    # Qwen Code names its deferred tools in a reminder, by server (measured).
    reminder = ('<system-reminder>\n### MCP servers\n#### parcels\n- "mcp__parcels__add_numbers": "Add two whole '
                'numbers."\n- "mcp__parcels__echo_text": "Say the text back."\n</system-reminder>')  # fmt: skip
    first = {"messages": [{"role": "user", "content": [{"type": "text", "text": reminder},
                                                       {"type": "text", "text": "say hi"}]}],
             "tools": [shell, search, runner]}  # fmt: skip
    assert chat_api.choose_tool_call(first) == (
        "tool_search",
        {"query": "select:mcp__parcels__echo_text", "max_results": 1},
    )
    # Its answer: the declaration in a <functions> block; the tool list stays as it was.
    declaration = {"name": "mcp__parcels__echo_text", "description": "Say the text back.",
                   "parametersJsonSchema": {"type": "object", "properties": {"text": {"type": "string"}},
                                            "required": ["text"]}}  # fmt: skip
    searched = dict(
        first,
        messages=[
            *first["messages"],
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "tool_search",
                            "arguments": json.dumps({"query": "select:mcp__parcels__echo_text", "max_results": 1}),
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": [
                    {
                        "type": "text",
                        "text": f"<functions>\n<function>{json.dumps(declaration)}</function>\n</functions>",
                    }
                ],
            },
        ],
    )
    assert chat_api.choose_tool_call(searched) == (
        "tool_call",
        {"name": "mcp__parcels__echo_text", "arguments": {"text": "agent-probe MCP call"}},
    )
    called = dict(
        searched,
        messages=[
            *searched["messages"],
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {
                            "name": "tool_call",
                            "arguments": json.dumps(
                                {"name": "mcp__parcels__echo_text", "arguments": {"text": "agent-probe MCP call"}}
                            ),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": 'echo_text: {"text": "agent-probe MCP call"}'},
        ],
    )
    assert chat_api.choose_tool_call(called) is None
