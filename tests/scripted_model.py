"""A scripted model for tests, independent of probe.mock: an OpenAI Chat Completions server that, whatever it is
asked, has the agent run `ls` and then write hello.py with the agent's own shell tool, and then answers in words.

It shares no code with the mock, so a test driving a real agent through it checks the agent, the proxy and the
reports against a second reading of the API. It answers streamed requests as SSE (with a usage chunk when the
request asks for one, as the API does) and others as one JSON object. A request that declares no shell-like tool
(aider's, which edits files from the answer's text) is answered, the first time, with an edit that creates
hello.py, in the SEARCH/REPLACE blocks of aider's "diff" edit format.
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HELLO_TEXT = 'print("hello from the scripted model")'
LS_COMMAND = "ls"
WRITE_COMMAND = f"printf '%s\\n' '{HELLO_TEXT}' > hello.py"
FINAL_ANSWER = "Done: hello.py prints a greeting."
COMMAND_NAMES = ("command", "cmd", "commands", "script")


@dataclass
class Recorded:
    """What one request carried: its path, its headers (lower-cased names) and its JSON body."""

    path: str
    headers: dict[str, str]
    body: dict = field(default_factory=dict)


def shell_tool(tools: list) -> tuple[str, str, bool] | None:
    """The first declared tool whose parameters take a command: (tool name, parameter, takes a list of strings)."""
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        properties = (function.get("parameters") or {}).get("properties") or {}
        for name in COMMAND_NAMES:
            declared = properties.get(name)
            if not isinstance(declared, dict):
                continue
            if declared.get("type") == "string":
                return function["name"], name, False
            if declared.get("type") == "array" and (declared.get("items") or {}).get("type") == "string":
                return function["name"], name, True
    return None


def command_value(command: str, parameter: str, as_list: bool) -> object:
    """The argument that runs `command`: a string, a list of commands (`commands`), or an argv for bash."""
    if not as_list:
        return command
    return [command] if parameter == "commands" else ["bash", "-lc", command]


def results_so_far(messages: list) -> int:
    """How many tool results the conversation holds: the script's step."""
    return sum(1 for message in messages if isinstance(message, dict) and message.get("role") in ("tool", "function"))


def edit_creating_hello() -> str:
    """An edit that creates hello.py, as a SEARCH/REPLACE block whose SEARCH part is empty: the file's name on a
    line, then the block in a fence."""
    return (
        f"I will create hello.py.\n\nhello.py\n```python\n<<<<<<< SEARCH\n=======\n{HELLO_TEXT}\n>>>>>>> REPLACE\n```\n"
    )


def next_turn(body: dict, edited: bool) -> tuple[str, tuple[str, str] | None]:
    """(text, (tool name, JSON arguments) or None) for this request; `edited`: a request without tools was
    answered with the edit before."""
    messages = body.get("messages") or []
    tool = shell_tool(body.get("tools") or [])
    if tool is None:
        return (FINAL_ANSWER, None) if edited else (edit_creating_hello(), None)
    step = results_so_far(messages)
    if step >= 2:
        return FINAL_ANSWER, None
    name, parameter, as_list = tool
    command = LS_COMMAND if step == 0 else WRITE_COMMAND
    return f"Running {command.split()[0]}.", (name, json.dumps({parameter: command_value(command, parameter, as_list)}))


def usage(body: dict, completion_tokens: int) -> dict:
    prompt_tokens = max(1, len(json.dumps(body.get("messages"))) // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class ScriptedModel:
    """The server and what it was sent, request by request."""

    def __init__(self, streamed=None):
        # Given, a streamed request is answered with the pieces it returns for the request's body, (content deltas,
        # a `shell` call's argument deltas), instead of the script's next turn.
        self.streamed = streamed
        self.requests: list[Recorded] = []
        self.calls = 0
        self.edited = False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # the test reads self.requests, not a log
                pass

            def do_GET(self):
                model.record(self.path, dict(self.headers), {})
                self.send_error(404)

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                model.record(self.path, dict(self.headers), body if isinstance(body, dict) else {})
                if not self.path.split("?")[0].endswith("/chat/completions") or not isinstance(body, dict):
                    self.send_error(404)
                    return
                with model.lock:
                    edited, model.edited = model.edited, model.edited or shell_tool(body.get("tools") or []) is None
                if model.streamed is not None and body.get("stream"):
                    contents, arguments = model.streamed(body)
                    self.stream(body, contents, ("shell", arguments) if arguments else None)
                    return
                text, call = next_turn(body, edited)
                if body.get("stream"):
                    pieces = re.findall(r"\s*\S+\s*", text)  # word by word, every character kept
                    half = len(call[1]) // 2 if call else 0
                    self.stream(body, pieces, (call[0], [call[1][:half], call[1][half:]]) if call else None)
                else:
                    self.whole(body, text, call)

            def whole(self, body, text, call):
                message = {"role": "assistant", "content": text}
                if call:
                    message["tool_calls"] = [model.tool_call(call)]
                answer = model.head(body, "chat.completion") | {
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
                    "usage": usage(body, len(text.split())),
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def stream(self, body, pieces: list[str], call: tuple[str, list[str]] | None):
                """The text's pieces as content deltas, then the call's arguments' pieces as its deltas."""
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                head = model.head(body, "chat.completion.chunk")

                def send(choice_delta: dict, finish_reason=None) -> None:
                    chunk = head | {"choices": [{"index": 0, "delta": choice_delta, "finish_reason": finish_reason}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                send({"role": "assistant", "content": ""})
                for piece in pieces:
                    send({"content": piece})
                if call:
                    opening = model.tool_call((call[0], "")) | {"index": 0}
                    send({"tool_calls": [opening]})
                    for piece in call[1]:
                        send({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                send({}, "tool_calls" if call else "stop")
                if (body.get("stream_options") or {}).get("include_usage"):
                    last = head | {"choices": [], "usage": usage(body, len("".join(pieces).split()))}
                    self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler

    def record(self, path: str, headers: dict, body: dict) -> None:
        with self.lock:
            self.requests.append(Recorded(path, {name.lower(): value for name, value in headers.items()}, body))

    def tool_call(self, call: tuple[str, str]) -> dict:
        with self.lock:
            self.calls += 1
            number = self.calls
        function = {"name": call[0], "arguments": call[1]}
        return {"id": f"call_scripted_{number}", "type": "function", "function": function}

    @staticmethod
    def head(body: dict, kind: str) -> dict:
        return {"id": f"chatcmpl-scripted-{time.time_ns()}", "object": kind, "created": int(time.time()),
                "model": body.get("model") or "scripted"}  # fmt: skip

    def completions(self) -> list[Recorded]:
        """The Chat Completions requests, in the order they came."""
        return [request for request in self.requests if request.path.split("?")[0].endswith("/chat/completions")]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted_model():
    """A running scripted model (ScriptedModel): its `url`, and the `requests` it was sent."""
    with ScriptedModel() as model:
        yield model
