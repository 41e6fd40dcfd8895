"""The mock's Gemini API mode, chosen by path, through the real proxies and captured whole."""

import json

from conftest import post_json, read_traffic

from probe.mock import gemini_api
from probe.mock.wording import final_answer_text
from probe.read.sse import parse

STREAM = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
ROUTE = "/v1beta/models/gemini-test-lite:generateContent"
SHELL = {
    "name": "run_shell_command",
    "description": "Runs a shell command.",
    "parametersJsonSchema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}
PROMPT = {
    "role": "user",
    "parts": [
        {"text": "<session_context>\nThis is the Gemini CLI.\n</session_context>"},
        {"text": "write a hello world"},
    ],
}
KEY = {"x-goog-api-key": "AIza" + "SyTest123FakeKeyForTheMockOnly000000"}


def stream(base_url: str, body: dict) -> list[dict]:
    status, headers, data = post_json(base_url, STREAM, body, KEY)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = parse(data.decode())
    assert all(event.name is None for event in events)  # the API names no events: `data:` lines only
    return [event.data for event in events]


def parts_of(chunks: list[dict]) -> list[dict]:
    return [part for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]]


def test_function_call_turn_then_final_answer_to_its_function_response(proxied):
    start, run = proxied
    proxies = start("mock")
    base = proxies.urls["model"]
    request = {
        "contents": [PROMPT],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are Gemini CLI."}]},
        "tools": [{"functionDeclarations": [{"name": "list_directory", "description": "Lists."}, SHELL]}],
        "generationConfig": {"temperature": 1, "thinkingConfig": {"includeThoughts": True}},
    }
    first = stream(base, request)
    parts = parts_of(first)
    assert parts[0] == {"text": gemini_api.THOUGHT.format(name="run_shell_command"), "thought": True}
    assert parts[1] == {"text": "Let me run run_shell_command first."}
    call = parts[2]["functionCall"]
    assert call["name"] == "run_shell_command" and call["args"] == {"command": "echo agent-probe tool call"}
    assert call["id"].startswith("call_") and len(parts[2]["thoughtSignature"]) == 128
    assert [chunk["candidates"][0].get("finishReason") for chunk in first] == [None, None, "STOP"]
    usage = first[-1]["usageMetadata"]
    assert usage["thoughtsTokenCount"] > 0 and "cachedContentTokenCount" not in usage
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    assert {chunk["modelVersion"] for chunk in first} == {"gemini-test"}
    assert len({chunk["responseId"] for chunk in first}) == 1

    follow_up = dict(
        request,
        contents=[
            PROMPT,
            {"role": "model", "parts": parts[1:]},  # gemini-cli leaves the thought out of its history
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "name": "run_shell_command",
                            "id": call["id"],
                            "response": {"output": "agent-probe tool call"},
                        }
                    }
                ],
            },
        ],
    )
    final = stream(base, follow_up)
    assert "".join(part["text"] for part in parts_of(final)) == final_answer_text("write a hello world")
    assert len(final) > 5  # word by word
    assert final[-1]["candidates"][0]["finishReason"] == "STOP"
    assert final[-1]["usageMetadata"]["cachedContentTokenCount"] > 0
    proxies.stop()
    entries = read_traffic(run)
    assert [entry["request"]["body"] for entry in entries] == [request, follow_up]
    assert [entry["request"]["path"] for entry in entries] == [STREAM, STREAM]
    assert all(entry["complete"] for entry in entries)


def test_routing_call_gets_json_matching_its_schema(proxied):
    start, run = proxied
    proxies = start("mock")
    schema = {
        "type": "OBJECT",
        "properties": {
            "reasoning": {"type": "STRING"},
            "model_choice": {"type": "STRING", "enum": ["flash", "pro"]},
            "complexity_score": {"type": "INTEGER", "description": "Complexity score from 1-100."},
            "unrequired": {"type": "STRING"},
        },
        "required": ["reasoning", "model_choice", "complexity_score"],
    }
    request = {
        "contents": [PROMPT],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    status, headers, data = post_json(proxies.urls["model"], ROUTE, request, KEY)
    answer = json.loads(data)
    assert status == 200 and headers["content-type"] == "application/json"
    candidate = answer["candidates"][0]
    assert candidate["finishReason"] == "STOP" and answer["modelVersion"] == "gemini-test-lite"
    choice = json.loads(candidate["content"]["parts"][0]["text"])
    assert set(choice) == {"reasoning", "model_choice", "complexity_score"}
    assert choice["model_choice"] == "flash" and choice["complexity_score"] >= 1 and choice["reasoning"]
    proxies.stop()
    assert [entry["response"]["status"] for entry in read_traffic(run)] == [200]


def test_declared_calls_only_older_schema_field_and_plain_answers():
    # No harmless tool declared: the mock answers in words (it never calls a tool the request did not declare),
    # unless the request requires a call (mode ANY): then the declared tool, with arguments its schema takes.
    request = {"contents": [PROMPT], "tools": [{"functionDeclarations": [{"name": "write_file"}]}]}
    assert "functionCall" not in parts_of(gemini_api.plan_chunks(request, "m"))[-1]
    forced = dict(request, toolConfig={"functionCallingConfig": {"mode": "ANY"}})
    call = parts_of(gemini_api.plan_chunks(forced, "m"))[-1]["functionCall"]
    assert (call["name"], call["args"]) == ("write_file", {})
    old_schema = {"contents": [PROMPT], "generationConfig": {"responseSchema": {"type": "object", "properties": {}}}}
    assert json.loads(gemini_api.plan_response(old_schema, "m")["candidates"][0]["content"]["parts"][0]["text"]) == {}
    # Without tools, and without a schema, the answer is the final text at once, in one response.
    whole = gemini_api.plan_response({"contents": [PROMPT]}, "m")
    assert whole["candidates"][0]["content"]["parts"] == [{"text": final_answer_text("write a hello world")}]
