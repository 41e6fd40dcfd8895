"""Reads traffic.jsonl line by line into exchanges, in this project's format or the original tool's."""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from probe.common import fastjson
from probe.common.body_sizes import measured_size
from probe.common.lines import MAX_LINE_BYTES, READ_BUFFER, BoundedLines
from probe.read import body_files, sse
from probe.read.capture_numbers import byte_count, moment, status
from probe.read.headers import header, header_pairs


@dataclass
class Body:
    value: Any  # parsed JSON, text, base64 text, or None
    format: str  # json, text, base64 or empty
    size: int = 0  # measured from the value, never the size a line states (probe.read.body_sizes)
    as_sent: bool = False  # still in the Content-Encoding it travelled in: the capture could not decode it
    file: Any = None  # `bodies/<sha256>`: a large body, stored in that file beside traffic.jsonl (resolve_files)
    file_size: Any = None  # that file's size, as the line says
    stated_size: int | None = None  # a body in a file: the size its line states, to tell its JSON form once read

    @property
    def is_json(self) -> bool:
        return self.format == "json"


def body_bytes(body: Body) -> bytes:
    """A body as the capture stored it (decoded, and masked when it was recorded), as bytes again."""
    if body.format == "empty" or body.value is None:
        return b""
    if body.format == "base64":
        try:
            return base64.b64decode(str(body.value), validate=False)
        except ValueError:
            return str(body.value).encode("utf-8", "surrogateescape")
    if body.format == "json":
        return json_bytes(body.value, body.size)
    return str(body.value).encode("utf-8", "surrogateescape")


# How servers write JSON besides compactly: Python's json.dumps with its default separators, or indented by two
# (JSON.stringify(value, null, 2) too), each with non-ASCII escaped or not. The capture keeps a JSON body parsed,
# with its size: the form of that size is the one sent.
JSON_FORMS = [
    dict(separators=(", ", ": "), ensure_ascii=False),
    dict(separators=(", ", ": "), ensure_ascii=True),
    dict(separators=(",", ":"), ensure_ascii=True),  # compact with non-ASCII kept is orjson's, tried first
    dict(separators=(",", ": "), indent=2, ensure_ascii=False),
    dict(separators=(",", ": "), indent=2, ensure_ascii=True),
]


def json_bytes(value: Any, size: int) -> bytes:
    """A parsed JSON body written as it most likely was sent: compactly, unless another common form has the
    recorded size (a masked body has another size, and is written compactly)."""
    try:
        compact = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # lone surrogates, or nested deeper than orjson writes
        return json.dumps(value, separators=(",", ":")).encode("ascii")
    if not size or len(compact) == size:
        return compact
    for form in JSON_FORMS:
        written = json.dumps(value, **form).encode("utf-8", "surrogatepass")
        if len(written) == size:
            return written
    return compact


@dataclass
class Frame:
    """One WebSocket message."""

    from_client: bool
    time: float | None
    body: Body


@dataclass
class Exchange:
    number: int  # position in the report, from 1
    line: int  # line in traffic.jsonl
    kind: str  # http or websocket
    proxy: str
    method: str
    url: str
    path: str
    status: int | None
    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    request_body: Body
    response_body: Body
    complete: bool = True
    error: str | None = None
    timing: dict[str, float] = field(default_factory=dict)
    chunks: list[list[float]] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    content_type: str = ""
    reason: str = ""
    request_trailers: list[tuple[str, str]] | None = None
    response_trailers: list[tuple[str, str]] | None = None
    flow_id: str | None = None  # a WebSocket's: every turn of one socket has the same
    ended_by: str | None = None  # what ended a WebSocket turn (socket-closed, proxy-stopped: the socket's last)
    # The response's events, parsed on first use: the turn, the report and the viewer all read them (a long stream's
    # are parsed again a piece at a time whenever they are walked: sse.StreamEvents).
    events: "list[sse.Event] | sse.StreamEvents | None" = field(default=None, init=False, repr=False, compare=False)
    events_parsed: bool = field(default=False, init=False, repr=False, compare=False)
    # What was left out of its lists too long to read whole, once they were thinned (probe.read.thinning); None
    # before (an exchange read for an export is never thinned).
    left_out: list | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ttfb_ms(self) -> float | None:
        start, first = self.timing.get("start"), self.timing.get("first_byte")
        return (first - start) * 1000 if isinstance(start, (int, float)) and isinstance(first, (int, float)) else None

    @property
    def duration_ms(self) -> float | None:
        """From its start to its end; else the duration an imported recording kept without either (go-vcr's)."""
        start, end = self.timing.get("start"), self.timing.get("end")
        if isinstance(start, (int, float)) and isinstance(end, (int, float)):
            return (end - start) * 1000
        duration = self.timing.get("duration")
        return duration * 1000 if isinstance(duration, (int, float)) else None

    def stream_events(self) -> "list[sse.Event] | sse.StreamEvents | None":
        """The response as events: SSE parsed, or the server's WebSocket frames; None if neither. Parsed once."""
        if not self.events_parsed:
            self.events, self.events_parsed = self.parse_events(), True
        return self.events

    def parse_events(self) -> "list[sse.Event] | sse.StreamEvents | None":
        if self.kind == "websocket":
            return [sse.Event(None, frame.body.value) for frame in self.frames if not frame.from_client]
        text = self.sse_text()
        return sse.events_of(text) if text is not None else None

    def sse_text(self) -> str | None:
        """The response's text when it is a Server-Sent Events stream, unparsed; else None."""
        body = self.response_body
        if (
            body.format == "text"
            and isinstance(body.value, str)
            and ("event-stream" in self.content_type or sse.looks_like_sse(body.value))
        ):
            return body.value
        return None


