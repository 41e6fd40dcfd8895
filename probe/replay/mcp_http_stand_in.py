"""Stand-ins for the HTTP MCP servers of a recorded run: one port on 127.0.0.1 for each (`python -m
probe.replay.mcp_http_stand_in --recorded RUN/mcp.jsonl --server NAME …`), answering each JSON-RPC request POSTed
on any path with the answer the server gave the same call in the recording (probe.replay.mcp_matching), as JSON or
as Server-Sent Events as the recording had it, with an Mcp-Session-Id where the recorded server gave one. The first
line on stdout is `{"listening": {NAME: URL}}`; nothing is ever sent to the recorded URLs."""

import asyncio
import json
import re
import signal
import sys
import threading
from pathlib import Path

from probe.common import cli
from probe.common.errors import ProbeError, run_main
from probe.mock.server import Request, serve_connection
from probe.replay.mcp_matching import McpMatcher, error
from probe.replay.mcp_stand_in import PARSE_ERROR, add_signed_option, stand_in_matcher
from probe.replay.mcp_told import Told

SESSION = re.compile(r"[\x21-\x7e]{1,200}")  # what the protocol allows a session id: visible ASCII
REASONS = {200: "OK", 202: "Accepted", 405: "Method Not Allowed"}


class HttpStandIn:
    """One server's stand-in: its matcher, and the session id it hands out."""

    def __init__(self, matcher: McpMatcher) -> None:
        self.matcher = matcher

    async def route(self, request: Request, reader, writer) -> bool:
        if request.method == "DELETE":  # the client ends its session: nothing to end
            await send(writer, 200, b"", None)
            return True
        if request.method != "POST":  # no stream of the server's own (GET): the protocol lets a server say so
            await send(writer, 405, b"", None, [("allow", "POST, DELETE")])
            return True
        try:
            message = json.loads(request.body)
        except (ValueError, RecursionError):
            await send(writer, 400, json.dumps(error(None, "agent-probe replay: not JSON", PARSE_ERROR)).encode(), None)
            return True
        reply = self.matcher.reply(message)
        if reply is None:  # notifications and answers only
            await send(writer, 202, b"", None)
            return True
        served = self.matcher.last if isinstance(reply, dict) else None
        headers = []
        if (
            served is not None
            and served.method == "initialize"
            and served.session
            and SESSION.fullmatch(served.session)
        ):
            headers.append(("mcp-session-id", served.session))
        if served is not None and served.sse:
            body = f"event: message\ndata: {json.dumps(reply)}\n\n".encode()
            await send(writer, 200, body, "text/event-stream", headers)
        else:
            await send(writer, 200, json.dumps(reply).encode(), "application/json", headers)
        return True


async def send(writer, status: int, body: bytes, content_type: str | None, headers=()) -> None:
    head = f"HTTP/1.1 {status} {REASONS.get(status, 'Bad Request')}\r\n"
    head += f"content-type: {content_type}\r\n" if content_type else ""
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    writer.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()


async def serve(stand_ins: dict[str, HttpStandIn], told: dict[str, Told], until_stdin_closes: bool) -> None:
    servers, urls = [], {}
    for name, stand_in in stand_ins.items():
        server = await asyncio.start_server(
            lambda reader, writer, route=stand_in.route: serve_connection(reader, writer, route), "127.0.0.1", 0
        )
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    print(json.dumps({"listening": urls}), flush=True)  # machine-read by the replay
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    if until_stdin_closes:  # its starter holds the other end: should the starter be killed, the servers end too
        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stopped.set)), daemon=True).start()
    await stopped.wait()
    for server in servers:
        server.close()
    for name, stand_in in stand_ins.items():
        told[name].stopped(stand_in.matcher)


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.replay.mcp_http_stand_in", description=__doc__)
    parser.add_argument("--recorded", required=True, type=Path, metavar="FILE", help="the recorded run's mcp.jsonl")
    parser.add_argument("--server", required=True, action="append", metavar="NAME", help="a server it stands in for")
    parser.add_argument("--divergence", type=Path, metavar="FILE", help="where to append what it met, a JSON line each")
    parser.add_argument("--workdir", metavar="FOLDER", help="the folder this run's agent works in")
    parser.add_argument("--until-stdin-closes", action="store_true", help="stop when stdin reaches its end")
    add_signed_option(parser)
    args = parser.parse_args(argv)
    told = {name: Told(args.divergence, name) for name in dict.fromkeys(args.server)}
    stand_ins = {
        name: HttpStandIn(stand_in_matcher(args.recorded, name, args.workdir, said, args.mcp_sha256))
        for name, said in told.items()
    }
    try:
        asyncio.run(serve(stand_ins, told, args.until_stdin_closes))
    except OSError as problem:
        raise ProbeError(f"the MCP stand-in cannot listen on 127.0.0.1: {problem.strerror}") from None
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
