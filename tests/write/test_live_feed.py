"""The live feed: one inert, masked line on stderr per finished exchange, from the real proxies, and none with
--quiet."""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, WebSocketClient, captured_exchange, post_json, read_traffic

from probe.apis.generic import reader as generic
from probe.read.follow import Follower
from probe.runs.importer import import_renderer
from probe.runs.targets import parse_target
from probe.write import live_feed

RESPONSES = import_renderer("probe.apis.openai_responses.report")
MESSAGES = import_renderer("probe.apis.anthropic_messages.report")
SECRET = "sk-proj-" + "LIVEFEEDSECRET123456"
START = 1795000000.25
CLOCK = time.strftime("%H:%M:%S", time.localtime(START))


def sse(*events: dict) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def http_record(**changes) -> dict:
    answer = sse(
        {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}},
        {"type": "response.output_text.delta", "delta": "Hello"},
        {
            "type": "response.completed",
            "response": {
                "id": "resp_1",
                "model": "gpt-5",
                "usage": {"input_tokens": 1234, "output_tokens": 56, "total_tokens": 1290},
            },
        },
    )
    timing = {"start": START, "request_end": START + 0.01, "first_byte": START + 0.12, "end": START + 1.834}
    request = {"model": "gpt-5", "input": "hi", "stream": True}
    return captured_exchange("/v1/responses", request, answer, timing=timing, **changes)


def line(record: dict, reader=RESPONSES) -> str | None:
    return live_feed.line_for(json.dumps(record).encode() + b"\n", reader)


# Formatting ---------------------------------------------------------------------------------------------


def test_an_exchange_is_one_line_with_its_model_tokens_and_timings():
    assert line(http_record()) == f"{CLOCK} model POST /v1/responses 200 gpt-5 in 1,234 out 56 ttfb 120 ms 1.8 s"


def test_an_exchange_is_read_by_its_own_api_even_without_a_targets_reader():
    shown = line(http_record(), generic)
    assert shown.startswith(f"{CLOCK} model POST /v1/responses 200 gpt-5") and " in " in shown


def test_an_exchange_no_reader_recognises_shows_no_model_or_tokens():
    record = http_record()
    record["request"] |= {"url": "https://x/api/track", "path": "/api/track", "body": {"event": "started"}}
    record["response"] |= {"headers": [["content-type", "application/json"]], "body": {"ok": True}}
    record["response"] |= {"body_format": "json"}
    assert line(record, generic) == f"{CLOCK} model POST /api/track 200 ttfb 120 ms 1.8 s"


def test_a_websocket_exchange_is_named_so_and_read_from_its_frames():
    record = http_record(kind="websocket", seq=0, ended_by="terminal-event")
    record["request"].pop("body")
    record["request"]["method"] = "GET"
    record["response"] = {"status": 101, "headers": []}
    record["messages"] = [
        {"from": "client", "t": START, "body": {"type": "response.create", "model": "gpt-5", "input": []}},
        {"from": "server", "t": START + 0.05, "body": {"type": "response.created", "response": {"id": "r"}}},
        {
            "from": "server",
            "t": START + 0.3,
            "body": {"type": "response.completed", "response": {"id": "r", "usage": {"input_tokens": 7}}},
        },
    ]
    record["timing"] = {"start": START, "first_byte": START + 0.05, "end": START + 0.3}
    assert line(record) == f"{CLOCK} model WebSocket GET /v1/responses 101 gpt-5 in 7 out ? ttfb 50 ms 300 ms"


def test_an_exchange_cut_off_or_never_answered_says_so_with_its_error():
    cut = http_record(complete=False, error="upstream stalled: nothing received for 300 s, so it was cut off")
    assert line(cut).endswith(" 1.8 s cut off: upstream stalled: nothing received for 300 s, so it was cut off")
    refused = http_record(complete=False, error="Connection refused", response=None)
    refused["timing"] = {"start": START, "end": START + 0.004}
    assert line(refused) == f"{CLOCK} model POST /v1/responses --- gpt-5 4 ms failed: Connection refused"
    # codex hangs up as soon as it has its answer: complete, and nothing to say about it.
    assert line(http_record(error="Client disconnected.")).endswith("ttfb 120 ms 1.8 s")


