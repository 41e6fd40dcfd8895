"""Credentials in free text (the corpus of tests/secret_corpus.py, far beyond token shapes) are masked in text, in
JSON's escaped text and in JSON bodies, each with the same fingerprint; what only looks like an assignment stays;
a secret streamed in pieces is masked across the events that carry it."""

import json
import random

import pytest
from secret_corpus import CORPUS

from probe.redact import maintained
from probe.redact.masking import fingerprint, is_fingerprint, mask_body, mask_bytes, mask_header, mask_json, mask_text
from probe.redact.replacing import fingerprints_of
from probe.redact.stream_pieces import mask_pieces


@pytest.mark.parametrize(("name", "text", "secret"), CORPUS, ids=[name for name, _, _ in CORPUS])
def test_every_credential_of_the_corpus_is_masked_however_it_is_written(name, text, secret):
    as_text = mask_text(text)[0]
    as_escaped = mask_bytes(json.dumps(text).encode())[0].decode()
    as_json = mask_body(json.dumps({"input": text}).encode(), "application/json").data.decode()
    for masked in (as_text, as_escaped, as_json):
        assert secret not in masked and json.dumps(secret)[1:-1] not in masked, masked
    assert mask_text(as_text)[0] == as_text  # idempotent: a fingerprint is never masked again


@pytest.mark.parametrize(
    "text",
    [
        '"max_tokens": 4096',
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        '"password": {"type": "string", "description": "the password"}',
        "password: string",
        "token: Optional[str] = None",
        "password = getpass.getpass()",
        "key = lambda item: item.name",
        "monkey: banana",
        "fortune_cookie: yum",
        "git diff -u a:b",
        "my-project -p",
        "password == 'hunter2'",
        "https://example.com/a?max_tokens=5",
        "token_type: bearer",
        "export OPENAI_API_KEY=$OPENAI_API_KEY",
        "api_key: ${API_KEY}",
        "auth: settings.AUTH_TOKEN",
        '{"type": "thinking", "signature": "0982b7bae7f04da3b70442a09a1475890982b7bae7f04da3b70442a09a147589"}',
        '"prompt_cache_key": "0198f2b4-6c1d-7e3a-9b5f-2d4c6e8a0b1c"',
        "the token is opaque, and keys: rotate them",
    ],
)
def test_what_only_looks_like_an_assignment_stays_readable(text):
    assert mask_text(text) == (text, 0)


def test_a_number_under_a_quoted_secret_name_keeps_the_json_valid():
    masked = mask_body(b'{"x-auth-token": 1e10, "cookie": 0.5}', "application/json")
    values = json.loads(masked.data)  # valid JSON: the numbers became quoted fingerprints, by their names
    assert sorted(values) == ["cookie", "x-auth-token"] and all(is_fingerprint(value) for value in values.values())


def test_random_binary_bodies_are_left_byte_for_byte():
    data = random.Random(7).randbytes(8 << 20)
    assert mask_body(data, "application/octet-stream").data == data


def test_the_maintained_rule_set_is_installed_and_masks_shapes_the_projects_own_rules_lack():
    assert maintained.available() and len(maintained.rule_set().ids) > 400
    webhook = "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/" + "q8Xk29vLq8ZtR4mW7pN2sY5c"
    assert "q8Xk29vLq8ZtR4mW7pN2sY5c" not in mask_text(f"post to {webhook} now")[0]


KEY = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"
ENV = "DB_PASSWORD=" + "Vq8xLm2Rt7Zp4Kw9\n"


def sse(deltas: list[str]) -> bytes:
    events = [{"type": "response.output_text.delta", "item_id": "msg_1", "delta": piece} for piece in deltas]
    events.append({"type": "response.completed", "response": {"id": "resp_1"}})
    return b"".join(b"event: x\ndata: %s\n\n" % json.dumps(event).encode() for event in events)


def deltas_of(body: bytes) -> list[str]:
    events = [json.loads(line[5:]) for line in body.split(b"\n") if line.startswith(b"data:")]
    return [event["delta"] for event in events if "delta" in event]


