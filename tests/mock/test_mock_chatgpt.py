"""The mock as the ChatGPT backend codex talks to with a ChatGPT login: the workspace check, and its model turns at
`/backend-api/codex/responses` with zstd-compressed bodies, captured decoded and read as the Responses API."""

import http.client
import json

from conftest import WebSocketClient, post_json, read_traffic
from mitmproxy.net import encoding

from probe.apis.openai_responses import reader as openai_responses
from probe.apis.recognise import recognised
from probe.mock import chatgpt_backend
from probe.read.sse import parse
from probe.read.traffic import from_entry
from probe.redact.masking import fingerprint

ACCOUNT = "acct-stand-in-4f2a"
TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.stand-in"
HEADERS = {"authorization": f"Bearer {TOKEN}", "chatgpt-account-id": ACCOUNT}
TOOLS = [{"type": "function", "name": "sleep", "parameters": {"type": "object", "properties": {}}}]
PROMPT = {
    "type": "message",
    "role": "user",
    "content": [{"type": "input_text", "text": "write a hello world function"}],
}


def get_json(base_url: str, path: str, headers: dict) -> tuple[int, dict]:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    status, data = response.status, json.loads(response.read())
    connection.close()
    return status, data


def post_zstd(base_url: str, body: dict) -> list[dict]:
    """A model turn as codex sends it with a ChatGPT login: the JSON body compressed with zstd."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    compressed = encoding.encode(json.dumps(body).encode(), "zstd")
    headers = {"content-type": "application/json", "content-encoding": "zstd", **HEADERS}
    connection.request("POST", "/backend-api/codex/responses", compressed, headers)
    response = connection.getresponse()
    data = response.read().decode()
    connection.close()
    assert response.status == 200 and response.getheader("content-type") == "text/event-stream"
    return [event.data for event in parse(data)]


def test_the_workspace_check_lists_the_account_the_request_names():
    listed = chatgpt_backend.answer("/backend-api/wham/accounts/check", {"chatgpt-account-id": ACCOUNT})
    assert listed == {
        "accounts": [
            {
                "id": ACCOUNT,
                "workspace_backend_origin": "https://chatgpt.com",
                "account_routing_override": "NO_CONSTRAINT",
            }
        ]
    }
    assert chatgpt_backend.answer("/backend-api/wham/accounts/check", {}) == {"accounts": []}
    assert chatgpt_backend.answer("/backend-api/wham/usage", {"chatgpt-account-id": ACCOUNT}) is None


def test_codex_responses_with_zstd_bodies_are_served_captured_decoded_and_read(proxied):
    start, run = proxied
    proxies = start("mock", "websocket")
    model, backend = proxies.urls["model"], proxies.urls["backend"]
    status, accounts = get_json(backend, "/backend-api/wham/accounts/check", HEADERS)
    assert status == 200 and [entry["id"] for entry in accounts["accounts"]] == [ACCOUNT]
    status, _, data = post_json(backend, "/backend-api/wham/usage", {}, HEADERS)
    assert (status, json.loads(data)) == (200, {})

    request = {"model": "gpt-test", "stream": True, "tools": TOOLS, "input": [PROMPT]}
    first = post_zstd(model, request)
    done = [event["item"] for event in first if event["type"] == "response.output_item.done"]
    call = next(item for item in done if item["type"] != "reasoning")
    assert call["type"] == "function_call" and call["name"] == "sleep"
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "slept"}
    follow_up = dict(request, input=[PROMPT, call, output])
    final = post_zstd(model, follow_up)
    completed = final[-1]["response"]
    assert final[-1]["type"] == "response.completed" and completed["usage"]["input_tokens"] > 0
    text = completed["output"][-1]["content"][0]["text"]
    assert text.startswith('Here is my answer to "write a hello world function"')
    # The same path over WebSocket, as codex tries first.
    socket = WebSocketClient(model, "/backend-api/codex/responses", HEADERS)
    socket.send({"type": "response.create", **request})
    events = socket.until("response.completed")
    socket.close()
    assert [item["type"] for item in events[-1]["response"]["output"]][-1] == "function_call"
    proxies.stop()

    entries = read_traffic(run)
    posts = [entry for entry in entries if entry["request"]["method"] == "POST" and "codex" in entry["request"]["path"]]
    assert [entry["request"]["body"] for entry in posts] == [request, follow_up]  # decoded, whole
    assert {entry["request"]["content_encoding"] for entry in posts} == {"zstd"}
    headers = dict(posts[0]["request"]["headers"])
    assert headers["chatgpt-account-id"].startswith("[REDACTED sha256:")
    assert headers["authorization"].startswith("[REDACTED sha256:")
    assert TOKEN not in (run / "traffic.jsonl").read_text()
    # The account id is masked wherever it is, by one fingerprint: in its header and as the id of the account the
    # workspace check's answer lists.
    assert not [entry["request"]["path"] for entry in entries if ACCOUNT in json.dumps(entry)]
    check = next(entry for entry in entries if entry["request"]["path"] == "/backend-api/wham/accounts/check")
    assert check["response"]["body"]["accounts"][0]["id"] == headers["chatgpt-account-id"] == fingerprint(ACCOUNT)
    readers = [recognised(from_entry(entry, number, number)) for number, entry in enumerate(entries, 1)]
    model_turns = [reader for entry, reader in zip(entries, readers) if "codex/responses" in entry["request"]["path"]]
    assert model_turns == [openai_responses] * 3
    assert [reader for entry, reader in zip(entries, readers) if "/wham/" in entry["request"]["path"]] == [None, None]
