"""The replay's stand-in upstream: an asyncio HTTP/1.1 + WebSocket server that answers each request with the
recorded answer it matches, as it was recorded (status, headers, body, and the pacing of its chunks unless
`--fast`), and a request that matches none with an error in its API's own shape. It says on stdout, one JSON
object a line, each request that diverged, and when stopped, what it served."""

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import threading
from http import HTTPStatus
from pathlib import Path

from wsproto.connection import Connection
from wsproto.events import CloseConnection, TextMessage

from probe.analyse.volatile import workdir_place
from probe.common import cli
from probe.common.errors import ProbeError, UsageError, run_main, warn
from probe.common.paths import display
from probe.mock.server import Request, accept_websocket, serve_connection, serve_messages
from probe.read.traffic import Body
from probe.replay.fork_point import Fork, fork_point
from probe.replay.keys import request_key, request_reader
from probe.replay.matching import Divergence, Matcher
from probe.replay.recorded import Answer, recorded_answers
from probe.replay.threads import Thread, ThreadNames
from probe.runs.folders import resolve_run


def body_of(request: Request) -> Body:
    try:
        value = request.json() if request.body else None
    except (ValueError, UnicodeDecodeError):
        return Body(request.body.decode("latin-1"), "text")
    return Body(value, "json") if value is not None else Body(None, "empty")


class ReplayServer:
    def __init__(self, matcher: Matcher, fast: bool, workdir: str, fork: Fork | None = None) -> None:
        self.matcher = matcher
        self.fork = fork
        self.names = ThreadNames()  # the thread of each request, named as the recorded ones were
        self.fast = fast
        self.websocket_paths = matcher.websocket_paths()
        self.places = [workdir_place(workdir)]  # paths the agent names in its folder compare as one

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_connection(reader, writer, self.route)

    async def route(self, request: Request, reader, writer) -> bool:
        path = request.path.split("?", 1)[0]
        if request.headers.get("upgrade", "").lower() == "websocket" and path in self.websocket_paths:
            await self.serve_websocket(request, reader, writer)
            return False
        body = body_of(request)
        key = request_key(request.method, request.path, body, False, self.places)
        found = self.matcher.answer(key, self.names.of(list(request.headers.items())))
        if isinstance(found, Divergence):
            told(found)
            # A 400 in the API's own error shape, which the agent shows as its API's error and does not retry.
            error = request_reader(request.method, request.path, body).error_body(said_by_replay(found))
            await send(writer, 400, "Bad Request", json.dumps(error).encode())
            return True
        self.note_served(found)
        await self.serve_http(found, writer, request.method)
        return True

    async def serve_http(self, answer: Answer, writer, method: str) -> None:
        """The recorded response: its headers with what of its body is due, then the rest in the recorded chunks at
        their times, framed as recorded (by its length, or chunked); no body where HTTP has none (HEAD, 1xx, 204,
        304)."""
        head = f"HTTP/1.1 {answer.status} {answer.reason or phrase(answer.status)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in answer.headers)
        if method.upper() == "HEAD" or answer.status < 200 or answer.status in (204, 304):
            length = f"content-length: {answer.length}\r\n" if answer.length is not None else ""
            writer.write((head + length + "\r\n").encode("latin-1", "replace"))
            await writer.drain()
            return
        by_length = answer.length is not None  # the body as sent, which masking may have changed: its own length
        framing = f"content-length: {len(answer.body)}" if by_length else "transfer-encoding: chunked"
        # What is due goes out in one write: an agent that hangs up on a status it reads (codex on the 426 that
        # refuses its WebSocket) then still gets the body the recording holds.
        due = bytearray((head + framing + "\r\n\r\n").encode("latin-1", "replace"))
        loop = asyncio.get_running_loop()
        started, offset = loop.time(), 0
        for at, size in answer.chunks:
            wait = 0.0 if self.fast else started + at / 1000 - loop.time()
            if wait > 0:
                writer.write(bytes(due))
                due.clear()
                await writer.drain()
                await asyncio.sleep(wait)
            piece = answer.body[offset : offset + size]
            offset += len(piece)
            if piece:
                due += piece if by_length else b"%x\r\n%s\r\n" % (len(piece), piece)
        rest = answer.body[offset:]  # a body its chunks do not add up to (an older capture): sent whole, last
        if rest:
            due += rest if by_length else b"%x\r\n%s\r\n" % (len(rest), rest)
        if not by_length:
            due += b"0\r\n\r\n"
        writer.write(bytes(due))
        await writer.drain()

    async def serve_websocket(self, request: Request, reader, writer) -> None:
        connection = await accept_websocket(request, writer)
        # Every message on the socket is its thread's: the upgrade request's headers name it, as they do when
        # recorded (the capture writes them on each of the socket's exchanges).
        thread = self.names.of(list(request.headers.items()))
        await serve_messages(
            reader, writer, connection, lambda text: self.answer_message(text, request.path, thread, connection, writer)
        )

    def note_served(self, answer: Answer) -> None:
        """Past a fork's point, the flag that sends the proxies' requests on to the fork's upstream."""
        if self.fork is not None and not self.fork.reached and answer.number == self.fork.at:
            self.fork.reach(self.matcher.requests)

    async def answer_message(self, text: str, path: str, thread: Thread | None, connection: Connection, writer) -> None:
        if self.fork is not None and self.fork.reached:
            # A socket opened before the fork point: the proxies cannot move it, so it is closed, and the agent's
            # next one goes to the fork's upstream.
            writer.write(connection.send(CloseConnection(code=1001, reason="agent-probe fork: live from here")))
            await writer.drain()
            return
        try:
            body = Body(json.loads(text), "json")
        except ValueError:
            body = Body(text, "text")
        found = self.matcher.answer(request_key("GET", path, body, True, self.places), thread)
        if isinstance(found, Divergence):
            told(found)
            reader = request_reader("GET", path, body, True)
            # An API that talks over a WebSocket has an error event of its own; else its error body is sent.
            error = getattr(reader, "error_event", reader.error_body)(said_by_replay(found))
            writer.write(connection.send(TextMessage(data=json.dumps(error))))
            await writer.drain()
            return
        self.note_served(found)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for at, message in found.messages or []:
            if not self.fast:
                await asyncio.sleep(max(0.0, started + at - loop.time()))
            writer.write(connection.send(TextMessage(data=message)))
            await writer.drain()


