"""Command line for the mock model server: `python -m probe.mock --port N`."""

import argparse
import asyncio
import socket
import sys

from probe.common import cli
from probe.common.errors import ProbeError, run_main
from probe.mock.server import Settings, serve


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m probe.mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=cli.port, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--socket-fd",
        type=int,
        metavar="FD",
        help="FD: serve on this inherited socket, already bound and listening, instead of --host and --port (a "
        "capture binds it, so that it knows the mock's URL before the mock has started)",
    )
    parser.add_argument(
        "--transport",
        choices=["websocket", "http"],
        default="websocket",
        help="'http' answers WebSocket upgrades with 426 so agents fall back to POST + SSE",
    )
    parser.add_argument("--event-delay-ms", type=cli.delay, default=5.0, help="pause between streamed events")
    parser.add_argument(
        "--finish-command",
        metavar="COMMAND",
        help="COMMAND: once a tool has answered, run this with the agent's shell-like tool instead of answering in "
        "words (for agents that must call a tool every turn and end on a command)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(
        websocket=args.transport == "websocket",
        event_delay=args.event_delay_ms / 1000,
        finish_command=args.finish_command or None,
    )

    listening = None
    if args.socket_fd is not None:
        try:
            listening = socket.socket(fileno=args.socket_fd)
        except OSError as error:
            raise ProbeError(f"mock cannot serve on --socket-fd {args.socket_fd}: {error.strerror}") from None
        args.host = listening.getsockname()[0]

    def announce(port: int) -> None:
        # The first stdout line is machine-read by `capture`: the chosen port, and that the mock serves.
        print(f"mock listening on http://{args.host}:{port}/", flush=True)

    try:
        asyncio.run(serve(args.host, args.port, settings, announce, listening))
    except OSError as error:
        raise ProbeError(f"mock cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
