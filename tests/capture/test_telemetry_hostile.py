"""The receiver of --agent-telemetry against what a hostile agent or another local process sends it, over real
sockets: exports that amplify (millions of empty records in a few kilobytes of gzip) keep their first records within
the bounds and one line says how many were left out; chunk sizes that are not plain hex, exports without the run's
token, lone surrogates, huge timestamps, NaN and clients that go away are each refused or one line of strict JSON,
with nothing printed; the run's end waits a bounded time for what is in flight; a secret whose name is in one record
and its value in the next is masked; telemetry.jsonl is its owner's only."""

import gzip
import json
import socket
import threading
import time
import urllib.parse

import pytest

from probe.capture.account.receiver import Receiver
from probe.capture.account.telemetry_bounds import Bounds
from probe.common.varints import varint_bytes

KEY = "Zq8" + "Wm3Kp7Xv2Rt9Lb4Nc6Hd"  # no shape rule knows it: only its name, in the record before, says what it is


def field(number: int, value: bytes) -> bytes:
    return varint_bytes(number << 3 | 2) + varint_bytes(len(value)) + value


def logs_export(records: bytes) -> bytes:
    """ExportLogsServiceRequest{resource_logs{scope_logs{`records`}}}, with no resource and no scope."""
    return field(1, field(2, records))


def json_logs(*records: dict) -> bytes:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "an-agent"}}]}
    return json.dumps({"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": list(records)}]}]}).encode()


def body_record(text: str, nanos: str = "1700000000000000000") -> dict:
    return {"timeUnixNano": nanos, "body": {"stringValue": text}}


def request(base: str, path: str, body: bytes, content_type: str, extra: str = "", chunked: bytes | None = None):
    place = urllib.parse.urlsplit(base)
    head = f"POST {place.path}{path} HTTP/1.1\r\nHost: {place.netloc}\r\nContent-Type: {content_type}\r\n{extra}"
    if chunked is not None:
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def exchange(receiver: Receiver, raw: bytes, done: bool = True, timeout: float = 30) -> int | None:
    """Send `raw` on a connection of its own (`done`: the sending side closed after it); the answer's status, None
    where none came within `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=timeout) as connection:
        connection.sendall(raw)
        if done:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and not done:
                    break
        except TimeoutError:
            return None
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def post(receiver: Receiver, body: bytes, content_type="application/json", extra="", signal="logs") -> int | None:
    return exchange(receiver, request(receiver.endpoint, f"/v1/{signal}", body, content_type, extra))


def answered(connection: socket.socket) -> bytes:
    """One whole answer to a JSON export (its body `{}`), the connection left open."""
    answer = b""
    while not answer.endswith(b"\r\n\r\n{}"):
        answer += connection.recv(1000) or pytest.fail(f"the connection closed after {answer!r}")
    return answer


def strict(text: str):
    """A line parsed as strict JSON: NaN and Infinity are no JSON."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written: not JSON"))


