"""Every tool call is matched to the result that answers it, over all four APIs: by id; by name and order where the
API sends calls without ids (Gemini, the Chat API's legacy functions), parallel calls of one tool and calls answered
turns later included; and a tool the API runs itself (web search, web fetch, code execution) answered in the same
answer that asked for it."""

from conftest import captured_exchange
from test_agents import report_of

from probe.apis.generic import report as generic

GEMINI = "/v1beta/models/gemini-2.5-pro:generateContent"


def exchange(number, path, body, answer):
    start = 1000.0 + number * 10
    timing = {"start": start, "first_byte": start + 0.5, "end": start + 1.0}
    json_answer = (("content-type", "application/json"),)
    return captured_exchange(path, body, answer, response_headers=json_answer, timing=timing, id=f"f{number}")


def gemini_call(name, path):
    return {"functionCall": {"name": name, "args": {"path": path}}}


def gemini_result(name, text, made_up_id=None):
    answer = {"name": name, "response": {"output": text}}
    return {"functionResponse": answer | ({"id": made_up_id} if made_up_id else {})}


def gemini_answer(parts):
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5}}  # fmt: skip


def calls_of(records):
    return [record for record in records if record["record"] == "tool_call"]


def test_gemini_calls_without_ids_are_answered_by_name_and_order_across_turns(tmp_path):
    user = {"role": "user", "parts": [{"text": "Read a and b, list the folder."}]}
    asked = {"role": "model", "parts": [gemini_call("read_file", "a"), gemini_call("read_file", "b"),
                                        gemini_call("ls", ".")]}  # fmt: skip
    # The agent answers the two reads first (one with an id of its own), the listing a turn later.
    reads = {"role": "user", "parts": [gemini_result("read_file", "AAAA", "read_file-123"),
                                       gemini_result("read_file", "BBBBBBBB")]}  # fmt: skip
    again = {"role": "model", "parts": [gemini_call("read_file", "c")]}
    late = {"role": "user", "parts": [gemini_result("ls", "a b c"), gemini_result("read_file", "CC")]}
    exchanges = [
        exchange(1, GEMINI, {"contents": [user]}, gemini_answer(asked["parts"])),
        exchange(2, GEMINI, {"contents": [user, asked, reads]}, gemini_answer(again["parts"])),
        exchange(3, GEMINI, {"contents": [user, asked, reads, again, late]}, gemini_answer([{"text": "Done."}])),
    ]
    report, records = report_of(tmp_path, exchanges, generic)
    found = [(call["tool"], call["arguments"], call["asked_in"], call["answered_in"], call["result_size"])
             for call in calls_of(records)]  # fmt: skip
    assert sorted(found) == [
        ("ls", '{"path":"."}', 1, 3, 5),
        ("read_file", '{"path":"a"}', 1, 2, 4),
        ("read_file", '{"path":"b"}', 1, 2, 8),
        ("read_file", '{"path":"c"}', 2, 3, 2),
    ]
    assert "| `read_file` | 3 | 3 | 0 |" in report and "| `ls` | 1 | 1 | 0 |" in report


def test_legacy_chat_functions_are_answered_by_the_function_message_that_names_them(tmp_path):
    ask = [{"role": "user", "content": "Weather?"}]
    function_call = {"name": "get_weather", "arguments": '{"city": "Oslo"}'}
    asking = {"role": "assistant", "content": None, "function_call": function_call}
    answer = {"id": "c1", "object": "chat.completion", "model": "gpt-4o",
              "choices": [{"index": 0, "finish_reason": "function_call", "message": asking}]}  # fmt: skip
    history = ask + [{"role": "assistant", "content": None, "function_call": function_call},
                     {"role": "function", "name": "get_weather", "content": "sunny"}]  # fmt: skip
    done = {"id": "c2", "object": "chat.completion", "model": "gpt-4o", "choices": [{"index": 0, "finish_reason":
            "stop", "message": {"role": "assistant", "content": "Sunny."}}]}  # fmt: skip
    exchanges = [
        exchange(1, "/v1/chat/completions", {"model": "gpt-4o", "messages": ask}, answer),
        exchange(2, "/v1/chat/completions", {"model": "gpt-4o", "messages": history}, done),
    ]
    _, records = report_of(tmp_path, exchanges, generic)
    [call] = calls_of(records)
    assert (call["tool"], call["call_id"], call["answered_in"], call["result_size"]) == ("get_weather", None, 2, 5)


def test_tools_the_api_runs_itself_are_answered_in_the_answer_that_asked(tmp_path):
    searched = {"type": "web_search_result", "url": "https://example.org", "title": "Example"}
    content = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [searched]},
        {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_fetch", "input": {"url": "https://example.org"}},
        {"type": "web_fetch_tool_result", "tool_use_id": "srvtoolu_2", "content": {"type": "web_fetch_result"}},
        {"type": "server_tool_use", "id": "srvtoolu_3", "name": "memory", "input": {}},
        {"type": "memory_tool_result", "tool_use_id": "srvtoolu_3", "content": []},  # a tool newer than the reader
        {"type": "tool_use", "id": "toolu_4", "name": "Bash", "input": {"command": "ls"}},
    ]
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": content,
              "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}}  # fmt: skip
    ask = [{"role": "user", "content": "Search."}]
    history = ask + [
        {"role": "assistant", "content": content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_4", "content": "ok"}]},
    ]
    outputs = [{"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}},
               {"type": "code_interpreter_call", "id": "ci_1", "status": "completed", "code": "1", "outputs": None},
               {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"}]  # fmt: skip
    responses = {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-5", "output": outputs,
                 "usage": {"input_tokens": 10, "output_tokens": 5}}  # fmt: skip
    exchanges = [
        exchange(1, "/v1/messages", {"model": "claude-sonnet-4-5", "messages": ask}, answer),
        exchange(2, "/v1/messages", {"model": "claude-sonnet-4-5", "messages": history}, answer | {"content": []}),
        exchange(3, "/v1/responses", {"model": "gpt-5", "input": "Search."}, responses),
    ]
    _, records = report_of(tmp_path, exchanges, generic)
    found = {call["call_id"]: (call["answered_in"], call["wait_ms"]) for call in calls_of(records)}
    assert found == {"srvtoolu_1": (1, None), "srvtoolu_2": (1, None), "srvtoolu_3": (1, None),
                     "toolu_4": (2, 9000.0), "ws_1": (3, None), "ci_1": (3, None), "call_1": (None, None)}  # fmt: skip