def test_hostile_path_model_and_error_are_printed_inert():
    record = http_record(complete=False, error="boom\x1b[2J\r\nfake line")
    record["request"]["path"] = "/v1/\x1b[31mred\x1b]0;title\x07\u202egnp.exe\u200b\n\r\tx\x9b\ud800"
    record["request"]["body"]["model"] = "gpt\x1b[1;33m-5\x00\u2028"
    shown = line(record)
    assert shown == (
        f"{CLOCK} model POST /v1/\\x1b[31mred\\x1b]0;title\\x07\\u202egnp.exe\\u200b\\n\\r\\tx\\x9b\\ud800 200 "
        "gpt\\x1b[1;33m-5\\x00\\u2028 in 1,234 out 56 ttfb 120 ms 1.8 s cut off: boom\\x1b[2J\\r\\nfake line"
    )
    for unsafe in ("\x1b", "\x07", "\x00", "\r", "\n", "\u202e", "\u200b", "\u2028", "\x9b", "\ud800"):
        assert unsafe not in shown


def test_long_captured_text_is_cut_to_a_bounded_line():
    record = http_record()
    record["request"]["path"] = "/v1/" + "a" * 100_000
    record["request"]["body"]["model"] = "m" * 10_000
    shown = line(record)
    assert f"/v1/{'a' * 196}… 200 {'m' * 60}… in 1,234" in shown and len(shown) < 400


def test_secrets_are_masked_wherever_they_are_shown():
    record = http_record(complete=False, error=f"upstream said: bad key {SECRET}")
    record["request"]["path"] = f"/v1/responses?key=plainsecret42&alt=sse&token={SECRET}"
    record["request"]["body"]["model"] = f"org/{SECRET}"
    shown = line(record)
    assert SECRET not in shown and "plainsecret42" not in shown
    assert "/v1/responses?key=[REDACTED sha256:" in shown and "&alt=sse&token=[REDACTED sha256:" in shown
    assert shown.count("[REDACTED sha256:") == 4


def test_query_keys_named_like_secrets_are_masked_even_in_a_keep_secrets_capture():
    # A --keep-secrets capture stores the URL as it was: the feed masks what it prints all the same.
    record = http_record()
    record["request"]["path"] = "/v1/responses?session_token=plainsecret42&auth_token=plainsecret43&page=2"
    shown = line(record)
    assert "plainsecret4" not in shown and "&page=2" in shown
    assert "?session_token=[REDACTED sha256:" in shown and "&auth_token=[REDACTED sha256:" in shown


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json\n", "JSONDecodeError: Expecting property name enclosed in double quotes"),
        (b"[1, 2]\n", "ValueError: not a JSON object"),
        (b'{"schema": 1, "kind": "http"}\n', "KeyError: 'request'"),
        (b"\xff\xfe\x00garbage\n", "UnicodeDecodeError"),
        (b'{"a":' * 100_000 + b"\n", "RecursionError"),
    ],
)
def test_a_line_that_cannot_be_read_is_one_line_not_a_traceback(raw, problem):
    shown = live_feed.line_for(raw, RESPONSES)
    assert re.match(r"\d\d:\d\d:\d\d \(an exchange that could not be read: ", shown), shown
    assert problem in shown and "\n" not in shown and len(shown) < 250


def test_an_over_long_or_empty_line_is_said_or_skipped():
    assert live_feed.line_for(None, RESPONSES).endswith(" (an exchange over 268,435,456 bytes, not shown)")
    assert live_feed.line_for(b"\n", RESPONSES) is None


