"""Masks the strings of a protobuf body (an OTLP export, any other) in its wire format, with no schema: each
length-delimited field is read as a nested message where it parses as one whole (and as text too where its bytes
are all text), else as text, which is masked as a JSON string's text is; a message whose first field names a secret
(OTLP's `KeyValue`: `api_key`, then its value) has its other strings masked whole. The lengths are written anew
around what changed. Only the standard library is imported: the capture addon loads this under any mitmdump."""

from collections.abc import Callable

from probe.common.varints import read_varint, varint_bytes
from probe.redact.replacing import fingerprint, is_fingerprint
from probe.redact.secret_names import is_secret_name

DEEPEST = 32  # nested messages read; deeper ones are masked as bytes by the caller's rules
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
Field = tuple  # (number, wire type, value: int for numbers, bytes for the rest)


Masker = Callable[[str], tuple[str, int]]  # a string's text masked, and how many secrets (json_values.mask_string)


def mask_protobuf(data: bytes, mask_string: Masker) -> tuple[bytes, int] | None:
    """The body with its strings masked by `mask_string`, and how many secrets; None where it is not one protobuf
    message."""
    fields = parsed(data, 0)
    if not fields:
        return None
    masked, count = masked_fields(fields, 0, False, mask_string)
    return (encoded(masked), count) if count else (data, 0)


def parsed(data: bytes, depth: int) -> list[Field] | None:
    """The fields of a message, or None where `data` is not one whole (an unknown wire type, a length past it)."""
    if depth > DEEPEST:
        return None
    fields, position = [], 0
    while position < len(data):
        tag, position = read_varint(data, position)
        if tag is None or tag >> 3 == 0:
            return None
        kind = tag & 7
        if kind == VARINT:
            value, position = read_varint(data, position)
            if value is None:
                return None
        elif kind in (FIXED64, FIXED32):
            size = 8 if kind == FIXED64 else 4
            if position + size > len(data):
                return None
            value, position = data[position : position + size], position + size
        elif kind == LENGTH:
            size, position = read_varint(data, position)
            if size is None or position + size > len(data):
                return None
            value, position = data[position : position + size], position + size
        else:
            return None  # groups (deprecated) and the unused wire types: not a message
        fields.append((tag >> 3, kind, value))
    return fields


def masked_fields(fields: list[Field], depth: int, whole: bool, mask_string: Masker) -> tuple[list[Field], int]:
    """Each length-delimited field masked: a nested message by its own fields, text by the text rules (`whole`:
    every string fingerprinted, under a secret's name)."""
    names_secret = bool(fields) and fields[0][1] == LENGTH and secret_name(fields[0][2])
    out, total = [], 0
    for index, (number, kind, value) in enumerate(fields):
        if kind != LENGTH or not value:
            out.append((number, kind, value))
            continue
        hidden = whole or (names_secret and index > 0)
        nested = parsed(value, depth + 1)
        if nested:
            inner, count = masked_fields(nested, depth + 1, hidden, mask_string)
            value = encoded(inner) if count else value
            if not hidden and looks_like_text(value):
                # Bytes that read both ways: a message whose tags and lengths all happen to be printable (a log
                # record holding only its body: `*4\n2Cookie: sessionid=…`, where no line starts with the
                # header's name), or text that happens to parse as fields. Each reading is masked. (Under a
                # secret's name, every string of the message is masked whole already.)
                as_text, more = masked_text(value, hidden, mask_string)
                value, count = (as_text, count + more) if more else (value, count)
        else:
            value, count = masked_text(value, hidden, mask_string)
        out.append((number, kind, value))
        total += count
    return out, total


def looks_like_text(value: bytes) -> bool:
    """UTF-8 with no control character but white space: a string, even where its bytes happen to parse as fields."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(character >= " " or character in "\t\n\r" for character in text)


def secret_name(value: bytes) -> bool:
    try:
        return is_secret_name(value.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def masked_text(value: bytes, whole: bool, mask_string: Masker) -> tuple[bytes, int]:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return value, 0  # bytes: the caller's byte rules read them
    if whole:
        return (value, 0) if is_fingerprint(text) else (fingerprint(text).encode("ascii"), 1)
    masked, count = mask_string(text)
    return (masked.encode("utf-8", "surrogatepass"), count) if count else (value, 0)


def encoded(fields: list[Field]) -> bytes:
    out = bytearray()
    for number, kind, value in fields:
        out += varint_bytes(number << 3 | kind)
        if kind == VARINT:
            out += varint_bytes(value)
        elif kind == LENGTH:
            out += varint_bytes(len(value)) + value
        else:
            out += value
    return bytes(out)