def phrase(status: int) -> str:
    """The reason HTTP gives a status, for an answer recorded without one (none for a status it does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def send(writer, status: int, reason: str, body: bytes) -> None:
    """A JSON answer of our own."""
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
    writer.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()


def told(divergence: Divergence) -> None:
    """One line on stdout for whoever started the server (probe.replay reads it into the run's manifest); the diff
    only for the first divergence, the one the manifest shows (an agent that retries may diverge hundreds of times)."""
    expected = divergence.expected.number if divergence.expected else None
    line = {"event": "diverged", "request": divergence.request, "summary": divergence.summary(), "expected": expected}
    line["thread"] = divergence.threads()
    line["after"] = divergence.first.request if divergence.first else None
    line["diff"] = divergence.diff() if divergence.first is None else None
    print(json.dumps(line), flush=True)


def summary(matcher: Matcher, fork: Fork | None = None) -> dict:
    return {
        "forked_at_request": fork.request if fork is not None else None,
        "event": "stopped",
        "requests": matcher.requests,
        "served": len(matcher.served),
        "repeated": matcher.repeated,
        "diverged": len(matcher.divergences),
        "not_asked": matcher.unserved(),
        "threads": matcher.thread_counts(),
    }


async def serve(
    matcher: Matcher,
    host: str,
    port: int,
    fast: bool,
    workdir: str,
    until_stdin_closes: bool = False,
    fork: Fork | None = None,
) -> None:
    replay = ReplayServer(matcher, fast, workdir, fork)
    server = await asyncio.start_server(replay.handle_connection, host, port)
    # The first stdout line is machine-read by probe.replay to learn the chosen port.
    print(f"replay listening on http://{host}:{server.sockets[0].getsockname()[1]}/", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    if until_stdin_closes:  # its starter holds the other end: should the starter be killed, the server ends too
        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stopped.set)), daemon=True).start()
    async with server:
        await stopped.wait()
    print(json.dumps(summary(matcher, fork)), flush=True)


def said_by_replay(divergence: Divergence) -> str:
    """The error's message: the replay's own words on where the agent diverged."""
    return f"agent-probe replay: {divergence.said()}"


def sha256_hex(text: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise argparse.ArgumentTypeError(f"expected a sha256 in hex, got {text[:80]!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.replay.server", description=__doc__)
    parser.add_argument("--run", required=True, metavar="RUN", help="the recorded run: a run folder name or path")
    parser.add_argument("--target", metavar="NAME", help="with --run latest, the newest run of this target")
    parser.add_argument("--port", type=cli.port, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--fast", action="store_true", help="send recorded streams at once, not at their pace")
    parser.add_argument("--workdir", type=cli.folder, default=os.getcwd(), metavar="FOLDER",
                        help="the folder the agent runs in (default: this one)")  # fmt: skip
    parser.add_argument("--until-stdin-closes", action="store_true", help="stop when stdin reaches its end")
    parser.add_argument("--traffic-sha256", type=sha256_hex, metavar="HEX",
                        help="serve the capture only if its traffic.jsonl hashes to this")  # fmt: skip
    parser.add_argument("--fork-at", type=cli.request_number, metavar="N",
                        help="a fork: once recorded request N is served, make --fork-flag")  # fmt: skip
    parser.add_argument("--fork-flag", metavar="FILE", help="the file a fork makes at its point")
    args = parser.parse_args(argv)
    if (args.fork_at is None) != (args.fork_flag is None):
        raise UsageError("--fork-at and --fork-flag go together")
    run = resolve_run(args.run, args.target)
    answers, warnings = recorded_answers(run, args.traffic_sha256)
    for warning in warnings:
        warn(f"{display(run / 'traffic.jsonl')}: {warning}")
    fork = Fork(fork_point(answers, args.fork_at), Path(args.fork_flag)) if args.fork_at else None
    try:
        asyncio.run(serve(Matcher(answers), "127.0.0.1", args.port, args.fast, args.workdir, args.until_stdin_closes,
                          fork))  # fmt: skip
    except OSError as error:
        raise ProbeError(f"the replay cannot listen on 127.0.0.1:{args.port}: {error.strerror}") from None
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