@pytest.mark.parametrize("size", [1, 2, 5, 9])
def test_a_key_streamed_in_pieces_is_masked_in_the_deltas_that_carry_it(size):
    text = f"Your .env holds {ENV}and the key {KEY}, done."
    pieces = [text[start : start + size] for start in range(0, len(text), size)]
    masked = mask_body(sse(pieces), "text/event-stream")
    deltas = deltas_of(masked.data)
    assert len(deltas) == len(pieces)  # the events stay, each where it was
    assert "".join(deltas) == mask_text(text)[0]  # and join to the text masked whole, with the same fingerprints
    assert not any(piece in masked.data.decode() for piece in ("Vq8xLm2R", "E4r5T6y7U8", "i9O0pAsD"))


def test_pieces_in_websocket_frames_and_json_chunk_arrays_too():
    frames = [
        {"type": "response.output_text.delta", "delta": KEY[start : start + 6]} for start in range(0, len(KEY), 6)
    ]
    count, changed = mask_pieces(frames)
    assert (
        count == 1 and "".join(frame["delta"] for frame in frames) == fingerprint(KEY) and changed == {0, 1, 2, 3, 4, 5}
    )
    chunks = [
        {"candidates": [{"content": {"parts": [{"text": ENV[start : start + 4]}]}}]} for start in range(0, len(ENV), 4)
    ]
    body = mask_body(json.dumps(chunks).encode(), "application/json")
    texts = [chunk["candidates"][0]["content"]["parts"][0]["text"] for chunk in json.loads(body.data)]
    assert "".join(texts) == mask_text(ENV)[0] and "Vq8x" not in body.data.decode()


def test_ids_repeated_in_every_event_are_not_joined_into_a_secret():
    deltas = ["Hello", " world"]
    body = sse(deltas)
    assert mask_body(body, "text/event-stream").data == body


COOKIE = "Cookie: sessionid=" + "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"


@pytest.mark.parametrize(
    "line",
    [
        f"{COOKIE}; key {KEY}",
        f"{COOKIE}; theme=dark; {fingerprint('masked before')}",
        f"Set-Cookie: auth={'Ck9Oo8Kk7I' + 'i6Ee5Aa4Uu3'}; Path=/; {fingerprint('x')} HttpOnly",
        f"{fingerprint('x')} {COOKIE}",
    ],
)
def test_a_cookie_line_is_masked_also_where_a_fingerprint_stands_on_it(line):
    masked, count = mask_text(line)
    assert count >= 1 and "9f8e7d6c" not in masked and "Ck9Oo8Kk" not in masked, masked
    assert mask_text(masked) == (masked, 0)  # and masking it again changes nothing


@pytest.mark.parametrize("size", [1, 3, 5, 8])
def test_a_cookie_streamed_in_pieces_before_a_whole_key_on_its_line_is_masked(size):
    text = f"{COOKIE}; "
    pieces = [text[start : start + size] for start in range(0, len(text), size)] + [f"key {KEY}\n"]
    masked = mask_body(sse(pieces), "text/event-stream")
    joined = "".join(deltas_of(masked.data))
    assert "9f8e7d6c" not in masked.data.decode() and KEY not in masked.data.decode(), joined
    assert mask_text(joined) == (joined, 0)  # (the key masked first, in its own event: a fingerprint of its own)