def lines_of(receiver: Receiver) -> list[dict]:
    return [strict(line) for line in receiver.path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def started(tmp_path):
    running = []

    def start(**options) -> Receiver:
        running.append(Receiver(tmp_path / f"telemetry-{len(running)}.jsonl", **options).start())
        return running[-1]

    yield start
    for receiver in running:
        if not receiver.closed:
            receiver.stop()


def test_an_amplifying_export_keeps_its_first_records_within_the_bounds_and_one_line_says_how_many_are_left_out(
    started,
):
    receiver = started()
    bounds = Bounds()
    bomb = gzip.compress(logs_export(field(2, b"") * 2_000_000), 9)  # 2,000,000 empty log records
    assert len(bomb) < 4_000
    assert post(receiver, bomb, "application/x-protobuf", "Content-Encoding: gzip\r\n") == 200
    # One log record with two million empty attributes, and one with a packed array of two million numbers (an
    # exponential histogram's bucket counts are varints, a byte each): each is more than an export may parse.
    attributes = logs_export(field(2, field(6, b"") * 2_000_000))
    buckets = field(8, field(2, b"\x01" * 2_000_000))  # ExponentialHistogramDataPoint.positive.bucket_counts
    packed = field(1, field(2, field(2, field(1, b"m") + field(10, field(1, buckets)))))  # …metrics{name, histogram}
    gzipped = ("application/x-protobuf", "Content-Encoding: gzip\r\n")
    assert post(receiver, gzip.compress(attributes), *gzipped) == 200
    assert post(receiver, gzip.compress(packed), *gzipped, signal="metrics") == 200
    # The same two million empty records in JSON, a few kilobytes of gzip too.
    as_json = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + b",".join([b"{}"] * 2_000_000) + b"]}]}]}"
    assert post(receiver, gzip.compress(as_json), extra="Content-Encoding: gzip\r\n") == 200
    receiver.stop()
    size = receiver.path.stat().st_size
    lines = lines_of(receiver)
    records = [line for line in lines if "name" in line]
    assert len(records) == 2 * bounds.records_per_export and size < 6_000_000  # (protobuf's, then JSON's)
    assert {(record["export"], record["name"], record["time"]) for record in records} == {(0, "", None), (3, "", None)}
    notes = [line for line in lines if "name" not in line]
    assert [(note["export"], note.get("dropped")) for note in notes] == [
        (0, 1_990_000), (1, 1), (2, 1), (3, 1_990_000)
    ]  # fmt: skip
    assert notes[0]["why"] == (
        "1,990,000 records left out past the bound of 10,000 records per export: the first 10,000 were kept"
    )
    assert notes[1]["why"].startswith("1 records left out past the bound of 500,000 values parsed per export")
    assert notes[2]["why"] == notes[1]["why"]
    assert notes[3]["why"] == notes[0]["why"]  # (JSON too large to parse whole, read as a stream: its first kept)
    assert (receiver.exports, receiver.records, receiver.totals.dropped) == (4, 20_000, 3_980_002)


def test_past_the_runs_bound_one_line_says_so_and_nothing_more_is_written(started):
    receiver = started(bounds=Bounds(records_per_export=5, records_per_run=12))
    five = json_logs(*(body_record(f"record {number}") for number in range(5)))
    assert [post(receiver, five) for _ in range(4)] == [200, 200, 200, 200]
    assert post(receiver, b"not json") == 200
    receiver.stop()
    lines = lines_of(receiver)
    assert [line.get("body") for line in lines[:12]] == [f"record {number}" for number in [*range(5)] * 2 + [0, 1]]
    [note] = lines[12:]
    assert note["export"] == 2 and note["dropped"] == 3
    assert note["why"] == (
        "3 records left out past the run's bound of 12 records and 268,435,456 bytes: the first 2 were kept; what "
        "comes after it is counted in the manifest, not kept"
    )
    assert (receiver.records, receiver.totals.dropped) == (12, 8)


def test_past_the_bytes_an_export_may_write_its_first_records_are_kept(started):
    receiver = started(bounds=Bounds(bytes_per_export=2_000))
    assert post(receiver, json_logs(*(body_record(f"{number} " + "x" * 300) for number in range(10)))) == 200
    receiver.stop()
    lines = lines_of(receiver)
    kept = [line for line in lines if "body" in line]
    assert [line["body"][:2] for line in kept] == ["0 ", "1 "]  # (each line is some 800 bytes: its name is its body)
    assert (
        lines[-1]["why"] == "8 records left out past the bound of 2,000 bytes written per export: the first 2 were kept"
    )


@pytest.mark.parametrize("size", ["+{:x}", "0x{:x}", " {:x}", "{:x} ", "1_{:x}", "-0"])
def test_a_chunk_size_that_is_not_plain_hex_is_refused(started, size):
    receiver = started()
    export = json_logs(body_record("sent in one odd chunk"))
    chunked = size.format(len(export)).encode() + b"\r\n" + export + b"\r\n0\r\n\r\n"
    assert exchange(receiver, request(receiver.endpoint, "/v1/logs", b"", "application/json", chunked=chunked)) == 400
    receiver.stop()
    assert [line["unreadable"] for line in lines_of(receiver)] == ["a chunk's size that is not plain hex"]


def test_a_chunk_size_of_minus_one_is_refused_at_once_not_read_to_the_clients_end(started):
    receiver = started()
    chunked = b"-1\r\n" + b"\x00" * (1 << 20)  # and the connection left open
    raw = request(receiver.endpoint, "/v1/logs", b"", "application/x-protobuf", chunked=chunked)
    assert exchange(receiver, raw, done=False, timeout=10) == 400
    for length in ("-5", "+5", "\u00b2", "0x5"):  # a Content-Length of anything but digits
        raw = request(receiver.endpoint, "/v1/logs", b"", "application/json").replace(
            b"Content-Length: 0", f"Content-Length: {length}".encode("latin-1")
        )
        assert exchange(receiver, raw + b"{}{}{}") == 400, length
    receiver.stop()
    assert [line["unreadable"] for line in lines_of(receiver)] == [
        "a chunk's size that is not plain hex",
        *["neither a Content-Length nor chunks"] * 4,
    ]


def test_an_export_without_the_runs_token_is_refused_and_nothing_of_it_reaches_the_run(started):
    receiver = started()
    forged = json_logs({"attributes": [{"key": "event.name", "value": {"stringValue": "user_prompt"}}]})
    port = receiver.server.server_address[1]
    other = "0" * len(receiver.token)
    for base in (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/{other}", f"http://127.0.0.1:{port}/x/y"):
        assert exchange(receiver, request(base, "/v1/logs", forged, "application/json")) == 401, base
    with_query = request(f"http://127.0.0.1:{port}", f"/v1/logs?{receiver.token}", forged, "application/json")
    assert exchange(receiver, with_query) == 401
    assert receiver.path.read_text() == "" and (receiver.exports, receiver.refused) == (0, 4)
    assert post(receiver, forged) == 200
    receiver.stop()
    assert [line["name"] for line in lines_of(receiver)] == ["user_prompt"]
    assert receiver.url == f"http://127.0.0.1:{port}" and receiver.endpoint == f"{receiver.url}/{receiver.token}"
    assert len(receiver.token) == 32 and started().token != receiver.token


def test_surrogates_huge_timestamps_nan_and_bad_utf8_each_land_or_are_one_line_of_strict_json(started, capfd):
    receiver = started()
    exports = [
        json_logs(body_record("cut \ud83d")),  # "\ud83d", as JSON escapes it
        json_logs(body_record("a 310-digit timestamp", "1" + "0" * 309)),
        json_logs({"attributes": [{"key": "cost", "value": {"doubleValue": 0.5}}]}).replace(b"0.5", b"NaN"),
        json_logs({"attributes": [{"key": "cost", "value": {"doubleValue": 0.5}}]}).replace(b"0.5", b"-Infinity"),
        json_logs({"attributes": [{"key": "cost", "value": {"doubleValue": 0.5}}]}).replace(b"0.5", b"1e400"),
        json_logs({"attributes": [{"key": "cost", "value": {"doubleValue": "NaN"}}]}),
        json_logs({"timeUnixNano": 1e300, "attributes": [{"key": "n", "value": {"intValue": "9" * 5000}}]}),
    ]
    assert [post(receiver, export) for export in exports] == [200] * len(exports)
    not_utf8 = logs_export(field(2, field(5, field(1, b"cut " + "\U0001f600".encode()[:2]))))
    infinite = logs_export(field(2, field(6, field(1, b"cost") + field(2, b"\x21" + b"\x00" * 6 + b"\xf0\x7f"))))
    assert [post(receiver, data, "application/x-protobuf") for data in (not_utf8, infinite)] == [200, 200]
    receiver.stop()
    lines = lines_of(receiver)
    assert [line.get("body") for line in lines[:2]] == ["cut \ufffd", "a 310-digit timestamp"]
    assert lines[1]["time"] is None
    assert [line["attributes"]["cost"] for line in lines[2:6]] == [None, None, None, None]
    assert lines[6]["time"] == 1e300 / 1e9 and lines[6]["attributes"]["n"] is None
    assert lines[7]["unreadable"].startswith("ValueError: not an OTLP protobuf export: LogRecord: Error parsing")
    assert lines[8]["attributes"] == {"cost": None}
    assert len(lines) == 9
    assert capfd.readouterr() == ("", "")


def test_a_client_that_goes_away_mid_export_prints_nothing_and_its_export_is_one_line(started, capfd):
    receiver = started()
    body = json_logs(body_record("x" * 4000))
    with socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=10) as connection:
        connection.sendall(request(receiver.endpoint, "/v1/logs", body, "application/json")[:-2000])
    chunked = request(receiver.endpoint, "/v1/logs", b"", "application/json", chunked=b"%x\r\n" % len(body) + body)
    with socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=10) as connection:
        connection.sendall(chunked[:-1000])
    time.sleep(0.3)
    receiver.stop()
    lines = lines_of(receiver)
    assert sorted(line["unreadable"] for line in lines) == [
        f"cut off after {len(body) - 2000:,} bytes: the client went away or the run ended",  # by its length
        f"cut off after {len(body) - 1000:,} bytes: the client went away or the run ended",  # in chunks
    ]
    assert capfd.readouterr() == ("", "")