def test_numbers_and_times_are_shown_short_and_never_fail():
    assert [live_feed.duration(ms) for ms in (0.4, 120.4, 999.4, 1834, 65_000)] == [
        "0 ms", "120 ms", "999 ms", "1.8 s", "65.0 s"
    ]  # fmt: skip
    assert [live_feed.duration(ms) for ms in (float("nan"), float("inf"), -5, 1e300)] == ["?"] * 4
    assert [live_feed.count(n) for n in (0, 1234, 1_234_567, None, -1, 10**30)] == [
        "0", "1,234", "1,234,567", "?", "?", "?"
    ]  # fmt: skip
    assert live_feed.clock(START) == CLOCK
    assert [live_feed.clock(value) for value in (None, "x", 1e300, float("nan"))] == ["--:--:--"] * 4


def test_a_long_stream_is_read_from_its_ends_only():
    """Anthropic gives input tokens at the start and output tokens at the end: both are found, and the
    100,000 deltas between are not parsed."""
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "word "}}
    body = sse(
        {
            "type": "message_start",
            "message": {"model": "claude-x", "usage": {"input_tokens": 4321, "output_tokens": 1}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *[delta] * 100_000,
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 98765}},
        {"type": "message_stop"},
    )
    assert len(body) > live_feed.LONG_STREAM
    record = http_record()
    record["request"] = {"method": "POST", "path": "/v1/messages", "body": {"model": "claude-x"}}
    record["response"]["body"] = body
    shown = line(record, MESSAGES)
    assert shown == f"{CLOCK} model POST /v1/messages 200 claude-x in 4,321 out 98,765 ttfb 120 ms 1.8 s"
    read = live_feed.exchange_of(json.dumps(record).encode()).stream_events()
    assert len(read) == 2 * live_feed.ENDS_KEPT and read[0].name == "message_start" and read[-1].name == "message_stop"
    kept = live_feed.ends_of_stream(body)
    assert kept.count("\n\n") == 2 * live_feed.ENDS_KEPT and kept.startswith("event: message_start")
    assert kept.endswith('data: {"type": "message_stop"}\n\n')


def test_a_websocket_exchange_with_many_frames_is_read_from_its_ends_only():
    frames = [{"from": "client", "t": START, "body": {"type": "response.create", "model": "gpt-5", "input": []}}]
    frames += [{"from": "server", "t": START + 0.1, "body": {"type": "response.output_text.delta", "delta": "a"}}]
    frames *= 1 + live_feed.MANY_FRAMES // 2  # a client frame and a delta, over and over
    usage = {"input_tokens": 3, "output_tokens": 2000}
    frames.append(
        {"from": "server", "t": START + 1, "body": {"type": "response.completed", "response": {"usage": usage}}}
    )
    record = http_record(kind="websocket", messages=frames, response={"status": 101})
    record["request"]["method"] = "GET"
    exchange = live_feed.exchange_of(json.dumps(record).encode())
    assert exchange.frames[0].from_client and len(exchange.frames) == 2 * live_feed.ENDS_KEPT + 1
    assert line(record).startswith(f"{CLOCK} model WebSocket GET /v1/responses 101 gpt-5 in 3 out 2,000 ttfb 120 ms")


def test_a_short_stream_is_kept_whole():
    text = sse(*[{"type": "x", "n": n} for n in range(2 * live_feed.ENDS_KEPT)])
    assert live_feed.ends_of_stream(text) == text
    assert live_feed.ends_of_stream("no events at all") == "no events at all"


def test_a_renderer_that_cannot_be_imported_falls_back_to_the_generic_reader(tmp_path, capsys):
    text = "name: broken\ndescription: x\nrenderer: probe.apis.missing\nproxies:\n"
    text += "  - {name: api, listen: 0, upstream: 'https://example.com/'}\nagent: {command: ['true']}\n"
    target = parse_target(text, "broken.yaml", tmp_path / "broken.yaml")
    assert live_feed.reader_for(target) is generic
    assert capsys.readouterr().err == (
        'warning: live feed: renderer "probe.apis.missing": no module named "probe.apis.missing"; '
        "its lines show no model or tokens\n"
    )
    assert live_feed.reader_for(None) is generic


