"""The replay's stand-in serves a recorded answer only as HTTP can carry it, whoever wrote the run folder: header
names, values and reasons holding CR, LF, NUL or (names) colons, or that are not strings, are left out; chunk
entries that are not [milliseconds, bytes] are left out; no pause outlasts the answer's recorded duration; each
line with a bad field gets one warning; a status HTTP has not (10**20, a string) is a one-line error, and nothing
is served. Each is a hand-made run folder served by the real stand-in to a raw socket client."""

import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import PROJECT_ROOT, captured_exchange
from test_replay_trust import fake_agent, replay

from probe.replay.recorded import recorded_answers
from probe.replay.sendable import MAX_PACE, pace_limit, paced

PATH = "/v1/chat/completions"
REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
BODY = 'data: {"choices": [{"delta": {"content": "hello"}}]}\n\ndata: [DONE]\n\n'
INJECTED = "X-Injected: yes"


def run_folder(folder: Path, *responses: dict, timing: dict | None = None) -> Path:
    """A run folder of one target whose capture holds one exchange per response (its fields replacing the
    recorded response's); the first request is REQUEST, the others say `again N`."""
    run = folder / "codex" / "20261125-120000-shared"
    run.mkdir(parents=True)
    lines = []
    for number, fields in enumerate(responses):
        request = REQUEST if number == 0 else {**REQUEST, "messages": [{"role": "user", "content": f"again {number}"}]}
        line = captured_exchange(PATH, request, BODY, timing=timing or {"start": 1000.0, "end": 1001.0})
        line["response"].update(fields)
        lines.append(json.dumps(line, allow_nan=True))
    (run / "traffic.jsonl").write_text("".join(line + "\n" for line in lines))
    (run / "manifest.json").write_text(json.dumps({"schema": 1, "target": "codex", "prompt": "hi"}))
    return run


class StandIn:
    """`python -m probe.replay.server --run RUN` on a free port, as the replay starts it."""

    def __init__(self, run: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "probe.replay.server", "--run", str(run), "--workdir", str(run)],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        first = self.process.stdout.readline()
        self.port = int(first.rsplit(":", 1)[1].strip(" /\n")) if first.startswith("replay listening on ") else None

    def ask(self, request: dict, deadline: float = 30.0) -> tuple[bytes, float]:
        """The raw bytes of the answer to one POST, and the seconds it took; a stand-in that paused past the deadline
        fails the read."""
        body = json.dumps(request).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=deadline) as connection:
            connection.sendall(head.encode() + body)
            got = b""
            while not answered(got):
                piece = connection.recv(65536)
                assert piece, f"the connection ended before the answer did: {got!r}"
                got += piece
        return got, time.monotonic() - started

    def stop(self) -> str:
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=30)
        return stderr


def answered(raw: bytes) -> bool:
    """Whether the raw bytes hold a whole answer: its head and a body framed by its length, or chunked to its end."""
    if b"\r\n\r\n" not in raw:
        return False
    head, body = raw.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return body.endswith(b"0\r\n\r\n")


def head_lines(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_headers_and_a_reason_that_would_inject_lines_are_left_out(tmp_path):
    headers = [
        ["content-type", "text/event-stream"],
        ["x-good", "kept"],
        ["x-value", f"ok\r\n{INJECTED}"],
        [f"x-name\r\n{INJECTED}\r\nx-more", "v"],
        ["x-lf", f"ok\n{INJECTED}"],
        ["x-nul", "a\x00b"],
        ["x:colon", "v"],
        ["x-number", 5],
        [7, "v"],
        ["x-three", "a", "b"],
        ["x-space in name", "v"],
    ]
    run = run_folder(tmp_path, {"reason": f"OK\r\n{INJECTED}", "headers": headers})
    stand_in = StandIn(run)
    try:
        raw, _ = stand_in.ask(REQUEST)
    finally:
        stderr = stand_in.stop()
    head = head_lines(raw)
    assert head[0] == "HTTP/1.1 200 OK"
    assert head[1:] == ["content-type: text/event-stream", "x-good: kept", "transfer-encoding: chunked"]
    assert INJECTED.encode() not in raw and b"\x00" not in raw
    assert raw.split(b"\r\n\r\n", 1)[1] == b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY.encode())
    traffic = run / "traffic.jsonl"
    assert warnings(stderr) == [
        f"warning: {traffic}: line 1: its recorded answer's reason 'OK\\r\\nX-Injected: yes' (not a string without CR, "
        "LF or other control characters), 9 headers (the first: ['x-value', 'ok\\r\\nX-Injected: yes']: not a name "
        "and a value HTTP can send), left out"
    ]
    assert "Traceback" not in stderr


def test_bad_chunk_entries_are_left_out_and_no_pause_outlasts_the_recorded_answer(tmp_path):
    size = len(BODY) // 4
    chunks = [[0.0, size], ["soon", size], [-5, 1], [math.nan, 1], [True, 1], [5.0, "x"], [10.0, -1], [1e12, size]]
    # The answer took half a second when it was recorded: a chunk "1e12 ms" later comes when that half-second is up.
    run = run_folder(tmp_path, {"chunks": chunks}, timing={"start": 1000.0, "end": 1000.5})
    assert "NaN" in (run / "traffic.jsonl").read_text()
    stand_in = StandIn(run)
    try:
        raw, took = stand_in.ask(REQUEST)  # not a 31,000-year pause: the read would time out after 30 s
    finally:
        stderr = stand_in.stop()
    assert head_lines(raw)[0] == "HTTP/1.1 200 OK"
    pieces, body = [], raw.split(b"\r\n\r\n", 1)[1]
    while body != b"0\r\n\r\n":
        length, rest = body.split(b"\r\n", 1)
        pieces.append(rest[: int(length, 16)])
        body = rest[int(length, 16) + 2 :]
    assert b"".join(pieces) == BODY.encode()  # every byte, whatever the chunk entries said
    assert took >= 0.4  # the recorded pace kept where it can be: the last piece comes when the answer ended
    traffic = run / "traffic.jsonl"
    assert warnings(stderr) == [
        f"warning: {traffic}: line 1: its recorded answer's 6 of 8 chunks (the first: ['soon', {size}]: not "
        "[milliseconds, bytes]), left out",
        f"warning: {traffic}: line 1: its answer is recorded as coming over 1,000,000,000.000 s, past the 0.500 s it "
        f"may take (its recorded duration, at most {MAX_PACE:,.0f} s): what came later is sent then",
    ]