def test_the_runs_end_waits_for_an_export_in_flight_and_a_held_connection_only_as_long_as_its_bound(started, capfd):
    receiver = started(grace=10)
    body = json_logs(body_record("sent in two halves"))
    raw = request(receiver.endpoint, "/v1/logs", body, "application/json")
    half = socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=10)
    half.sendall(raw[: -len(body) // 2])
    time.sleep(0.2)  # (its headers read: the export is in flight)
    stopping = threading.Thread(target=receiver.stop)
    stopping.start()
    time.sleep(0.3)
    assert stopping.is_alive()  # waiting for the rest
    half.sendall(raw[-len(body) // 2 :])
    assert answered(half).startswith(b"HTTP/1.1 200 ")
    stopping.join(timeout=30)
    assert not stopping.is_alive()
    assert [line["body"] for line in lines_of(receiver)] == ["sent in two halves"]
    half.close()
    # A connection that sends its headers and never its body, and one idle between exports: the run's end cuts
    # them once its bound has passed, and the held export is one line.
    receiver = started(grace=0.5)
    raw = request(receiver.endpoint, "/v1/logs", body, "application/json")
    held = socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=30)
    held.sendall(raw[: -len(body)])
    idle = socket.create_connection(("127.0.0.1", receiver.server.server_address[1]), timeout=30)
    idle.sendall(raw)
    assert answered(idle).startswith(b"HTTP/1.1 200 ")
    time.sleep(0.2)
    stopping = threading.Thread(target=receiver.stop)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive()  # (held for 30 s more, it would still be waiting)
    assert [line.get("unreadable", line.get("body")) for line in lines_of(receiver)] == [
        "sent in two halves",
        "cut off after 0 bytes: the client went away or the run ended",
    ]
    assert held.recv(100) == b"" and idle.recv(100) == b""  # both cut
    held.close()
    idle.close()
    assert capfd.readouterr() == ("", "")


def test_a_secret_named_in_one_record_and_given_in_the_next_is_masked(started):
    receiver = started()
    export = json_logs(body_record("export ANTHROPIC_API_KEY="), body_record(KEY), body_record("$ ls"))
    assert post(receiver, export) == 200
    receiver.stop()
    text = receiver.path.read_text()
    assert KEY not in text
    bodies = [line["body"] for line in lines_of(receiver)]
    assert bodies[0] == "export ANTHROPIC_API_KEY=" and bodies[1].startswith("[REDACTED sha256:")
    # The records' strings are joined as a stream's pieces are, with nothing between them: where the next record
    # goes on with characters a value may hold, they are taken for the rest of it (masked more, never less).
    assert bodies[2] == " ls"


def test_telemetry_jsonl_is_its_owners_only(started):
    receiver = started()
    assert post(receiver, json_logs(body_record("kept"))) == 200
    assert receiver.path.stat().st_mode & 0o777 == 0o600
