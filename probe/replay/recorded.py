"""A recorded run as a replay serves it: each exchange's request key and the answer it got, as it was recorded."""

from dataclasses import dataclass, field
from pathlib import Path

from probe.analyse.volatile import Place, run_places
from probe.common.errors import RunError
from probe.common.paths import display
from probe.read.traffic import Exchange, body_bytes, iter_exchanges
from probe.replay.keys import RequestKey, request_key
from probe.replay.threads import Thread, ThreadNames
from probe.runs.folders import load_manifest

# Headers that described the body as it travelled, not as it is stored (decoded, whole), or the connection.
NOT_REPLAYED = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"})


@dataclass
class Answer:
    """One recorded answer: an HTTP response (status, headers, body and when its chunks came), or a WebSocket
    turn's server messages (with when each came after the client's)."""

    number: int  # the exchange's number in the recorded run
    key: RequestKey
    status: int = 200
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: list[tuple[float, int]] = field(default_factory=list)  # (ms after the request, bytes)
    messages: list[tuple[float, str]] | None = None  # WebSocket: (seconds after the client's message, text)
    thread: Thread | None = None  # the recorded agent that asked for it, where its request named one
    length: str | None = None  # the recorded Content-Length, for a body framed by its length, not chunked


def answer_of(exchange: Exchange, places: list[Place]) -> Answer | None:
    """The exchange as an answer; None for one that got no answer (an unreachable upstream)."""
    if exchange.kind == "websocket":
        client = [frame for frame in exchange.frames if frame.from_client]
        if not client:
            return None
        started = client[0].time
        messages = [
            (max(0.0, frame.time - started) if frame.time is not None and started is not None else 0.0,
             body_bytes(frame.body).decode("utf-8", "replace"))
            for frame in exchange.frames
            if not frame.from_client
        ]  # fmt: skip
        key = request_key(exchange.method, exchange.path, client[0].body, True, places)
        headers = replayed_headers(exchange.response_headers)
        return Answer(exchange.number, key, exchange.status or 101, exchange.reason, headers, messages=messages)
    if exchange.status is None:
        return None
    body = body_bytes(exchange.response_body)
    chunks = [(float(at), int(size)) for at, size in exchange.chunks if size > 0]
    return Answer(exchange.number, request_key(exchange.method, exchange.path, exchange.request_body, False, places),
                  exchange.status, exchange.reason, replayed_headers(exchange.response_headers), body,
                  chunks, length=recorded_length(exchange.response_headers))  # fmt: skip


def recorded_length(headers: list[tuple[str, str]]) -> str | None:
    """The Content-Length of a response framed by its length (none when it was chunked, which overrides it)."""
    names = {name.lower(): value for name, value in headers}
    return None if "chunked" in names.get("transfer-encoding", "").lower() else names.get("content-length")


def replayed_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() not in NOT_REPLAYED]


def recorded_answers(run: Path) -> tuple[list[Answer], list[str]]:
    """Every answer of the run, in the order recorded, each with the thread that asked for it, and the warnings
    met reading it. One line if the run cannot be replayed: no capture, or no exchange with the model."""
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(traffic)}: no such file (is {display(run)} a run folder?)")
    manifest = load_manifest(run)[0] or {}
    places = run_places(run, manifest)  # the working folder among them
    warnings: list[str] = []
    answers, names = [], ThreadNames()
    for exchange in iter_exchanges(traffic, warnings):
        thread = names.of(exchange.request_headers)  # every request, answered or not, as the analysis reads them
        answer = answer_of(exchange, places)
        if answer is not None:
            answer.thread = thread
            answers.append(answer)
    if not any(answer.key.items is not None for answer in answers):
        raise RunError(f"{display(run)} holds no exchange with a model: there is nothing to replay")
    return answers, warnings
