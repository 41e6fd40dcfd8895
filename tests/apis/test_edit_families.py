"""`invoke resend`'s edits, made in each API family's own places: instructions replaced or removed, a tool dropped or
added, history items dropped (instructions not counted), the model (Gemini's in the URL path) and sampling changed,
any field set or removed by a JSON path; an edit that does not apply is one line naming it, and the request given
is never changed."""

import copy
import json

import pytest
from conftest import PROJECT_ROOT

from probe.apis.edit_families import apply_edits, family_of
from probe.apis.request_edits import Edit
from probe.common.errors import UsageError

ANTHROPIC = {"model": "m1", "system": [{"type": "text", "text": "be brief"}], "max_tokens": 100,
             "tools": [{"name": "Bash", "input_schema": {}}, {"name": "Read", "input_schema": {}}],
             "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                          {"role": "user", "content": "c"}]}  # fmt: skip
RESPONSES = {"model": "m1", "instructions": "rules",
             "input": [{"role": "developer", "content": "dev"}, {"role": "user", "content": "a"},
                       {"type": "function_call", "name": "shell"}, {"type": "function_call_output", "output": "x"}],
             "tools": [{"type": "function", "name": "shell"}, {"type": "web_search"}]}  # fmt: skip
CHAT = {"model": "m1", "max_completion_tokens": 50,
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "a"}],
        "tools": [{"type": "function", "function": {"name": "read_file"}}]}  # fmt: skip
GEMINI = {"systemInstruction": {"parts": [{"text": "sys"}]},
          "contents": [{"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"text": "b"}]}],
          "tools": [{"functionDeclarations": [{"name": "ls"}, {"name": "grep"}]}, {"googleSearch": {}}],
          "generationConfig": {"temperature": 1}}  # fmt: skip
GEMINI_PATH = "/v1beta/models/gemini-2:streamGenerateContent?alt=sse"


def edited(api: str, body: dict, *edits: tuple, path: str = "/v1/x", tools: dict | None = None) -> tuple[str, dict]:
    before = copy.deepcopy(body)
    made = apply_edits(family_of(api), path, body, [Edit(*edit) for edit in edits], tools or {})
    assert body == before  # the recorded request is left as it was
    return made


def test_anthropic_messages():
    _, body = edited("anthropic.messages", ANTHROPIC, ("drop_tool", "Bash"), ("instructions", "new"),
                     ("drop_history", "1-2"), ("model", "m2"), ("temperature", "0.5"), ("max_tokens", "7"),
                     ("add_tool", "t"), tools={"t": {"name": "Grep"}})  # fmt: skip
    assert body == {"model": "m2", "system": "new", "max_tokens": 7, "temperature": 0.5,
                    "tools": [{"name": "Read", "input_schema": {}}, {"name": "Grep"}],
                    "messages": [{"role": "user", "content": "c"}]}  # fmt: skip
    _, body = edited("anthropic.messages", ANTHROPIC, ("no_instructions",))
    assert "system" not in body
    # A system message amid the messages (Claude Code sends one) instructs: it is not history, and goes with them.
    mixed = dict(
        ANTHROPIC, messages=[ANTHROPIC["messages"][0], {"role": "system", "content": "env"}, *ANTHROPIC["messages"][1:]]
    )
    family = family_of("anthropic.messages")
    assert family.history_indexes(mixed) == [0, 2, 3] and family.instruction_size(mixed) == len("be briefenv")
    _, body = edited("anthropic.messages", mixed, ("drop_history", "2"))
    assert [message["content"] for message in body["messages"]] == ["a", "env", "c"]
    _, body = edited("anthropic.messages", mixed, ("instructions", "new"))
    assert body["system"] == "new" and body["messages"] == ANTHROPIC["messages"]


def test_openai_responses_counts_its_instructions_apart_from_the_history():
    family = family_of("openai.responses")
    assert family.history_indexes(RESPONSES) == [1, 2, 3] and family.instruction_size(RESPONSES) == len("rulesdev")
    _, body = edited("openai.responses", RESPONSES, ("drop_history", "2-"), ("drop_tool", "web_search"),
                     ("max_tokens", "9"))  # fmt: skip
    assert body["input"] == [{"role": "developer", "content": "dev"}, {"role": "user", "content": "a"}]
    assert body["tools"] == [{"type": "function", "name": "shell"}] and body["max_output_tokens"] == 9
    _, body = edited("openai.responses", RESPONSES, ("instructions", "only this"))
    assert body["instructions"] == "only this" and [item.get("role") for item in body["input"]] == ["user", None, None]
    _, body = edited("openai.responses", RESPONSES, ("no_instructions",))
    assert "instructions" not in body and len(body["input"]) == 3


def test_openai_chat_puts_instructions_in_a_system_message_and_keeps_its_token_field():
    _, body = edited("openai.chat_completions", CHAT, ("instructions", "new"), ("max_tokens", "5"),
                     ("drop_tool", "read_file"), ("top_p", "0.9"))  # fmt: skip
    assert body["messages"] == [{"role": "system", "content": "new"}, {"role": "user", "content": "a"}]
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body and body["top_p"] == 0.9
    assert body["tools"] == []


def test_gemini_names_the_model_in_the_path_and_declares_tools_in_groups():
    path, body = edited("gemini.generate_content", GEMINI, ("model", "gemini-3"), ("drop_tool", "ls"),
                        ("drop_tool", "googleSearch"), ("add_tool", "t"), ("top_k", "4"), ("drop_history", "2"),
                        ("instructions", "hi"), path=GEMINI_PATH, tools={"t": {"name": "cat"}})  # fmt: skip
    assert path == "/v1beta/models/gemini-3:streamGenerateContent?alt=sse"
    assert body["tools"] == [{"functionDeclarations": [{"name": "grep"}, {"name": "cat"}]}]
    assert body["generationConfig"] == {"temperature": 1, "topK": 4}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "a"}]}]
    assert body["systemInstruction"] == {"parts": [{"text": "hi"}]}
    path, _ = edited("gemini.generate_content", GEMINI, ("model", "tuned/x?y"), path=GEMINI_PATH)
    assert path == "/v1beta/models/tuned%2Fx%3Fy:streamGenerateContent?alt=sse"  # one segment, whatever it holds
    # Code Assist wraps the request and names the model in the body.
    wrapped = {"model": "gemini-2", "project": "p", "request": GEMINI}
    path, body = edited("gemini.generate_content", wrapped, ("model", "gemini-3"), ("no_instructions",), path="/x")
    assert path == "/x" and body["model"] == "gemini-3" and "systemInstruction" not in body["request"]


