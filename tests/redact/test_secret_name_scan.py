"""The scan that spares a JSON body its walk never spares one the walk would have masked something in."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.redact import masking as redaction

NAMES = [
    "api_key", "API-KEY", "apiKeys", "k_e_y", "key", "x-amz-signature", "x-amz\"signature", "prompt_cache_key",
    "monkey", "access.token", "pass", "passwd", "Pass-Phrase", "client_secret", "credentials", "cookie", "sig",
    "authorization", "author", "k\ney", "K\u212aey", "k\u0130", "tok\u00e9n", "signature", "id", "text", "S",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["sk-" + "a1" * 12, "hello", "0123456789abcdefghij", "", "the key is here"]),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)


def documents(depth: int = 3):
    leaves = VALUES
    if depth == 0:
        return leaves
    inner = documents(depth - 1)
    return st.one_of(
        leaves,
        st.dictionaries(st.sampled_from(NAMES), inner, max_size=4),
        st.lists(inner, max_size=3),
        inner.map(lambda value: json.dumps(value, ensure_ascii=False)),  # JSON held in a string, as tool arguments
    )


@settings(max_examples=examples(600), deadline=None)
@given(documents(), st.booleans())
def test_whatever_the_walk_masks_the_scan_sends_to_it(document, ascii_only):
    raw = json.dumps(document, ensure_ascii=ascii_only, separators=(",", ":")).encode()
    _, named = redaction.mask_json(json.loads(raw), strings=False)
    if named:
        assert redaction.scan_json(raw).walk, raw
    # Parsed fast or exactly, the body is the value the standard library reads (integers past 64 bits too).
    masked = redaction.mask_json_body(raw)
    assert masked.parsed == redaction.mask_json(json.loads(masked.data), strings=False)[0]
    # The text rules see the raw bytes, numbers too: a maintained rule may take a long number after a secret's name.
    if not named and redaction.mask_bytes(raw)[1] == 0:
        assert "sk-" not in raw.decode()
        assert masked.parsed == json.loads(raw) and masked.data == raw


def test_a_body_whose_keys_name_no_secret_is_not_walked_and_one_that_does_is():
    codex_like = {"model": "m", "prompt_cache_key": "abc", "input": [{"type": "message", "content": "the monkey"}]}
    assert not redaction.scan_json(json.dumps(codex_like).encode()).walk
    nested = {"arguments": json.dumps({"api_key": "plain"})}
    assert redaction.scan_json(json.dumps(nested).encode()).walk
    masked = redaction.mask_json_body(json.dumps(nested).encode())
    assert json.loads(masked.parsed["arguments"]) == {"api_key": redaction.fingerprint("plain")}


TEXTS = st.sampled_from(
    ["plain words", "sk-" + "c3" * 12, "task-" + "d4" * 12, "Bearer abc123def456", "https://u:p@host/x?key=v",
     "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", "\u00e9t\u00e9", "line\nbreak", "ctl\x01"]
)  # fmt: skip


@settings(max_examples=examples(400), deadline=None)
@given(st.recursive(st.one_of(VALUES, TEXTS), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(NAMES), TEXTS), inner, max_size=3)
), max_leaves=12))  # fmt: skip
def test_a_value_the_scan_passes_over_is_one_the_walk_leaves_alone(value):
    if not redaction.may_mask(value):
        assert redaction.mask_json(value) == (value, 0)
