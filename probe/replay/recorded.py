"""A recorded run as a replay serves it: each exchange's request key and the answer it got, as it was recorded (what
of it can be sent: probe.replay.sendable)."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from probe.analyse.volatile import Place, run_places
from probe.common.errors import RunError
from probe.common.forward import ALL_HOSTS
from probe.common.paths import display
from probe.read.traffic import Exchange, body_bytes, iter_exchanges
from probe.replay.keys import RequestKey, request_key
from probe.replay.sendable import pace_limit, paced, vet
from probe.replay.signed_files import changed_after_signing, refused
from probe.replay.threads import Thread, ThreadNames
from probe.runs import provenance
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


def answer_of(exchange: Exchange, places: list[Place], warnings: list[str]) -> Answer | None:
    """The exchange as an answer; None for one that got no answer (an unreachable upstream). Its pace is kept,
    but for what would come later than the answer may take (probe.replay.sendable.pace_limit)."""
    limit = pace_limit(exchange.timing)
    if exchange.kind == "websocket":
        client = [frame for frame in exchange.frames if frame.from_client]
        if not client:
            return None
        started = client[0].time
        server = [frame for frame in exchange.frames if not frame.from_client]
        times = [
            max(0.0, frame.time - started) if frame.time is not None and started is not None else 0.0
            for frame in server
        ]
        times = paced(times, limit, exchange.line, warnings)
        messages = [
            (at, body_bytes(frame.body).decode("utf-8", "replace")) for at, frame in zip(times, server, strict=True)
        ]
        key = request_key(exchange.method, exchange.path, client[0].body, True, places)
        headers = replayed_headers(exchange.response_headers)
        return Answer(exchange.number, key, exchange.status or 101, exchange.reason, headers, messages=messages)
    if exchange.status is None:
        return None
    body = body_bytes(exchange.response_body)
    chunks = [(float(at), int(size)) for at, size in exchange.chunks if size > 0]
    times = paced([at / 1000 for at, _ in chunks], limit, exchange.line, warnings)
    chunks = [(at * 1000, size) for at, (_, size) in zip(times, chunks, strict=True)]
    return Answer(exchange.number, request_key(exchange.method, exchange.path, exchange.request_body, False, places),
                  exchange.status, exchange.reason, replayed_headers(exchange.response_headers), body,
                  chunks, length=recorded_length(exchange.response_headers))  # fmt: skip


def recorded_length(headers: list[tuple[str, str]]) -> str | None:
    """The Content-Length of a response framed by its length (none when it was chunked, which overrides it, or when
    it is not a number)."""
    names = {name.lower(): value for name, value in headers}
    length = names.get("content-length", "").strip()
    if "chunked" in names.get("transfer-encoding", "").lower() or not (length.isascii() and length.isdigit()):
        return None
    return length


def replayed_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() not in NOT_REPLAYED]


def recorded_answers(run: Path, traffic_sha256: str | None = None) -> tuple[list[Answer], list[str]]:
    """Every answer of the run, in the order recorded, each with the thread that asked for it, and the warnings
    met reading it. One line if the run cannot be replayed: no capture, no exchange with a model, an answer that
    cannot be sent, or, with `traffic_sha256`, a capture that is not those bytes (one changed after it was signed
    as recorded here: probe.runs.provenance)."""
    traffic = run / "traffic.jsonl"
    if not traffic.is_file():
        raise RunError(f"{display(traffic)}: no such file (is {display(run)} a run folder?)")
    manifest = load_manifest(run)[0] or {}
    places = run_places(run, manifest)  # the working folder among them
    warnings: list[str] = []
    answers, names = [], ThreadNames()
    digest = hashlib.sha256()
    try:
        for exchange in iter_exchanges(traffic, warnings, seen=digest.update, vet=vet):
            if exchange.proxy == ALL_HOSTS:
                continue  # another host's answer (--all-hosts): never served in place of the model API's
            thread = names.of(exchange.request_headers)  # every request, answered or not, as the analysis reads them
            answer = answer_of(exchange, places, warnings)
            if answer is not None:
                answer.thread = thread
                answers.append(answer)
    except RunError as error:
        raise RunError(f"{display(traffic)}: {error}") from None
    if traffic_sha256 is not None and digest.hexdigest() != traffic_sha256:
        raise refused(traffic)
    if not any(answer.key.items is not None for answer in answers):
        raise RunError(f"{display(run)} holds no exchange with a model: there is nothing to replay")
    return answers, warnings


def changed_since_recorded(traffic: Path, digest: str, manifest: dict) -> str | None:
    """What is known of the capture at `traffic`, whose bytes hash to `digest`, having changed since its run was
    recorded: changed_after_signing for a run signed here; for any other, that it is not the capture its manifest
    names (which whoever changed it could have changed too: its absence proves nothing). None when it is, or when
    the manifest names no digest."""
    recorded = recorded_digest(manifest)
    if recorded is None or digest == recorded:
        return None
    if provenance.recorded_here(manifest):
        return changed_after_signing(traffic)
    return (
        f"{display(traffic)} is not the capture its manifest names (traffic_sha256): it changed after the run was "
        "recorded"
    )


def recorded_digest(manifest: dict) -> str | None:
    """The sha256 of traffic.jsonl the manifest names: the capture's as its run ended."""
    digest = manifest.get("traffic_sha256")
    return digest if isinstance(digest, str) else None
