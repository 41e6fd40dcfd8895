"""Secrets are masked wherever and however they appear; what only looks like one is left alone."""

import gzip
import json
import os
import tracemalloc
import urllib.parse
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.common import decoding
from probe.redact import masking as redaction
from probe.redact.json_values import mask_json
from probe.redact.masking import fingerprint, mask_body, mask_bytes, mask_text
from probe.redact.urls_and_headers import mask_header, mask_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = settings(
    max_examples=examples(500),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# One made-up secret of every shape the rules know (none is real), each written in two pieces so that secret
# scanners do not take it for a leaked key.
SHAPES = {
    "openai": "sk-" + "9fA2kQ7xLm3Rt8Vb1Nc4Zp6Yh0Jw5Ds",
    "openai-project": "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL",
    "openai-admin": "sk-admin-" + "Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0Ff",
    "anthropic": "sk-ant-api03-" + "Xy7Zq9Wv2Uu4Tt6Ss8Rr0Qq1Pp3Oo5Nn",
    "google": "AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C",
    "google-oauth": "ya29." + "a0AfH6SMBx7Yq2Zr4Ts6Uv8Wx0Yz1Ab3Cd5",
    "github": "ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    "github-oauth": "gho_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",
    "github-pat": "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz012345",
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws-temporary": "ASIAY34FZKBOKMUTVV7A",
    "slack": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack-app": "xapp-1-A0123456789-1234567890123-abcdef",
    "jwt": "eyJ" + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "gitlab": "glpat-" + "AbCdEfGh1234567890Xy",
    "huggingface": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "npm": "npm_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "stripe": "sk_live_" + "51H8aBcDeFgHiJkLmNoPqRsTu",
    "stripe-restricted": "rk_test_51H8aBcDeFgHiJkLmNoPqRsTu",
    "groq": "gsk_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab",
    "xai": "xai-" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab",
    "perplexity": "pplx-" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab",
    "sendgrid": "SG." + "AbCdEfGhIjKlMnOpQrSt.UvWxYz0123456789AbCdEfGh",
    "cerebras": "csk-" + "abcdefghijklmnopqrstuvwx12",
    "google-client-secret": "GOCSPX-" + "AbCdEfGhIjKlMnOpQrStUv",
    "atlassian": "ATATT" + "3xFfGF0AbCdEfGhIjKlMnOp",
    "sentry": "sntrys_" + "eyJpYXQiOjE3MDAwMDAwMDB9abc",
    "linear": "lin_api_" + "AbCdEfGhIjKlMnOpQrStUvWx",
    "notion": "ntn_1234567890abcdefghijAB",
    "postman": "PMAK-" + "1234567890abcdef-1234567890",
}
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq+abc/def=\nQUJDREVGR0g=\n-----END RSA PRIVATE KEY-----"
# What must stay as it is: agent traffic is full of words and fields that merely resemble secrets.
LOOKALIKES = [
    "sk-learn is a library",
    "task-abcdefghijk",
    "max_tokens",
    "the AKIA prefix",
    "Bearer tokens are opaque",
    "authorization: str",
    "Basic authentication",
    "risk-assessment-framework-v2",
    "eyJ alone",
    "ghp_short",
    "key=value pairs",
    "?key=",
    "https://api.openai.com/v1/responses?alt=sse",
    "[REDACTED sha256:12345678]",
]


@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_is_masked_in_text_json_urls_headers_and_bytes(name):
    secret = SHAPES[name]
    expected = fingerprint(secret)
    assert mask_text(f"here: {secret}, then more") == (f"here: {expected}, then more", 1)
    assert mask_bytes(b"\x00\xff" + secret.encode() + b"\x00") == (b"\x00\xff" + expected.encode() + b"\x00", 1)
    body = mask_body(json.dumps({"note": f"use {secret} now", secret: 1}).encode(), "application/json")
    assert body.parsed == {"note": f"use {expected} now", expected: 1} and body.count == 2
    assert json.loads(body.data) == body.parsed  # what the flow file stores parses to what traffic.jsonl stores
    url, count = mask_url(f"https://h/v1/{secret}/x?alt=sse&q={urllib.parse.quote(secret)}#f")
    assert secret not in url and urllib.parse.quote(secret) not in url and count == 2
    assert mask_header("x-custom", f"value {secret}") == (f"value {expected}", 1)


@pytest.mark.parametrize("text", LOOKALIKES)
def test_what_only_looks_like_a_secret_is_left_alone(text):
    assert mask_text(text) == (text, 0)


def test_private_keys_are_masked_whole_also_inside_json_and_when_cut_off():
    assert mask_text(f"key:\n{PEM}\nafter") == (f"key:\n{fingerprint(PEM)}\nafter", 1)
    in_json = json.dumps({"pem": PEM}).encode()
    masked = mask_body(in_json, "application/json")
    assert masked.parsed == {"pem": fingerprint(PEM)}
    cut = PEM[:60]
    assert "MIIE" not in mask_text(cut)[0]


def test_json_escapes_do_not_hide_a_token():
    secret = SHAPES["anthropic"]
    escaped = "".join(
        f"\\u{ord(character):04x}" if index % 3 == 0 else character for index, character in enumerate(secret)
    )
    raw = f'{{"text": "{escaped}", "other": "sk\\u002d{SHAPES["openai"][3:]}"}}'.encode()
    for result in (mask_body(raw, "application/json").data, mask_body(raw, "text/plain").data, mask_bytes(raw)[0]):
        assert fingerprint(secret).encode() in result and fingerprint(SHAPES["openai"]).encode() in result
        assert escaped.encode() not in result and json.loads(result)["text"] == fingerprint(secret)
    sse = b"event: x\ndata: " + raw + b"\n\n"
    assert fingerprint(secret).encode() in mask_body(sse, "text/event-stream").data


def test_credentials_after_an_auth_scheme_in_any_header_and_in_text():
    assert mask_header("x-original-value", "Bearer abcdef0123456789") == (
        f"Bearer {fingerprint('abcdef0123456789')}",
        1,
    )
    assert (
        mask_header("x-original-value", "Basic dXNlcjpwYXNzd29yZA==")[0]
        == f"Basic {fingerprint('dXNlcjpwYXNzd29yZA==')}"
    )
    command = "curl -H \"Authorization: Bearer t0k3n-of-a-user\" -H 'X-Api-Key: abc123456789' https://x"
    masked, count = mask_text(command)
    assert count == 2 and "t0k3n-of-a-user" not in masked and "abc123456789" not in masked
    assert masked.startswith('curl -H "Authorization: Bearer [REDACTED sha256:')


@pytest.mark.parametrize(
    "name",
    [
        "authorization",
        "Proxy-Authorization",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "anthropic-api-key",
        "openai-project",
        "openai-organization",
        "x-goog-api-key",
        "x-amz-security-token",
        "x-csrf-token",
        "private-token",
        "cookie",
        "set-cookie",
        "chatgpt-account-id",
        "x-my-secret",
        "x-db-password",
        "x-authtoken",
        "x-accesstoken",
        "authentication",
        "x-session-token",
        "x-upstream-apikey",
    ],
)
def test_secret_named_headers_become_one_fingerprint(name):
    assert mask_header(name, "plain value") == (fingerprint("plain value"), 1)


@pytest.mark.parametrize(
    "name, value",
    [
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("x-ratelimit-remaining-tokens", "9000"),
        ("openai-beta", "responses=v1"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ],
)
def test_ordinary_headers_stay(name, value):
    assert mask_header(name, value) == (value, 0)


def test_a_token_used_as_a_header_name_is_masked():
    masked, count = redaction.mask_headers([(SHAPES["openai"], "1"), ("accept", "*/*")])
    assert masked == [(fingerprint(SHAPES["openai"]), "1"), ("accept", "*/*")] and count == 1


def test_secret_named_fields_at_any_depth_but_not_their_schemas_or_lookalike_names():
    body = {
        "password": "hunter2",
        "client_secret": "s3",
        "refresh_token": "r1",
        "nested": [{"api_key": "k"}],
        "PrivateToken": 42,
        "X-Amz-Signature": "abc",
        "token": "c2VjcmV0LXRva2VuLXZhbHVlLTEy",
        "max_tokens": 5,
        "prompt_cache_key": "sess-1",
        "cache_key": "c",
        "input_tokens": 3,
        "logprobs": [{"token": "Hello", "logprob": -0.1}],
        "signature": "EqQBCkYIBxgCKkC",
        "tools": [{"parameters": {"properties": {"password": {"type": "string"}}}}],
        "is_secret": True,
        "arguments": json.dumps({"password": "in tool arguments"}),
    }
    masked, count = mask_json(body)
    assert count == 8
    for key in ("password", "client_secret", "refresh_token", "PrivateToken", "X-Amz-Signature", "token"):
        assert masked[key] == fingerprint(str(body[key]))
    assert masked["nested"] == [{"api_key": fingerprint("k")}]
    assert json.loads(masked["arguments"]) == {"password": fingerprint("in tool arguments")}
    for key in (
        "max_tokens",
        "prompt_cache_key",
        "cache_key",
        "input_tokens",
        "logprobs",
        "signature",
        "tools",
        "is_secret",
    ):
        assert masked[key] == body[key]
    assert body["password"] == "hunter2"  # the input is untouched


def test_bodies_in_other_charsets_and_odd_bytes_are_masked():
    document = {"input": f"key {SHAPES['openai-project']}", "api_key": "plain-wide-key"}
    for charset in ("utf-16", "utf-16-le", "utf-32"):
        wide = json.dumps(document).encode(charset)
        masked = mask_body(wide, f"application/json; charset={charset}")
        assert masked.count == 2 and json.loads(masked.data.decode(charset)) == {
            "input": f"key {fingerprint(SHAPES['openai-project'])}",
            "api_key": fingerprint("plain-wide-key"),
        }
    # Undeclared, but with a byte-order mark: found by it.
    assert mask_body(json.dumps(document).encode("utf-16"), "application/json").count == 2
    latin = mask_body(b"client_secret=plain-latin&name=caf\xe9", "application/x-www-form-urlencoded")
    assert latin.data == f"client_secret={fingerprint('plain-latin')}&name=caf".encode() + b"\xe9"


def test_url_passwords_in_text_and_keys_in_a_websocket_subprotocol():
    masked, count = mask_text("run git clone https://alice:plain-pw@git.example.com/r.git; mail a@b.com; ssh://git@h")
    assert (
        masked
        == f"run git clone https://{fingerprint('alice:plain-pw')}@git.example.com/r.git; mail a@b.com; ssh://git@h"
        and count == 1
    )
    assert mask_url("https://alice:plain-pw@h/")[0] == f"https://{fingerprint('alice:plain-pw')}@h/"  # the same mask
    protocol = "realtime, openai-insecure-api-key.plainrealtime123, openai-beta.realtime-v1"
    assert mask_header("sec-websocket-protocol", protocol) == (
        f"realtime, openai-insecure-api-key.{fingerprint('plainrealtime123')}, openai-beta.realtime-v1",
        1,
    )
    signed = mask_url("https://storage.googleapis.com/b/o?X-Goog-Credential=c%2F1&X-Goog-Signature=ab12cd34ef")[0]
    assert "ab12cd34ef" not in signed and "c%2F1" not in signed


def test_plural_names_and_lists_under_a_secret_name():
    body = {
        "api_keys": ["k1-plain", "k2-plain"],
        "passwords": "p-plain",
        "password": ["p1", {"hint": "h"}],
        "secrets": [{"name": "GITHUB"}],
        "max_tokens": [1, 2],
        "tokens": ["Hello", "world"],
        "keys": ["a", "b"],
    }
    masked, count = mask_json(body)
    assert masked["api_keys"] == [fingerprint("k1-plain"), fingerprint("k2-plain")]
    assert masked["passwords"] == fingerprint("p-plain") and masked["password"] == [fingerprint("p1"), {"hint": "h"}]
    for key in ("secrets", "max_tokens", "tokens", "keys"):  # no scalars under a secret name, or no secret name
        assert masked[key] == body[key]
    assert count == 4
    assert "p4ss" not in mask_url("https://h/login?user=me&pwd=p4ss&pass=p5ss")[0]
    assert "p5ss" not in mask_url("https://h/login?user=me&pwd=p4ss&pass=p5ss")[0]


def test_query_form_and_fragment_parameters_by_name_and_after_percent_decoding():
    url, count = mask_url(
        "https://u:p4ss@h/x?key=plainkey&alt=sse&Signature=s1g&code=c0de&X-Amz-Credential=cred"
        "&tok=%73k-proj-Q2w3E4r5T6y7U8i9O0pAsDfGhJkL#access_token=frag"
    )
    for secret in ("p4ss", "plainkey", "s1g", "c0de", "cred", "frag", "%73k-proj", "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"):
        assert secret not in url
    assert count == 7 and "alt=sse" in url and url.startswith("https://[REDACTED sha256:")
    form = mask_body(
        b"grant_type=refresh_token&refresh_token=r1&client_secret=s2&scope=a+b", "application/x-www-form-urlencoded"
    )
    assert form.count == 2 and form.data.startswith(b"grant_type=refresh_token&refresh_token=[REDACTED")


def test_multipart_fields_by_name_and_token_shapes_in_binary_parts():
    data = (
        b'--B0undary\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nplain-form-key\r\n'
        b'--B0undary\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01" + SHAPES["github"].encode() + b"\xff\r\n"
        b'--B0undary\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B0undary--\r\n'
    )
    masked = mask_body(data, "multipart/form-data; boundary=B0undary")
    assert masked.count == 2 and b"plain-form-key" not in masked.data and SHAPES["github"].encode() not in masked.data
    assert b"\r\n\r\nassistants\r\n" in masked.data and masked.data.endswith(b"--B0undary--\r\n")


def test_multipart_masks_every_byte_and_each_part_by_its_format():
    token = SHAPES["github"]
    data = (
        f"preamble {token}\r\n".encode()
        + b'--b\xc3\xa9\r\nContent-Disposition: form-data; name="file"; filename="'
        + SHAPES["aws"].encode()
        + b'.txt"\r\nX-Part-Auth: '
        + SHAPES["slack"].encode()
        + b"\r\nX-Part-Token: plain-part-token\r\n\r\nplain\r\n"
        + b'--b\xc3\xa9\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n'
        + b'{"nested": {"client_secret": "plain-json-secret"}}\r\n'
        + b'--b\xc3\xa9\nContent-Disposition: form-data; name="password"\n\nplain-lf-password\n'
        + f"--b\u00e9--\r\nepilogue {SHAPES['openai']}\r\n".encode()
    )
    masked = mask_body(data, 'multipart/form-data; boundary="b\u00e9"')
    for secret in (
        token,
        SHAPES["aws"],
        SHAPES["slack"],
        "plain-json-secret",
        "plain-lf-password",
        SHAPES["openai"],
        "plain-part-token",
    ):
        assert secret.encode() not in masked.data
    assert masked.count == 7 and b"\r\nX-Part-Token: " + fingerprint("plain-part-token").encode() in masked.data
    assert json.loads(masked.data.split(b"\r\n\r\n")[2].split(b"\r\n")[0]) == {
        "nested": {"client_secret": fingerprint("plain-json-secret")}
    }
    assert b"\n\n" + fingerprint("plain-lf-password").encode() + b"\n--b\xc3\xa9--" in masked.data


def test_multipart_with_an_odd_or_missing_boundary_is_still_masked():
    body = f'--x\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n{SHAPES["openai"]}\r\n--x--'.encode()
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=\u2603", 'multipart/mixed; boundary="'):
        masked = mask_body(body, content_type)
        assert SHAPES["openai"].encode() not in masked.data and masked.count == 1


@pytest.mark.parametrize(
    "body",
    [
        "\ufeff" + json.dumps({"api_key": "plain-bom-key"}),  # a byte-order mark first
        "[" * 5000 + json.dumps({"api_key": "plain-bom-key"}) + "]" * 5000,  # deeper than a walk can go
        json.dumps({"model": "m", "api_key": "plain-bom-key", "input": "cut off here"})[:-8],  # cut off
        json.dumps({"arguments": json.dumps({"api_key": "plain-bom-key", "pad": "x" * (2 << 20)})}),  # > 1 MB args
        json.dumps({"arguments": json.dumps({"api_key": "plain-bom-key", "pad": "x"})[:-3]}),  # args cut off
    ],
)
def test_secret_named_fields_are_found_where_json_does_not_parse_or_is_too_large(body):
    masked = mask_body(body.encode(), "application/json")
    assert b"plain-bom-key" not in masked.data and masked.count == 1
    assert fingerprint("plain-bom-key").encode() in masked.data.replace(b"\\", b"")


def test_a_key_name_written_with_escapes_is_still_a_secret_name():
    stream = b'data: {"type":"x","api_ke\\u0079":"plain-escaped-name"}\n\ndata: {"t\\u0065xt":"caf\\u00e9"}\n\n'
    masked = mask_body(stream, "text/event-stream")
    assert b"plain-escaped-name" not in masked.data and masked.count == 1
    assert masked.data.endswith(b'data: {"t\\u0065xt":"caf\\u00e9"}\n\n')  # lines without a secret stay as sent


def test_secret_named_fields_in_sse_and_ndjson_lines():
    stream = (
        b'event: a\ndata: {"type":"a","delta":"hi"}\n\n'
        b'event: b\ndata: {"type":"b","item":{"access_token":"plain-access","input_tokens":1}}\n\n'
    )
    masked = mask_body(stream, "text/event-stream")
    assert masked.count == 1 and b"plain-access" not in masked.data
    assert masked.data.startswith(b'event: a\ndata: {"type":"a","delta":"hi"}\n\nevent: b\ndata: {"type":"b"')
    lines = mask_body(b'{"password":"p1"}\n{"ok":1}\n', "application/x-ndjson")
    assert lines.data == b'{"password":"' + fingerprint("p1").encode() + b'"}\n{"ok":1}\n'


def test_masking_is_idempotent():
    text = f"{SHAPES['openai']} Authorization: Bearer abc123456789 ?key=k1 {PEM}"
    once, count = mask_text(text)
    assert count == 4 and mask_text(once) == (once, 0)
    body = mask_body(json.dumps({"password": "p", "note": SHAPES["jwt"]}).encode(), "application/json")
    assert mask_body(body.data, "application/json").count == 0


def nested_multipart_type(depth: int) -> str:
    return f"multipart/mixed; boundary=b{depth}"


def nested_multipart(depth: int) -> bytes:
    """Multipart inside multipart, deeper than any recursion can follow."""
    body = b"innermost"
    for level in reversed(range(depth)):
        body = (
            f"--b{level}\r\nContent-Type: {nested_multipart_type(level + 1)}\r\n\r\n".encode()
            + body
            + f"\r\n--b{level}--".encode()
        )
    return body


def test_hostile_bodies_never_raise():
    for data, kind in [
        (b"\xff\xfe\x00", "application/json"),
        (b'{"a": "\\ud800"}', "application/json"),
        (b"[" * 100000 + b"]" * 100000, "application/json"),
        (b"--x\r\n", "multipart/form-data"),
        (b"%zz=%%&=&&", "application/x-www-form-urlencoded"),
        (b'data: {"password": \n\n', ""),
        (b"--\xff\r\n\r\n", "multipart/form-data; boundary=\udcff"),
        (nested_multipart(3000), nested_multipart_type(0)),
    ]:
        assert mask_body(data, kind).data  # some bytes come back, and nothing raised


# Content-Encoding ------------------------------------------------------------------------------------------

ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


def varied_text(size: int) -> bytes:
    """Text that compresses in many blocks, so a cut-off stream still decodes in part."""
    return b"".join(b'data: {"n": %d, "text": "%s"}\n\n' % (n, os.urandom(24).hex().encode()) for n in range(size))


@pytest.mark.parametrize("name", ENCODERS)
def test_whole_and_cut_off_streams_decode_as_far_as_they_go(name):
    text = varied_text(20000)
    encoded = ENCODERS[name](text)
    whole = decoding.decode_body(encoded, name, 1 << 30)
    assert whole.complete and whole.data == text and whole.note is None
    cut = decoding.decode_body(encoded[: len(encoded) * 3 // 4], name, 1 << 30)
    assert not cut.complete and 0 < len(cut.data) < len(text) and text.startswith(cut.data)
    assert cut.note.startswith(f"{name}: the stream is cut off")


def test_chained_and_unknown_encodings():
    text = varied_text(100)
    assert decoding.decode_body(brotli.compress(gzip.compress(text)), "gzip, br", 1 << 20).data == text
    unknown = decoding.decode_body(b"abc", "compress", 1 << 20)
    assert unknown.data == b"abc" and not unknown.complete and "cannot decode" in unknown.note


# brotli's takes over five seconds: CI runs it, `nox -s quick` does not.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "br" else n for n in ENCODERS])
def test_a_decompression_bomb_stays_within_the_cap(name):
    bomb = ENCODERS[name](b"\0" * (200 << 20))  # 200 MB of zeros, a few hundred kilobytes at most compressed
    cap = 8 << 20
    tracemalloc.start()
    try:
        decoded = decoding.decode_body(bomb, name, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.data is bomb and not decoded.complete and "passed the 8,388,608-byte cap" in decoded.note
    assert peak < 4 * cap  # never the 200 MB the bomb expands to


# Hypothesis: any secret, anywhere, in any encoding ---------------------------------------------------------

secrets_of_every_shape = st.sampled_from(sorted(SHAPES.values()))
filler = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | filler,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(filler, inner, max_size=3),
    max_leaves=10,
)


def escaped(secret: str, mask: int) -> str:
    """The secret as JSON can write it: some characters as \\u00XX escapes."""
    return "".join(f"\\u{ord(c):04x}" if mask >> (index % 16) & 1 else c for index, c in enumerate(secret))


@EXAMPLES
@given(
    secret=secrets_of_every_shape,
    before=filler,
    after=filler,
    value=json_values,
    escapes=st.integers(0, 65535),
    place=st.sampled_from(
        ["value", "key", "deep", "text", "sse", "url", "header", "multipart", "binary", "gzip", "utf-16"]
    ),
)
def test_a_secret_is_masked_wherever_it_is_put(secret, before, after, value, escapes, place):
    text = f"{before} {secret} {after}"
    if place in ("value", "key", "deep"):
        document = (
            {"x": value, "s": text}
            if place == "value"
            else {text: value}
            if place == "key"
            else [{"a": [value, {"b": text}]}]
        )
        raw = json.dumps(document).replace(secret, escaped(secret, escapes)).encode()
        output = mask_body(raw, "application/json").data
    elif place == "text":
        output = mask_text(text)[0].encode()
    elif place == "sse":
        raw = f"data: {json.dumps({'delta': text})}\n\n".replace(secret, escaped(secret, escapes)).encode()
        output = mask_body(raw, "text/event-stream").data
    elif place == "url":
        output = mask_url(f"https://h/{urllib.parse.quote(text)}?q={urllib.parse.quote(text)}")[0].encode()
        output = urllib.parse.unquote_to_bytes(output)
    elif place == "header":
        output = mask_header("x-anything", text)[0].encode()
    elif place == "multipart":
        raw = b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + text.encode() + b"\r\n--b--\r\n"
        output = mask_body(raw, "multipart/form-data; boundary=b").data
    elif place == "utf-16":
        raw = json.dumps({"input": text}).encode("utf-16")
        output = mask_body(raw, "application/json; charset=utf-16").data.decode("utf-16").encode()
    elif place == "binary":
        output = mask_body(os.urandom(8) + text.encode() + b"\xff\xfe", "application/octet-stream").data
    else:
        stored = decoding.decode_body(gzip.compress(text.encode())[:-4], "gzip", 1 << 20)  # cut off before the end
        output = mask_body(stored.data, "text/plain").data
    assert secret.encode() not in output
    assert escaped(secret, escapes).encode() not in output
    assert fingerprint(secret).encode() in output


def test_the_bundled_samples_hold_nothing_that_looks_like_a_secret():
    """The rules mask nothing in real agent traffic that is not a secret (the keys in it were masked at capture)."""
    for traffic in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"):
        for line in traffic.read_text().splitlines():
            entry = json.loads(line)
            for side in ("request", "response"):
                message = entry.get(side) or {}
                assert redaction.mask_headers([tuple(pair) for pair in message.get("headers", [])])[1] == 0
                assert mask_url(message.get("url", ""))[1] == 0
                body = message.get("body")
                if body is not None:
                    raw = json.dumps(body).encode() if message.get("body_format") == "json" else body.encode()
                    assert mask_body(raw, "").count == 0, traffic
            for frame in entry.get("messages", []):
                assert mask_body(json.dumps(frame["body"]).encode(), "").count == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"API-KEY":100000.0}',
        b'{"a":[{"api-key": 12345678}]}',
        b'{"Authorization": 123456789}',
        b'{"x-auth-token":1e10}',
    ],
)
def test_a_number_under_a_secret_name_is_masked_and_the_json_stays_valid(body):
    masked = redaction.mask_body(body, "application/json")
    assert masked.parsed is not redaction.NOT_JSON and masked.count == 1
    assert "[REDACTED sha256:" in json.dumps(json.loads(masked.data))


def test_a_credential_after_an_auth_scheme_gets_one_fingerprint_however_it_is_padded():
    key = "AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C"
    for value in (f"Bearer {key}", f"BEARER {key} ", f"bearer\t{key}\r\n"):
        masked, count = redaction.mask_header("x-anything", value)
        assert count == 1 and fingerprint(key) in masked and key not in masked


def test_a_key_in_what_parses_as_a_url_host_is_masked():
    """Found by the property test above: a header value starting with // parses as a URL whose host is the key."""
    key = "AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C"
    masked, count = mask_header("x-anything", f"// {key}")
    assert (masked, count) == (f"// {fingerprint(key)}", 1)
    assert mask_url(f"https://{key}.example.com/v1")[0] == f"https://{fingerprint(key)}.example.com/v1"
    assert mask_url("https://api.openai.com/v1/responses?stream=true") == (
        "https://api.openai.com/v1/responses?stream=true",
        0,
    )


def test_an_auth_scheme_with_only_whitespace_after_it_is_left_as_it_is():
    """Found by the property test of inert reports: `Bearer \r` made the credential split fail."""
    assert mask_header("x-anything", "Bearer \r") == ("Bearer \r", 0)
    assert mask_header("x-anything", "Bearer  \t") == ("Bearer  \t", 0)
    key = "abc" + "def"
    assert mask_header("x-anything", f"Bearer {key} trailing") == (f"Bearer {fingerprint(key)} trailing", 1)
