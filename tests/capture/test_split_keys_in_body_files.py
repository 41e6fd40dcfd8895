"""A key streamed over two events of an answer large enough for its own file (bodies/<sha256>) is masked there
exactly as the same answer is masked whole, wherever the cuts between the file's segments (and between the events
written and those held back) fall: before, between or after the two events, the key split at every position."""

import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import answer_with_chunked_sse, send_chunk, serving, two_proxy_target
from secret_corpus import CORPUS

from probe.capture.proxies import start_proxies
from probe.capture.recorder import body_file as capture_body_file
from probe.read.traffic import body_bytes, iter_exchanges
from probe.redact import masking as redaction
from probe.redact import stream_pieces
from probe.redact.replacing import fingerprints_of

KEY = next(secret for name, _, secret in CORPUS if name == "openai")
KEY_PIECES = [KEY[start : start + 8].encode() for start in range(len(KEY) - 7)]


def shows_no_piece_of_the_key(data: bytes) -> bool:
    return not any(piece in data for piece in KEY_PIECES)


DOTENV = next(text for name, text, _ in CORPUS if name == "env-db-password")


def sse(deltas: list[str]) -> bytes:
    events = [{"type": "response.output_text.delta", "item_id": "msg_1", "delta": delta} for delta in deltas]
    events.append({"type": "response.completed", "response": {"id": "resp_1"}})
    return b"".join(b"event: x\ndata: %s\n\n" % json.dumps(event).encode() for event in events)


def stored(tmp_path, body: bytes, chunk: int) -> tuple[bytes, int]:
    """What a body file holds of `body` given in chunks of `chunk` bytes, and how many secrets it masked."""
    file = capture_body_file.BodyFile(str(tmp_path), masking=True)
    try:
        for start in range(0, len(body), chunk):
            file.add_all([body[start : start + chunk]])
        file.finish()
        return (tmp_path / file.name).read_bytes(), file.masked
    finally:
        file.close()


@pytest.fixture
def small_segments(monkeypatch):
    """Segments of 4 KB, and 2 KB of events held back and kept around each cut: many cuts in a small body."""
    monkeypatch.setattr(capture_body_file, "SEGMENT", 4096)
    monkeypatch.setattr(stream_pieces, "HOLD", 2048)
    monkeypatch.setattr(stream_pieces, "CONTEXT", 2048)
    monkeypatch.setattr(stream_pieces, "WRITE_AT_LEAST", 1024)


def stored_in_two(tmp_path, body: bytes, cut: int) -> tuple[bytes, int]:
    """What a body file holds of `body` given in two parts, the first `cut` bytes long: past a segment's size, the
    first segment ends at its last line end."""
    file = capture_body_file.BodyFile(str(tmp_path), masking=True)
    try:
        file.add_all([body[:cut]])
        file.add_all([body[cut:]])
        file.finish()
        return (tmp_path / file.name).read_bytes(), file.masked
    finally:
        file.close()


@pytest.mark.parametrize("split", range(1, len(KEY)))
def test_a_key_split_anywhere_is_masked_in_the_file_as_in_the_whole_body(tmp_path, small_segments, split):
    deltas = ["the model streams " * 3] * 60 + ["your key " + KEY[:split], KEY[split:] + " done"]
    body = sse(deltas + ["and more text " * 5] * 40)
    whole = redaction.mask_body(body, "text/event-stream")
    # (Two fingerprints where the first piece looks like a key alone: it is masked alone, and the rest after it.)
    assert shows_no_piece_of_the_key(whole.data) and whole.count in (1, 2)
    first, second = body.index(b"your key"), body.index(b" done")
    line_ends = [end + 1 for end in range(first - 400, second + 400) if body[end : end + 1] == b"\n"]
    for cut in [*line_ends, first, second]:  # the first segment ends before, between, in or after the two events
        assert cut > capture_body_file.SEGMENT
        assert stored_in_two(tmp_path, body, cut) == (whole.data, whole.count), cut
    for chunk in (97, 4096):
        assert stored(tmp_path, body, chunk) == (whole.data, whole.count), chunk


@pytest.mark.parametrize("split", range(1, len(KEY), 3))
def test_wherever_the_events_written_and_those_held_back_part_the_key_is_masked_as_whole(small_segments, split):
    body = sse(["the model streams " * 3] * 30 + ["your key " + KEY[:split], KEY[split:] + " done"] + ["more"] * 30)
    lines, count = redaction.mask_text_lines(body)
    whole = redaction.mask_body(body, "text/event-stream")
    for cut in [end + 1 for end in range(len(lines)) if lines[end : end + 1] == b"\n"]:
        stream, fresh = stream_pieces.EventStream(), fingerprints_of(lines) - fingerprints_of(body)
        assert stream.feed(lines[:cut], fresh) + stream.feed(lines[cut:]) + stream.finish() == whole.data, cut
        assert stream.count + count == whole.count and shows_no_piece_of_the_key(whole.data)