def test_set_and_unset_by_a_json_path():
    _, body = edited("anthropic.messages", ANTHROPIC, ("set", 'messages[-1].content="z"'),
                     ("set", "metadata.user.id=3"), ("unset", "tools[0]"), ("unset", "max_tokens"))  # fmt: skip
    assert body["messages"][-1] == {"role": "user", "content": "z"} and body["metadata"] == {"user": {"id": 3}}
    assert body["tools"] == [{"name": "Read", "input_schema": {}}] and "max_tokens" not in body


@pytest.mark.parametrize(
    ("api", "body", "edit", "said"),
    [
        ("anthropic.messages", ANTHROPIC, ("drop_tool", "Nope"), "--drop-tool Nope: the request has no tool 'Nope' "
         "(its tools: Bash, Read)"),
        ("anthropic.messages", ANTHROPIC, ("drop_history", "4"), "--drop-history 4: the request's history has 3 items"),
        ("anthropic.messages", ANTHROPIC, ("drop_history", "2-x"), "--drop-history '2-x': give item numbers from 1"),
        ("openai.chat_completions", CHAT, ("top_k", "3"), "--top-k: the OpenAI Chat Completions API has no such"),
        ("gemini.generate_content", {"contents": []}, ("no_instructions",), "--no-instructions: the request has no "
         "instructions to remove"),
        ("gemini.generate_content", GEMINI, ("model", "x"), "--model x: the request's path names no model"),
        ("anthropic.messages", ANTHROPIC, ("set", "messages[7].content=1"), "--set messages[7].content=1: the "
         "request has no item [7] there"),
        ("anthropic.messages", ANTHROPIC, ("set", "a..b=1"), "--set/--unset: 'a..b' is not a JSON path"),
        ("openai.responses", {"input": "one string"}, ("drop_history", "1"), "--drop-history 1: the request's input "
         "is one string"),
    ],
)  # fmt: skip
def test_an_edit_that_does_not_apply_is_one_line_naming_it(api, body, edit, said):
    with pytest.raises(UsageError) as raised:
        edited(api, body, edit)
    assert str(raised.value).startswith(said) and "\n" not in str(raised.value)


def codex_request() -> dict:
    """The first Responses request of the bundled codex sample over HTTP, as recorded: its tools declared in an
    `additional_tools` input item, in namespaces."""
    for line in (PROJECT_ROOT / "data/codex/20261125-123532-sample-http/traffic.jsonl").read_text().splitlines():
        body = json.loads(line)["request"].get("body")
        if isinstance(body, dict) and isinstance(body.get("input"), list):
            return body
    raise AssertionError("no Responses request in the sample")


def test_codexs_tools_in_an_additional_tools_item_are_listed_dropped_and_kept_by_instruction_edits():
    body = codex_request()
    declared = body["input"][0]
    assert declared["type"] == "additional_tools" and declared["role"] == "developer"
    family = family_of("openai.responses")
    assert {"exec", "sleep", "functions"} <= set(family.tool_names(body))
    _, dropped = edited("openai.responses", body, ("drop_tool", "exec"))
    assert "exec" not in family.tool_names(dropped) and "sleep" in family.tool_names(dropped)
    assert dropped["input"][1:] == body["input"][1:]  # (nothing but the tool)
    # new instructions replace the developer messages, never the tools' item; history counts only what converses
    _, renewed = edited("openai.responses", body, ("instructions", "Be terse."), ("drop_history", "1"))
    assert renewed["input"][0] == declared and renewed["instructions"] == "Be terse."
    conversing = [item for item in body["input"] if item.get("type") == "message" and item["role"] != "developer"]
    assert [item for item in renewed["input"][1:]] == conversing[1:]


def test_a_request_sent_as_one_string_is_sized_and_only_its_item_edits_are_refused():
    family = family_of("openai.responses")
    body = {"model": "m1", "input": "hello"}
    assert family.instruction_size(body) == 0 and family.history_indexes(body) == []
    assert edited("openai.responses", body, ("model", "m2"))[1] == {"model": "m2", "input": "hello"}
    with pytest.raises(UsageError, match="one string"):
        edited("openai.responses", body, ("drop_history", "1"))


@pytest.mark.parametrize("given", ["temperature=NaN", "top_p=Infinity", "x=-Infinity"])
def test_json_without_nan_or_infinity(given):
    with pytest.raises(UsageError, match="is not JSON"):
        edited("openai.responses", RESPONSES, ("set", given))
