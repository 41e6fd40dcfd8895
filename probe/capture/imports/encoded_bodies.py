"""A body a recording keeps as decoded, though its Content-Encoding header stays (a HAR's content, a cassette's or
trace's text, a traffic.jsonl line's body not marked decoded), that may still be in that encoding: decoded when it
is, within the import's bound, so that masking sees what it holds and a key inside cannot be recovered from what is
written."""

from probe.capture.imports.expansion import unmasked
from probe.capture.recorder import record as stored
from probe.common import decoding

# The first bytes of the encodings that have them: a body cut off part-way is taken as still encoded only by these
# (a decoded body mislabelled deflate or br can decode, part-way, into noise).
MAGIC = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


def fields(data: bytes | None, encoding: str, content_type: str) -> dict:
    """The body as the recorder stores it: decoded from `encoding` when it still is in it, else as it is, said to
    be decoded."""
    encoding = encoding.strip().lower()
    policy = unmasked()
    if not data or encoding in ("", "identity"):
        return stored.store_body(data, "", content_type, policy).fields
    found = undone(data, encoding, policy)
    if found is not None and found[1].too_large:  # still encoded, past the bound: kept as sent, as a capture keeps
        return stored.kept_as_sent(found[0], {"content_encoding_error": found[1].note}, policy).fields
    kept = stored.store_body(found[1].data if found else data, "", content_type, policy).fields
    # Decoded, here or by whoever wrote the recording (its header kept): said so, as the recorder says what it
    # decoded, or the readers would take the body for one still in its encoding.
    kept["content_encoding"] = encoding
    if found is not None and found[1].note:
        kept["content_encoding_error"] = found[1].note
    return kept


def undone(data: bytes, encoding: str, policy: stored.Policy) -> tuple[bytes, decoding.Decoded] | None:
    """The body's bytes still in `encoding` (they, or the text they are read as Latin-1, as some tools write bytes
    into text) and what they decode to (`too_large` past the policy's cap, which is told); None when they are not
    in it."""
    encoding = encoding.strip().lower()
    magic = MAGIC.get(encoding.rsplit(",", 1)[-1].strip())
    for candidate in candidates(data):
        decoded = decoding.decode_body(candidate, encoding, policy.decode_cap)
        if decoded.too_large:
            if policy.on_too_large is not None:
                policy.on_too_large(policy.decode_cap)
            return candidate, decoded
        if decoded.data and (decoded.complete or (magic is not None and candidate.startswith(magic))):
            return candidate, decoded
    return None


def candidates(data: bytes) -> list[bytes]:
    """The body's bytes, then, where it is text of code points below 256, the bytes that text stands for."""
    try:
        latin = data.decode("utf-8").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return [data]
    return [data] if latin == data else [data, latin]
