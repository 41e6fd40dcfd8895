"""An asyncio HTTP/1.1 + WebSocket server that answers agents like their model API would."""

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from mitmproxy.net import encoding
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage

from probe.mock import (
    agent_messages,
    chat_api,
    chatgpt_backend,
    code_assist_api,
    code_mode,
    gemini_api,
    messages_api,
    mistral_chat,
    request_ids,
    responses_api,
    tool_schemas,
)
from probe.mock.continuations import Memory

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Side channels agents talk to besides the model; an empty JSON object satisfies them. codex's
# ChatGPT mode uses the first three; Claude Code checks /api/hello and reports telemetry and settings.
BACKEND_CHANNELS = ("/wham/", "/analytics-events/", "/ps/", "/api/hello", "/api/event_logging/", "/api/claude_code/")


@dataclass
class Settings:
    websocket: bool = True  # False answers WebSocket upgrades with 426, forcing agents onto HTTP
    event_delay: float = 0.005  # seconds between streamed events, so streaming is observable
    # A command that tells the agent the task is done, run with its shell-like tool instead of a final answer
    # (see tool_schemas.decide): how an agent that must call a tool every turn ends.
    finish_command: str | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> dict:
        data = encoding.decode(self.body, self.headers.get("content-encoding", "identity")) if self.body else b""
        parsed = json.loads(data or b"{}")
        return parsed if isinstance(parsed, dict) else {}


STATS_PATH = "/__mock/stats"
PROMPT_KEPT = 16_384  # characters of each remembered prompt
GEMINI_METHOD = re.compile(r"/models/([^/:]+):(streamGenerateContent|generateContent)$")  # model, method


@dataclass
class Stats:
    """What the mock served (answered in full), so tests can compare it with what was captured."""

    http_exchanges: int = 0  # HTTP requests answered, WebSocket upgrades and stats requests aside
    websocket_sessions: int = 0
    websocket_exchanges: int = 0  # response.create frames answered through response.completed
    model_responses: int = 0


class MockServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.stats = Stats()
        self.prompts: dict[str, str] = {}  # response id -> prompt, so follow-ups can answer it
        # response id -> sub-agents not yet reported, so a WebSocket follow-up (new items only) waits for them all
        self.waiting: dict[str, int] = {}
        # response id -> the code-mode exec its conversation declared, which a WebSocket follow-up does not re-send
        self.runners: dict[str, code_mode.Runner | None] = {}
        self.memory = Memory()  # the newest answers' contexts, so a continuation is counted whole

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_connection(reader, writer, self.route)

    async def route(self, request: Request, reader, writer) -> bool:
        path = request.path.split("?", 1)[0]
        request_ids.begin_answer(path)
        if path == STATS_PATH:
            await send_json(writer, 200, asdict(self.stats))
            return True
        if request.headers.get("upgrade", "").lower() == "websocket":
            if not self.settings.websocket or not path.endswith("/responses"):
                await send_json(writer, 426, {"error": {"message": "WebSocket transport disabled by the mock"}})
                self.stats.http_exchanges += 1
                return True
            await self.serve_websocket(request, reader, writer)
            return False
        if request.method == "HEAD":
            await send_bytes(writer, 200, b"", "text/plain")
        elif request.method == "POST" and path.endswith("/responses"):
            await self.serve_responses(request, writer)
        elif request.method == "POST" and path.endswith("/v1/messages/count_tokens"):
            await send_json(writer, 200, messages_api.count_tokens(request.json()))
        elif request.method == "POST" and path.endswith("/v1/messages"):
            await self.serve_messages(request, writer)
        elif request.method == "POST" and path.endswith("/chat/completions"):
            await self.serve_chat(request, writer)
        elif code_assist_api.method_of(path):
            await self.serve_code_assist(request, writer, code_assist_api.method_of(path))
        elif request.method == "POST" and GEMINI_METHOD.search(path):
            await self.serve_gemini(request, writer, *GEMINI_METHOD.search(path).groups())
        elif (answer := chatgpt_backend.answer(path, request.headers) or mistral_chat.side_answer(path)) is not None:
            await send_json(writer, 200, answer)
        elif path.endswith("/models"):
            await send_json(writer, 200, {"object": "list", "data": [], "models": []})
        elif any(channel in path for channel in BACKEND_CHANNELS):
            await send_json(writer, 200, {})
        else:
            await send_json(writer, 404, {"error": {"message": f"mock has no route for {request.method} {path}"}})
        self.stats.http_exchanges += 1
        return True

    def finish_command(self, body: dict) -> str | None:
        """The finishing command: the one the mock was given, else one the request's own instructions name."""
        return self.settings.finish_command or tool_schemas.finishing_command_named(body)

    def events_for(self, body: dict) -> list[dict]:
        previous = body.get("previous_response_id")
        hint = self.prompts.get(previous, "") if isinstance(previous, str) else ""
        head = responses_api.cached_head(body)
        counted = self.memory.count(previous, head, body.get("input"))
        waiting = agent_messages.outstanding(body, self.waiting.get(previous, 0) if isinstance(previous, str) else 0)
        runner = responses_api.exec_runner(body) or (self.runners.get(previous) if isinstance(previous, str) else None)
        events = responses_api.plan_events(body, hint, counted, self.finish_command(body), waiting, runner)
        response = events[-1]["response"]
        self.memory.remember(response["id"], head, counted, (response.get("usage") or {}).get("output_tokens", 0))
        # Cut: the scenario reads a prompt's first line and markers near its start, and memory stays bounded.
        self.prompts[response["id"]] = (hint or responses_api.last_user_text(body))[:PROMPT_KEPT]
        self.waiting[response["id"]] = waiting
        self.runners[response["id"]] = runner
        for remembered in (self.prompts, self.waiting, self.runners):
            while len(remembered) > self.memory.size:  # as bounded as the memory: the oldest go first
                del remembered[next(iter(remembered))]
        self.stats.model_responses += 1
        return events

    async def serve_responses(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """OpenAI Responses over HTTP: SSE when the request asks for a stream, else the response as one JSON."""
        body = request.json()
        events = self.events_for(body)
        if body.get("stream"):
            await self.serve_sse(writer, events)
        else:
            await send_json(writer, 200, events[-1]["response"])

    async def serve_messages(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """Anthropic Messages API: SSE when the request asks for a stream, one JSON message otherwise."""
        body = request.json()
        self.stats.model_responses += 1
        if body.get("stream"):
            await self.serve_sse(writer, messages_api.plan_events(body, self.finish_command(body)))
        else:
            await send_json(writer, 200, messages_api.plan_message(body, self.finish_command(body)))

    async def serve_chat(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """OpenAI Chat Completions: `data:` chunks ending in `data: [DONE]`, or one JSON completion; in Mistral's
        shape for Mistral's SDK."""
        body = request.json()
        self.stats.model_responses += 1
        api = mistral_chat if mistral_chat.speaks_mistral(request.headers) else chat_api
        if body.get("stream"):
            chunks = [f"data: {json.dumps(chunk)}\n\n" for chunk in api.plan_chunks(body, self.finish_command(body))]
            await self.stream(writer, [*chunks, "data: [DONE]\n\n"])
        else:
            await send_json(writer, 200, api.plan_completion(body, self.finish_command(body)))

    async def serve_gemini(self, request: Request, writer: asyncio.StreamWriter, model: str, method: str) -> None:
        """Gemini API: `:streamGenerateContent?alt=sse` streams `data:` chunks; `:generateContent` is one JSON."""
        body = request.json()
        self.stats.model_responses += 1
        if method == "streamGenerateContent":
            await self.stream(
                writer,
                [
                    f"data: {json.dumps(chunk)}\n\n"
                    for chunk in gemini_api.plan_chunks(body, model, self.finish_command(body))
                ],
            )
        else:
            await send_json(writer, 200, gemini_api.plan_response(body, model, self.finish_command(body)))

    async def serve_code_assist(self, request: Request, writer: asyncio.StreamWriter, method: str) -> None:
        """Code Assist (`/v1internal:<method>`): the model calls as Gemini's, wrapped; the account calls."""
        body = request.json()
        if method not in code_assist_api.MODEL_METHODS:
            answer = code_assist_api.account_answer(method, body)
            if answer is None:
                await send_json(writer, 404, {"error": {"message": f"mock has no Code Assist method {method}"}})
            else:
                await send_json(writer, 200, answer)
            return
        self.stats.model_responses += 1
        answers = code_assist_api.generate(body, method, self.finish_command(body))
        if method == "streamGenerateContent":
            await self.stream(writer, [f"data: {json.dumps(answer)}\n\n" for answer in answers])
        else:
            await send_json(writer, 200, answers[0])

    async def serve_sse(self, writer: asyncio.StreamWriter, events: list[dict]) -> None:
        """Named events, as the Responses and Messages APIs send them."""
        await self.stream(writer, [f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events])

    async def stream(self, writer: asyncio.StreamWriter, texts: list[str]) -> None:
        """An SSE body, one chunk per event, paced so that streaming is observable."""
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            + request_ids.header_lines()
            + b"transfer-encoding: chunked\r\n\r\n"
        )
        await writer.drain()
        for text in texts:
            chunk = text.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            await asyncio.sleep(self.settings.event_delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def serve_websocket(self, request: Request, reader, writer) -> None:
        connection = await accept_websocket(request, writer)
        self.stats.websocket_sessions += 1
        await serve_messages(reader, writer, connection, lambda text: self.answer_frame(text, connection, writer))

    async def answer_frame(self, text: str, connection: Connection, writer) -> None:
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or body.get("type") != "response.create":
            error = {"type": "error", "error": {"message": "expected a response.create frame"}}
            writer.write(connection.send(TextMessage(data=json.dumps(error))))
            await writer.drain()
            return
        for event in self.events_for(body):
            writer.write(connection.send(TextMessage(data=json.dumps(event))))
            await writer.drain()
            await asyncio.sleep(self.settings.event_delay)
        self.stats.websocket_exchanges += 1


async def serve_connection(reader, writer, route: Callable[[Request, Any, Any], Awaitable[bool]]) -> None:
    """Each request of an HTTP/1.1 connection to `route(request, reader, writer)`, while it says to keep the
    connection open; a client that hangs up or sends what is not HTTP ends it quietly."""
    try:
        while True:
            request = await read_request(reader)
            if request is None or not await route(request, reader, writer):
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def accept_websocket(request: Request, writer) -> Connection:
    """Switches the connection to WebSocket (RFC 6455's handshake) and returns its server side."""
    key = request.headers.get("sec-websocket-key", "")
    accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    writer.write(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        f"sec-websocket-accept: {accept}\r\n".encode()
        + request_ids.header_lines()
        + b"\r\n"
    )
    await writer.drain()
    return Connection(ConnectionType.SERVER)


async def serve_messages(reader, writer, connection: Connection, answer: Callable[[str], Awaitable[None]]) -> None:
    """Each text message the client sends, whole, to `answer`, until the client closes; pings answered. The
    Responses WebSocket protocol is text-only: binary messages are ignored."""
    parts: list[str] = []
    while True:
        data = await reader.read(65536)
        if not data:
            return
        connection.receive_data(data)
        for event in connection.events():
            if isinstance(event, TextMessage):
                parts.append(event.data)
                if event.message_finished:
                    await answer("".join(parts))
                    parts = []
            elif isinstance(event, Ping):
                writer.write(connection.send(event.response()))
            elif isinstance(event, CloseConnection):
                writer.write(connection.send(event.response()))
                await writer.drain()
                return


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    return Request(method, target, headers, body)


async def send_bytes(writer, status: int, body: bytes, content_type: str) -> None:
    reason = {200: "OK", 404: "Not Found", 426: "Upgrade Required"}.get(status, "OK")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n".encode()
        + request_ids.header_lines()
        + b"\r\n"
        + body
    )
    await writer.drain()


async def send_json(writer, status: int, payload: dict) -> None:
    await send_bytes(writer, status, json.dumps(payload).encode(), "application/json")


async def serve(host: str, port: int, settings: Settings, on_ready=None, listening=None) -> None:
    """Serve on host:port, or on `listening`, a socket already bound and listening, if given."""
    mock = MockServer(settings)
    where = {"sock": listening} if listening is not None else {"host": host, "port": port}
    server = await asyncio.start_server(mock.handle_connection, **where)
    if on_ready:
        on_ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()