def listed(value: Any) -> list:
    return value if isinstance(value, list) else []


def body_of(message: dict) -> Body:
    value, body_format = message.get("body"), message.get("body_format")
    if body_format not in ("json", "text", "base64", "empty"):
        body_format = guess_format(value)
        if body_format == "text" and isinstance(value, str):
            value, body_format = maybe_json(value)
    stated = byte_count(message.get("body_size", message.get("size")))  # WebSocket frames record `size`
    if "body_file" in message:
        # Measured once the file is read (resolve_files); until then, nothing is known to be there.
        return Body(None, body_format, 0, file=message["body_file"], file_size=message.get("body_file_size"),
                    stated_size=stated)  # fmt: skip
    return Body(value, body_format, measured_size(value, body_format, stated))


def resolve_files(exchange: Exchange, run: Path | None, warnings: list[str]) -> None:
    """Read each body stored in a file of its own (bodies/) into its exchange; one that cannot be read is left
    out, with a warning naming its line."""
    for body in (exchange.request_body, exchange.response_body):
        if body.file is None:
            continue
        try:
            body.value = body_files.read_body(body.file, body.file_size, body.format, run)
            body.size = measured_size(body.value, body.format, body.stated_size)
        except body_files.Unreadable as problem:
            warnings.append(f"line {exchange.line}: {problem}; the body is left out")
            body.value, body.format = None, "empty"


def sent_encoded(message: dict, headers: list[tuple[str, str]]) -> bool:
    """Whether a stored body is still in its Content-Encoding: the capture notes `content_encoding` only when it
    decoded the body."""
    return header(headers, "content-encoding").strip().lower() not in ("", "identity") and (
        "content_encoding" not in message
    )