# Following traffic.jsonl -------------------------------------------------------------------------------


def follow(path, limit=1000):
    taken, failures = [], []
    follower = Follower(path, taken.append, failures.append, limit, poll=0.01).start()
    return follower, taken, failures


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_the_follower_takes_only_new_complete_lines(tmp_path):
    path = tmp_path / "traffic.jsonl"
    path.write_bytes(b'{"old": 1}\n')
    follower, taken, failures = follow(path)
    with path.open("ab") as file:
        file.write(b'{"new": ')
        file.flush()
        time.sleep(0.05)
        assert taken == []  # half a line is not a line
        file.write(b'1}\n{"next": 2}\n{"partial"')
    assert wait_for(lambda: len(taken) == 2)
    follower.stop(5)
    assert taken == [b'{"new": 1}\n', b'{"next": 2}\n'] and failures == []
    assert not follower.thread.is_alive() and follower.file.closed


def test_the_follower_runs_at_the_lowest_priority(tmp_path):
    """The capture's own thread may read a 200 MB line: it must not take the processor from the proxies."""
    path = tmp_path / "traffic.jsonl"
    path.touch()
    follower, _, _ = follow(path)
    assert wait_for(lambda: follower.thread.native_id is not None)
    stat = (Path("/proc/self/task") / str(follower.thread.native_id) / "stat").read_text()
    follower.stop(5)
    assert stat.rsplit(")", 1)[1].split()[16] == "19"  # the thread's nice value
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0  # the rest of the process keeps its own


def test_the_follower_drops_an_over_long_line_without_holding_it(tmp_path):
    path = tmp_path / "traffic.jsonl"
    path.touch()
    follower, taken, _ = follow(path, limit=100)
    with path.open("ab") as file:
        file.write(b"x" * 60)
        file.flush()
        time.sleep(0.05)
        file.write(b"x" * 60 + b"\nshort\n")
    follower.stop(5)
    assert taken == [None, b"short\n"] and follower.parts == []


def test_the_follower_forgets_a_record_the_writer_cut_back_off(tmp_path):
    path = tmp_path / "traffic.jsonl"
    path.write_bytes(b"one\n")
    follower, taken, _ = follow(path)
    with path.open("ab") as file:
        file.write(b"half of a rec")
    assert wait_for(lambda: follower.position == 17)
    os.truncate(path, 4)  # what the addon does when a write fails half-way
    time.sleep(0.05)
    with path.open("ab") as file:
        file.write(b"two\n")
    follower.stop(5)
    assert taken == [b"two\n"]


def test_a_failure_stops_the_follower_with_one_report(tmp_path):
    path = tmp_path / "traffic.jsonl"
    path.touch()
    failures = []

    def take(line):
        raise RuntimeError("bug")

    follower = Follower(path, take, failures.append, 1000, poll=0.01).start()
    path.write_bytes(b"line\n")
    assert wait_for(lambda: not follower.thread.is_alive())
    assert [str(error) for error in failures] == ["bug"]


# The real scripts --------------------------------------------------------------------------------------