@pytest.mark.parametrize(
    "pieces",
    [
        ["DB_PASSWORD", "=", "Vq8xLm2Rt7Zp4Kw9", "\n"],
        ["Cookie: ", "sessionid=9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
        ['export STRIPE_SECRET="', "Wq3Er5Ty7Ui9Op1As3Df5", '"'],
    ],
)
def test_a_value_streamed_in_a_delta_of_its_own_after_its_name_is_masked(pieces):
    masked = mask_body(sse(pieces), "text/event-stream").data.decode()
    assert not any(secret in masked for secret in ("Vq8xLm2R", "9f8e7d6c", "Wq3Er5Ty")), masked
    assert "".join(deltas_of(masked.encode())) == mask_text("".join(pieces))[0]


def test_a_secret_header_or_field_holding_a_fingerprint_and_more_is_masked_around_it():
    marker = fingerprint("masked before")
    header, count = mask_header("cookie", f"sessionid=9f8e7d6c5b4a3928; theme={marker}")
    assert count == 1 and "9f8e7d6c" not in header and marker in header
    assert mask_header("authorization", f"Bearer {marker}") == (f"Bearer {marker}", 0)  # masked already: kept
    value, count = mask_json({"password": f"{marker} Hunter2Secret9"})
    assert count == 1 and "Hunter2" not in value["password"]
    assert mask_json({"password": marker}) == ({"password": marker}, 0)


@pytest.mark.parametrize(
    "text",
    [
        "https://api.telegram.org/bot{token}/sendMessage?chat_id=1",
        "GET /bot{token}/getUpdates HTTP/1.1",
        "the Bot{token} answers",
        "TELEGRAM={token}",
    ],
)
def test_telegram_bot_tokens_are_masked_in_their_usual_places(text):
    token = "7081234567:" + "AAFq9Zx3Wv5Ut7Sr" + "1Qp3On5Ml7Kj9Ih1Gf3"
    other = "5566778899:" + "Bx7Cv9Nm1Lk3Jh5G" + "f7Ds9Ap1Oi3Uy5Tr7Ew"  # not starting with AA: found after `bot`
    for secret in (token, other) if "bot" in text.lower() else (token,):
        masked, count = mask_text(text.format(token=secret))
        assert count == 1 and secret.split(":")[1][:8] not in masked and fingerprint(secret) in masked, masked


@pytest.mark.parametrize("split", [3, 19, 22, 30])
def test_a_key_whose_first_frame_or_chunk_alone_looks_like_one_is_masked_whole(split):
    # A first piece long enough (`sk-proj-` and 11 more) is masked alone as each frame or chunk is when it comes:
    # the rest, which opens the next piece, is masked too.
    events = [{"type": "response.output_text.delta", "delta": "key " + KEY[:split]}]
    events.append({"type": "response.output_text.delta", "delta": KEY[split:] + " done"})
    frames = [json.loads(mask_body(json.dumps(event).encode(), "").data) for event in events]
    mask_pieces(frames, fingerprints_of(json.dumps(frames)))  # (the fingerprints that masking each frame made)
    chunks = mask_body(json.dumps(events).encode(), "application/json").parsed
    for pieces in ([frame["delta"] for frame in frames], [chunk["delta"] for chunk in chunks]):
        joined = "".join(pieces)
        assert joined.startswith("key [REDACTED") and joined.endswith("] done"), joined
        assert not any(KEY[start : start + 8] in joined for start in range(len(KEY) - 7)), joined


def test_a_fingerprint_made_before_and_a_word_after_it_in_the_next_piece_are_left_as_they_are():
    # Masking a capture again: the fingerprint a stream's pieces got when it was recorded is not a key's first piece.
    url = "curl https://api.telegram.org/bot" + "7081234567:" + "AAFq9Zx3Wv5Ut7Sr" + "1Qp3On5Ml7Kj9Ih1Gf3" + "/send"
    masked = mask_body(sse(pieces_of(url, 7)), "text/event-stream").data
    assert mask_body(masked, "text/event-stream").data == masked and b"/send" in masked


def pieces_of(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


def test_a_delta_that_ends_in_a_secret_name_leaves_the_json_after_it_whole():
    # `secret:"}]}` once read as a name, then a quoted value: the closing of the event's JSON was masked, the event
    # no longer parsed, and the value in the next delta was not joined to its name.
    body = sse(["oauth:\n  client_", "secret:", " 'Zp5Xc7Vb9N" + "m1Qw3Er5Ty'\n"])
    masked = mask_body(body, "text/event-stream").data
    assert len(deltas_of(masked)) == 3 and b"Zp5Xc7Vb9N" not in masked