def test_an_answer_with_no_recorded_duration_is_paced_over_at_most_max_pace():
    said: list[str] = []
    assert (
        pace_limit({}) == pace_limit({"start": 5.0, "end": math.inf}) == pace_limit({"start": 9, "end": 1}) == MAX_PACE
    )
    assert pace_limit({"start": 0, "end": 2.5}) == 2.5 and pace_limit({"start": 0, "end": 1e9}) == MAX_PACE
    assert paced([0.0, 1e9, 7.0], MAX_PACE, 4, said) == [0.0, MAX_PACE, 7.0] and len(said) == 1
    assert paced([0.0, 0.5], 0.5, 4, said) == [0.0, 0.5] and len(said) == 1


def test_websocket_message_times_that_are_not_numbers_are_left_out_and_none_waits_past_the_answer(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    request = {"type": "response.create", "model": "m", "input": [{"role": "user", "content": "hi"}]}
    messages = [
        {"from": "client", "t": 1000.0, "body": request, "body_format": "json"},
        {"from": "server", "t": "later", "body": {"type": "response.created"}, "body_format": "json"},
        {"from": "server", "t": math.inf, "body": {"type": "response.in_progress"}, "body_format": "json"},
        # In the year 5138: a time a recorder could write (the reader takes none past 9999), far past the turn.
        {"from": "server", "t": 1e11, "body": {"type": "response.completed"}, "body_format": "json"},
    ]
    line = captured_exchange("/v1/responses", None, status=101, kind="websocket", messages=messages,
                             timing={"start": 1000.0, "end": 1002.0})  # fmt: skip
    (run / "traffic.jsonl").write_text(json.dumps(line, allow_nan=True) + "\n")
    [answer], said = recorded_answers(run)
    assert [at for at, _ in answer.messages] == [0.0, 0.0, 2.0]  # capped at the two seconds the turn took
    assert said[0] == "line 1: 2 of its WebSocket messages have a time that is not a number, left out"
    assert said[1].startswith("line 1: its answer is recorded as coming over 99,999,999,000.000 s, past the 2.000 s")


def test_a_status_http_has_not_is_a_one_line_error_and_nothing_is_served(tmp_path):
    for number, status in enumerate([10**20, "200", True, 99, 600, -1]):
        run = run_folder(tmp_path / str(number), {}, {"status": status})
        stand_in = StandIn(run)
        stderr = stand_in.stop()
        assert stand_in.port is None and stand_in.process.returncode == 2
        assert stderr.strip().splitlines() == [
            f"error: {run / 'traffic.jsonl'}: line 2 of the capture: its recorded status {status!r} is not an HTTP "
            "status (an integer from 100 to 599): the answer cannot be served"
        ]


def test_an_answer_recorded_with_no_reason_gets_the_reason_http_gives_its_status(tmp_path):
    run = run_folder(tmp_path, {"status": 404, "reason": "", "body": "{}", "headers": [["content-length", "2"]]})
    stand_in = StandIn(run)
    try:
        raw, _ = stand_in.ask(REQUEST)
    finally:
        stand_in.stop()
    assert head_lines(raw) == ["HTTP/1.1 404 Not Found", "content-length: 2"]


def test_a_replay_shows_the_first_warnings_about_the_recording_and_counts_the_rest(tmp_path):
    """Four hundred exchanges with a bad reason: more warnings than a pipe holds, read as they come (the stand-in
    would otherwise wait on a full pipe, and never listen)."""
    run = run_folder(tmp_path / "data", *[{"reason": f"OK\r\n{INJECTED} {number}"} for number in range(400)])
    agent = fake_agent(tmp_path / "bin", "codex")  # asks nothing: the replay is about what it says first
    result = replay(tmp_path / "data", "--run", str(run), "--trust", path=str(agent))
    assert "Traceback" not in result.stderr and (agent / "STARTED").exists()
    shown = [line for line in result.stderr.splitlines() if line.startswith(f"warning: {run / 'traffic.jsonl'}: ")]
    assert len(shown) == 20 and "line 20: its recorded answer's reason 'OK\\r\\nX-Injected: yes 19'" in shown[-1]
    assert "warning: replay: 380 more warnings about the recording" in result.stderr.splitlines()


def test_what_another_host_answered_is_never_served_in_place_of_the_model_apis_answer(tmp_path):
    run = run_folder(tmp_path, {})
    # The same path asked of another host through the forward proxy of --all-hosts, before the model's turn.
    elsewhere = captured_exchange(PATH, REQUEST, "data: not the model\n\n", host="https://gateway.example.com",
                                  proxy="all-hosts")  # fmt: skip
    traffic = run / "traffic.jsonl"
    traffic.write_text(json.dumps(elsewhere) + "\n" + traffic.read_text())
    [answer], said = recorded_answers(run)
    assert answer.number == 2 and b"hello" in answer.body and said == []