def guess_format(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    return "text" if isinstance(value, str) else "json"


def maybe_json(text: str) -> tuple[Any, str]:
    if text.lstrip()[:1] in ("{", "["):
        try:
            return fastjson.loads(text), "json"
        except ValueError:
            pass
    return text, "text"


def from_entry(entry: dict, number: int, line: int) -> Exchange:
    """Normalise one line of either format; raises (KeyError, TypeError, ValueError) when it is unusable."""
    if "schema" in entry and "kind" in entry:
        return from_current(entry, number, line)
    return from_legacy(entry, number, line)


def from_current(entry: dict, number: int, line: int) -> Exchange:
    request = entry["request"]
    if not isinstance(request, dict):
        raise TypeError("request is not an object")
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    url = str(request.get("url", ""))
    request_headers = header_pairs(request.get("headers"))
    response_headers = header_pairs(response.get("headers"))
    frames = []
    for message in listed(entry.get("messages")):
        if isinstance(message, dict):
            frames.append(Frame(message.get("from") == "client", moment(message.get("t")), body_of(message)))
    timing = entry.get("timing") if isinstance(entry.get("timing"), dict) else {}
    timing = {key: value for key, value in timing.items() if moment(value) is not None}
    request_body, response_body = body_of(request), body_of(response)
    if "schema" in entry:  # the original tool's captures stored bodies decoded
        request_body.as_sent = sent_encoded(request, request_headers)
        response_body.as_sent = sent_encoded(response, response_headers)
    return Exchange(
        number=number,
        line=line,
        kind="websocket" if entry.get("kind") == "websocket" else "http",
        proxy=str(entry.get("proxy", "")),
        method=str(request.get("method", "")),
        url=url,
        path=str(request.get("path") or urlsplit(url).path or "/"),
        status=status(response.get("status")),
        request_headers=request_headers,
        response_headers=response_headers,
        request_body=request_body,
        response_body=response_body,
        # A WebSocket turn ended by the client's next message never got its terminal event, whatever an older
        # capture says.
        complete=bool(entry.get("complete", True)) and entry.get("ended_by") != "next-client-message",
        error=str(entry["error"]) if entry.get("error") else None,
        timing=timing,
        # (What a chunk's numbers may be is the replay's to check: nothing else reads them.)
        chunks=[chunk for chunk in listed(response.get("chunks")) if isinstance(chunk, list) and len(chunk) == 2],
        frames=frames,
        content_type=header(response_headers, "content-type"),
        reason=str(response.get("reason") or ""),
        request_trailers=header_pairs(request["trailers"]) if "trailers" in request else None,
        response_trailers=header_pairs(response["trailers"]) if "trailers" in response else None,
        flow_id=str(entry["flow_id"]) if entry.get("flow_id") else None,
        ended_by=str(entry["ended_by"]) if entry.get("ended_by") else None,
    )


def from_legacy(entry: dict, number: int, line: int) -> Exchange:
    """The original tool's line: {timestamp, request:{method,url,headers,body}, response:{status_code,...}}."""
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    converted = {
        "kind": "http",
        "proxy": "legacy",
        "timing": {"start": entry.get("timestamp")},
        "request": entry["request"],
        "response": {**response, "status": response.get("status_code")},
    }
    return from_current(converted, number, line)


def iter_exchanges(path: Path, warnings: list[str], progress=None, seen=None, vet=None) -> Iterator[Exchange]:
    """Every usable line as an exchange, read as a stream; damaged lines become warnings naming their line. `seen`,
    if given, gets every byte read (to hash the very bytes the exchanges were read from); `vet`, see
    exchange_of_line."""
    number = 0
    with path.open("rb", buffering=READ_BUFFER) as file:
        for line_number, raw, size in BoundedLines(file, MAX_LINE_BYTES, seen):
            if progress is not None:
                progress.advance(size)
            exchange = exchange_of_line(raw, line_number, size, number + 1, warnings, path.parent, vet)
            del raw  # let the line go before the next is read: one hostile exchange can take hundreds of MB parsed
            if exchange is None:
                continue
            number += 1
            yield exchange
            del exchange


def exchange_of_line(
    raw: bytes | None,
    line_number: int,
    size: int | None,
    number: int,
    warnings: list[str],
    run: Path | None = None,
    vet=None,
):
    """Line `line_number` of a capture as exchange `number`, or None for a blank or damaged line (a damaged one
    adds a warning naming it); `raw` is None for a line over MAX_LINE_BYTES (`size` bytes, if known). A body
    stored in a file is read from the run folder `run`. `vet(entry, line_number, warnings)`, if given, gets the
    line's JSON object first and may take out of it what its caller cannot use (a replay, what it cannot send)."""
    if raw is None:
        bytes_said = f"{size:,} bytes, " if size is not None else ""
        warnings.append(
            f"line {line_number}: {bytes_said}over the {MAX_LINE_BYTES:,}-byte limit for one exchange, skipped"
        )
        return None
    if len(raw) < 3 and not raw.strip():  # (a length check first: strip copies the whole line)
        return None
    try:
        entry = fastjson.loads(raw)
    except (RecursionError, fastjson.NestedTooDeeply):
        warnings.append(
            f"line {line_number}: nested too deeply to read (past {fastjson.DEPTH_LIMIT:,} levels), skipped"
        )
        return None
    except (ValueError, UnicodeDecodeError):
        ending = "" if raw.endswith(b"\n") else " (the last line is cut off: the capture was probably killed)"
        warnings.append(f"line {line_number}: not valid JSON, skipped{ending}")
        return None
    if not isinstance(entry, dict):
        warnings.append(f"line {line_number}: not a JSON object, skipped")
        return None
    if vet is not None:
        vet(entry, line_number, warnings)
    try:
        exchange = from_entry(entry, number, line_number)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        warnings.append(f"line {line_number}: not an exchange ({type(error).__name__}: {error}), skipped")
        return None
    del entry
    resolve_files(exchange, run, warnings)
    return exchange