def test_a_dotenv_streamed_a_character_at_a_time_across_many_cuts_is_masked_as_whole(
    tmp_path, small_segments, monkeypatch
):
    # Each character is an event of about 90 bytes: what is held around a cut must span a whole secret's events.
    monkeypatch.setattr(stream_pieces, "HOLD", 16384)
    monkeypatch.setattr(stream_pieces, "CONTEXT", 16384)
    text = f"{DOTENV}\nand the key {KEY}\n" * 3
    body = sse([text[start : start + 1] for start in range(len(text))])
    whole = redaction.mask_body(body, "text/event-stream")
    assert whole.count == 6 and stored(tmp_path, body, 500) == (whole.data, whole.count)


def test_at_the_real_sizes_a_key_split_at_the_first_segments_end_is_masked_as_whole(tmp_path):
    filler = ["the model streams a long answer " * 20] * 1700  # about 1 MB of events: the first segment's end
    for split in (1, 8, 20):
        body = sse(filler + ["key " + KEY[:split], KEY[split:]] + filler)
        whole = redaction.mask_body(body, "text/event-stream")
        assert len(body) > 2 * capture_body_file.SEGMENT and shows_no_piece_of_the_key(whole.data)
        assert stored(tmp_path, body, 65536) == (whole.data, whole.count)


def test_a_line_too_long_to_hold_is_passed_on_masked_line_by_line(tmp_path, monkeypatch, small_segments):
    monkeypatch.setattr(stream_pieces, "LONGEST_LINE", 10_000)
    long_event = b"data: " + json.dumps({"delta": "y" * 30_000 + " " + KEY}).encode() + b"\n\n"
    body = sse(["key " + KEY[:10], KEY[10:]]) + long_event + sse(["a", "b"])
    data, count = stored(tmp_path, body, 1000)
    assert KEY.encode() not in data and count == 2


PAIRS = 4_000
FILLER = ["the model streams a longer answer " * 12] * 900  # about 400 KB of events


def dense_answer(variant: int) -> bytes:
    """About 2 MB of SSE with, from 400 KB to 1.3 MB (where the first segment ends, and the first events written
    part from those held back), nothing but a key split over two deltas, again and again, at a position that moves
    from pair to pair: wherever a cut falls there, half the time it parts a key's two pieces. `variant` shifts every
    event a little."""
    deltas = ["." * variant, *FILLER]
    for pair in range(PAIRS):
        split = 1 + pair % (len(KEY) - 1)
        deltas += [f"key {pair} is " + KEY[:split], KEY[split:] + " ok\n"]
    return sse(deltas + FILLER * 2)


class DenseUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        answer_with_chunked_sse(self)
        body = dense_answer(int(self.path.rsplit("/", 1)[1]))
        for start in range(0, len(body), 24_000):
            send_chunk(self, body[start : start + 24_000])
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def with_threshold(tmp_path, threshold: int) -> str:
    """A mitmdump that records with the given large-body threshold: the real one, given one more option."""
    from probe.capture.proxies import find_mitmdump

    wrapper = tmp_path / f"mitmdump-threshold-{threshold}"
    real = find_mitmdump()
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:], '--set', 'probe_spool_threshold={threshold}'])\n"
    )
    wrapper.chmod(0o755)
    return str(wrapper)


def capture_answers(tmp_path, monkeypatch, threshold: int, variants: range) -> list:
    monkeypatch.delenv("PROBE_MITMDUMP", raising=False)  # (the wrapper runs the real one, not an earlier wrapper)
    monkeypatch.setenv("PROBE_MITMDUMP", with_threshold(tmp_path, threshold))
    run = tmp_path / f"run-{threshold}"
    run.mkdir()
    with serving(DenseUpstream) as upstream:
        proxies = start_proxies(two_proxy_target(tmp_path), run, upstream + "/", mock_transport="http")
        try:
            for variant in variants:
                request = urllib.request.Request(f"{proxies.urls['model']}/v1/responses/{variant}", b"{}")
                with urllib.request.urlopen(request, timeout=120) as answer:
                    assert answer.read() == dense_answer(variant)
        finally:
            proxies.stop()
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert warnings == [] and len(exchanges) == len(variants)
    for path in run.rglob("*"):
        assert path.is_dir() or KEY[10:30].encode() not in path.read_bytes(), path
    return exchanges


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_through_mitmdump_split_keys_are_masked_in_body_files_as_in_traffic_jsonl(tmp_path, monkeypatch):
    variants = range(0, 100, 25)
    in_files = capture_answers(tmp_path, monkeypatch, 64 << 10, variants)  # each answer past the threshold
    in_lines = capture_answers(tmp_path, monkeypatch, 64 << 20, variants)  # each answer under it
    for filed, inline in zip(in_files, in_lines, strict=True):
        assert filed.response_body.file and not inline.response_body.file
        assert body_bytes(filed.response_body) == body_bytes(inline.response_body)
        assert filed.response_body.size == inline.response_body.size
    masked = body_bytes(in_files[0].response_body)
    assert shows_no_piece_of_the_key(masked) and masked.count(b"[REDACTED sha256:") >= PAIRS