class Stderr:
    """Collects a process's stderr lines from a thread, so a test can wait for one while the process runs."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self.collect, args=(process.stderr,), daemon=True)
        self.thread.start()

    def collect(self, stream) -> None:
        for text in stream:
            self.lines.append(text.rstrip("\n"))

    def wait(self, count: int, timeout: float = 20.0) -> list[str]:
        wait_for(lambda: len(self.lines) >= count, timeout)
        return self.lines


def start_proxies_script(tmp_path, *options: str) -> tuple[subprocess.Popen, dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "probe.record", "proxies", "--target", "tests/data/itest.yaml", "--upstream", "mock",
         "--run", str(tmp_path / "run"), *options],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    urls = {}
    for _ in range(2):
        words = process.stdout.readline().split()
        if len(words) < 2:
            not_started(process, tmp_path / "run")
        urls[words[0]] = words[1]
    assert process.stdout.readline().startswith("recording into ")
    return process, urls


def not_started(process: subprocess.Popen, run) -> None:
    """Fail with what the script and its mitmdump said, so that a start that failed once can be explained."""
    process.kill()
    _, stderr = process.communicate(timeout=30)
    log = run / "proxies.log"
    mitmdump_said = log.read_text(errors="replace")[-3000:] if log.is_file() else "(no proxies.log)"
    pytest.fail(f"the proxies script did not start (exit {process.returncode}):\n{stderr}\nmitmdump:\n{mitmdump_said}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def raw_post(url: str, target: bytes, body: dict) -> bytes:
    """A POST whose request target goes out byte for byte, control characters included."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"POST %s HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (target, len(data), data)
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def usage_sent(sse_body: bytes) -> dict:
    """The usage the mock put in its last event, as the client received it."""
    last = [json.loads(text[6:]) for text in sse_body.decode().splitlines() if text.startswith("data: ")][-1]
    return last["response"]["usage"]


LINE = r"\d\d:\d\d:\d\d model POST {path} 200 {model} in {input} out {output} ttfb \d+ ms \d+(\.\d)? m?s"


def expected(path: str, model: str, usage: dict) -> str:
    return LINE.format(
        path=re.escape(path),
        model=re.escape(model),
        input=f"{usage['input_tokens']:,}",
        output=f"{usage['output_tokens']:,}",
    )


def test_the_proxies_script_prints_each_exchange_while_it_runs(tmp_path):
    process, urls = start_proxies_script(tmp_path, "--mock-transport", "http", "--keep-secrets")
    stderr = Stderr(process)
    assert stderr.wait(1)[0].startswith("warning: --keep-secrets is on")
    status, _, body = post_json(
        urls["model"], f"/v1/responses?alt=sse&key={SECRET}", {"model": "gpt-5", "input": "hi", "stream": True}
    )
    assert status == 200
    # The line is there while the proxies still run: it is a live feed, not a summary at the end.
    [feed] = stderr.wait(2)[1:]
    masked = f"/v1/responses?alt=sse&key=[REDACTED sha256:{feed.split('sha256:')[1][:8]}]"
    assert re.fullmatch(expected(masked, "gpt-5", usage_sent(body)), feed), feed
    hostile_model = "gpt\x1b[31m-red\x07\u202e\n"
    answer = raw_post(
        urls["model"],
        b"/v1/responses?x=\x1b[2J\x1b]0;pwned\x07",
        {"model": hostile_model, "input": "hi", "stream": True},
    )
    assert answer.startswith(b"HTTP/1.1 200")
    [hostile] = stderr.wait(3)[2:]
    inert_path, inert_model = "/v1/responses?x=\\x1b[2J\\x1b]0;pwned\\x07", "gpt\\x1b[31m-red\\x07\\u202e\\n"
    assert re.fullmatch(expected(inert_path, inert_model, usage_sent(answer.split(b"\r\n\r\n", 1)[1])), hostile)
    stop(process)
    stderr.thread.join(10)
    assert len(stderr.lines) == 3 and SECRET not in "\n".join(stderr.lines)
    assert all(char not in "".join(stderr.lines) for char in "\x1b\x07\u202e")
    # The capture kept the secret (--keep-secrets): the feed masked it on its own.
    assert SECRET in read_traffic(tmp_path / "run")[0]["request"]["path"]


def test_a_websocket_turn_gets_its_line_as_soon_as_it_is_answered(tmp_path):
    process, urls = start_proxies_script(tmp_path, "--mock-transport", "websocket")
    stderr = Stderr(process)
    client = WebSocketClient(urls["model"], "/v1/responses")
    client.send({"type": "response.create", "model": "gpt-5", "input": [{"type": "message", "role": "user",
                                                                        "content": "hi"}]})  # fmt: skip
    usage = client.until("response.completed")[-1]["response"]["usage"]
    # The socket is still open: the turn's line does not wait for it to close.
    [feed] = stderr.wait(1)
    assert f" model WebSocket GET /v1/responses 101 gpt-5 in {usage['input_tokens']:,} out " in feed
    assert feed.split(" out ")[1].startswith(f"{usage['output_tokens']:,} ttfb ")
    client.close()
    stop(process)
    stderr.thread.join(10)
    assert len(stderr.lines) == 1


def test_quiet_proxies_print_no_line(tmp_path):
    process, urls = start_proxies_script(tmp_path, "--mock-transport", "http", "--quiet")
    assert post_json(urls["model"], "/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True})[0] == 200
    assert wait_for(lambda: len(read_traffic(tmp_path / "run")) == 1)
    # No wait for a line to print: a feed shows all the capture holds before the script exits (probe.read.follow).
    stop(process)
    assert process.stderr.read() == ""


CLIENT = """
import json, os, urllib.request
request = urllib.request.Request(os.environ["PROBE_PROXY_URL"] + "/v1/responses", json.dumps(
    {"model": "gpt-live", "input": "hi", "stream": True}).encode(), {"content-type": "application/json"})
print(len(urllib.request.urlopen(request).read()))
"""


@pytest.mark.parametrize("task", ["capture", "pipeline"])
@pytest.mark.parametrize("quiet", [False, True], ids=["feed", "quiet"])
def test_the_invoke_tasks_print_the_feed_unless_quiet(tmp_path, private_data_dir, task, quiet):
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    result = subprocess.run(
        [sys.executable, "-m", "invoke", task, "-t", "tests/data/itest.yaml", "-u", "mock", "--mock-transport", "http",
         "--command", f"{sys.executable} {script}", *(["--quiet"] if quiet else [])],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    feed = [text for text in result.stderr.splitlines() if not text.startswith("proxy ")]
    if quiet:
        assert feed == []
        return
    [run] = (private_data_dir / "itest").iterdir()
    [entry] = read_traffic(run)
    usage = usage_sent(entry["response"]["body"].encode())
    clock = time.strftime("%H:%M:%S", time.localtime(entry["timing"]["start"]))
    assert len(feed) == 1 and feed[0].startswith(f"{clock} model POST /v1/responses 200 gpt-live ")
    assert f" in {usage['input_tokens']:,} out {usage['output_tokens']:,} ttfb " in feed[0]


def test_a_body_in_its_own_file_is_read_from_its_ends_only(tmp_path):
    delta = {"type": "response.output_text.delta", "delta": "word " * 50}
    body = sse(
        {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}},
        *[delta] * 40_000,
        {"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-5", "usage": {"input_tokens": 7,
                                                                                                 "output_tokens": 9}}},
    ).encode()  # fmt: skip
    assert len(body) > 2 * live_feed.FILE_ENDS
    name = hashlib.sha256(body).hexdigest()
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / name).write_bytes(body)
    record = http_record()
    record["response"].update(body=None, body_file=f"bodies/{name}", body_file_size=len(body))
    raw = json.dumps(record).encode() + b"\n"
    assert (
        live_feed.line_for(raw, RESPONSES, tmp_path)
        == f"{CLOCK} model POST /v1/responses 200 gpt-5 in 7 out 9 ttfb 120 ms 1.8 s"
    )
    # Without its run folder (or with a reference that is not a body file) the line is still shown, bare.
    assert live_feed.line_for(raw, RESPONSES).startswith(f"{CLOCK} model POST /v1/responses 200")
    record["response"]["body_file"] = "bodies/../../etc/passwd"
    assert live_feed.line_for(json.dumps(record).encode(), RESPONSES, tmp_path).startswith(f"{CLOCK} model POST")
