"""Masks secrets wherever they sit in what the capture stores: names that say secret (JSON keys, URL and form
parameters, multipart fields, headers), URLs, JSON values, and whole bodies by their format.

The one set of rules for every writer of the project: names (probe.redact.secret_names), headers and URLs
(urls_and_headers), JSON values (json_values, json_scan) and the text rules of probe.redact.shapes, all
importable from here. Only the standard library is imported: the capture addon loads it under any mitmdump.
"""

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

# Optional (the capture addon runs under any mitmdump): without orjson every value is checked by walking it.
try:
    import orjson
except ImportError:
    orjson = None

from probe.redact import escapes, maintained
from probe.redact.json_scan import parse_fast, parse_json, scan_json
from probe.redact.json_values import NAMED_PAIR, NOT_JSON, mask_json, mask_named_pairs, mask_string
from probe.redact.needle_scan import Finder
from probe.redact.protobuf_strings import mask_protobuf
from probe.redact.replacing import REDACTED_PREFIX, fingerprint, fingerprints_of, is_fingerprint
from probe.redact.secret_names import (
    IDENTIFIER_PROBES,
    KNOWN_SECRET_HEADERS,
    NOT_SECRET_HEADERS,
    SECRET_HEADER_PARTS,
    SECRET_SUFFIXES,
    SECRET_VARIABLE,
    URL_NAMES,
    WEAK_NAMES,
    is_secret_name,
)
from probe.redact.shape_rules import RULES
from probe.redact.shapes import ESCAPE, NEEDLE_FINDER, NEEDLE_RULES, apply_rules_at, mask_bytes, mask_text
from probe.redact.stream_pieces import mask_event_stream, mask_pieces
from probe.redact.urls_and_headers import mask_header, mask_headers, mask_parameters, mask_url

# The text rules are part of this module's interface: callers need one import for every kind of masking.
__all__ = [
    "NOT_JSON",
    "REDACTED_PREFIX",
    "SECRET_SUFFIXES",
    "WEAK_NAMES",
    "fingerprint",
    "is_fingerprint",
    "mask_bytes",
    "mask_header",
    "mask_headers",
    "mask_json",
    "mask_text",
    "mask_url",
    "parse_json",
    "scan_json",
]


@dataclass
class MaskedBody:
    data: bytes  # the body with every secret replaced, in the same format (what a flow file should store)
    parsed: Any  # the parsed, masked JSON value when the body is JSON, else NOT_JSON
    count: int  # how many values were masked


JSON_LINES_LIMIT = 32 << 20  # text bodies up to this size also have their JSON lines' secret-named fields masked
# A JSON key naming a secret, in a line of text (an SSE event, an NDJSON line), perhaps escaped once (JSON in
# a JSON string): found on the lowercased text, then the line is parsed.
# A line with an escaped ASCII character is parsed too: `"api_ke\u0079"` names a key without spelling it.
KEY_PROBES = (b'key"', b'key\\"', b'token"', b'token\\"', b"secret", b"passw", b"credential", b'signature"', b'auth"',
              b'authorization"', b'cookie"', b'pwd"', b'passphrase"', b"\\u00",
              # an account's or an organisation's id (secret_names)
              *(probe.encode() for probe in IDENTIFIER_PROBES))  # fmt: skip


def may_mask(value: Any, text: bytes | None = None) -> bool:
    """Whether mask_json could mask anything in a JSON value: False only where one pass of RE2 over the value
    written as JSON finds no rule's literal, no JSON escape the rules cannot read through and no key that could
    name a secret. (A string's text, keys included, is in that JSON as it is, but for quotes, backslashes and
    control characters, which no literal holds.) `text`, if given, is that JSON already written."""
    if orjson is None or not TEXT_FINDER.one_pass or not isinstance(value, (dict, list)):
        return True
    if text is None:
        try:
            text = orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            return True  # an integer past 64 bits, a lone surrogate: walked
    return (
        bool(TEXT_FINDER.positions(text))
        or scan_json(text).walk
        or escapes.UNREADABLE_FOUND.search(text) is not None  # what only decoding shows: looked for by the walk
        or maintained.found_in(escapes.spaced(text))
    )


def mask_json_scanned(value: Any, memo: dict | None = None) -> tuple[Any, int]:
    """mask_json(value), without its walk where may_mask says nothing in it can be masked."""
    return mask_json(value, memo=memo) if may_mask(value) else (value, 0)


def mask_body(data: bytes, content_type: str = "") -> MaskedBody:
    """Mask a body by its format: JSON, form, multipart, text or bytes; never raises."""
    if not data:
        return MaskedBody(data, NOT_JSON, 0)
    try:
        return mask_by_format(data, content_type)
    except Exception:  # whatever a hostile body trips over, it is stored, and stored masked: never dropped
        masked, count = mask_bytes(data)
        return MaskedBody(masked, NOT_JSON, count)


def mask_by_format(data: bytes, content_type: str) -> MaskedBody:
    wide = wide_charset(data, content_type)
    if wide:
        return mask_wide_text(data, content_type, wide)
    kind = content_type.split(";", 1)[0].strip().lower()
    if "protobuf" in kind:  # an OTLP export, say: its strings masked where they stand (probe.redact.protobuf_strings)
        masked = mask_protobuf(data, mask_string)
        if masked is not None:
            return MaskedBody(masked[0], NOT_JSON, masked[1])
    looks_like_json = data.lstrip()[:1] in (b"{", b"[") or data.startswith(UTF8_BOM)
    if "json" in kind or looks_like_json:
        masked = mask_json_body(data)
        if masked is not None:
            return joined_chunks_masked(masked, data)
    if kind == "application/x-www-form-urlencoded":
        # Bytes that are not UTF-8 (a Latin-1 form) are carried through unchanged, not a reason to skip the names.
        masked_text, count = mask_parameters(data.decode("utf-8", "surrogateescape"))
        return MaskedBody(masked_text.encode("utf-8", "surrogateescape") if count else data, NOT_JSON, count)
    if kind.startswith("multipart/"):
        masked = mask_multipart(data, content_type)
        if masked is not None:
            return masked
    if looks_like_json or len(data) > JSON_LINES_LIMIT:
        masked_data, count = mask_bytes(data)
        if looks_like_json and len(data) <= JSON_LINES_LIMIT:
            # JSON that does not parse (cut off, nested too deeply): its named pairs as text
            masked_data, named = mask_named_pairs_in_bytes(masked_data)
            count += named
        return MaskedBody(masked_data, NOT_JSON, count)
    masked_data, count = mask_text_lines(data)
    if b"data:" in masked_data:
        fresh = fingerprints_of(masked_data) - fingerprints_of(data) if count else set()
        # An event stream: a secret may be streamed over several events, each masked alone first (with all it
        # holds around it: where events hold whole values, two would otherwise be read as one).
        masked_data, joined = mask_event_stream(masked_data, fresh)
        count += joined
    return MaskedBody(masked_data, NOT_JSON, count)


def joined_chunks_masked(masked: MaskedBody, data: bytes) -> MaskedBody:
    """A JSON array of chunks (a stream sent without SSE) with the secrets that cross chunks masked too (`data`: the
    body before, to tell the fingerprints masking each chunk has made)."""
    if not isinstance(masked.parsed, list) or len(masked.parsed) < 2:
        return masked
    fresh = fingerprints_of(masked.data) - fingerprints_of(data) if masked.count else set()
    joined, _ = mask_pieces(masked.parsed, fresh)
    if not joined:
        return masked
    written = json.dumps(masked.parsed, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return MaskedBody(written, masked.parsed, masked.count + joined)


UTF8_BOM = b"\xef\xbb\xbf"
CHARSET = re.compile(r"(?i)charset=\"?([A-Za-z0-9_-]+)")
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def wide_charset(data: bytes, content_type: str) -> str | None:
    """UTF-16 or UTF-32, by the declared charset or a byte-order mark: text in which no byte rule can see a token."""
    declared = CHARSET.search(content_type)
    if declared and declared.group(1).lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        return declared.group(1).lower().replace("_", "-")
    return next((name for bom, name in WIDE_BOMS if data.startswith(bom)), None)


def mask_wide_text(data: bytes, content_type: str, charset: str) -> MaskedBody:
    """Decoded, masked by its format as UTF-8, and written back in its own charset."""
    try:
        text = data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        masked_bytes, count = mask_bytes(data)
        return MaskedBody(masked_bytes, NOT_JSON, count)
    masked = mask_by_format(text.encode("utf-8", "surrogatepass"), CHARSET.sub("charset=utf-8", content_type))
    if not masked.count:
        return MaskedBody(data, masked.parsed, 0)
    # Written as it came: with a byte-order mark if it had one (`utf-16` writes one), without if the charset
    # names the byte order.
    return MaskedBody(
        masked.data.decode("utf-8", "surrogatepass").encode(charset, "surrogatepass"), masked.parsed, masked.count
    )


def mask_named_pairs_in_bytes(data: bytes) -> tuple[bytes, int]:
    text, count = mask_named_pairs(data.decode("utf-8", "surrogateescape"))
    return (text.encode("utf-8", "surrogateescape"), count) if count else (data, 0)


def mask_json_body(data: bytes) -> MaskedBody | None:
    """A JSON body: the text rules run once over the raw bytes (fast, and the result stays valid JSON: a
    fingerprint needs no escaping), then a walk of the parsed value masks secret-named fields and looks into
    strings that hold JSON. None if the body is not JSON."""
    raw, count = mask_bytes(data)
    scan = scan_json(raw)
    try:
        # (a byte-order mark does not hide the fields)
        parsed = parse_json(raw.decode("utf-8-sig")) if scan.exact else parse_fast(raw)
        masked, named = mask_json(parsed, strings=False) if scan.walk else (parsed, 0)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON (or nested deeper than a walk can go): masked as text instead
    if not named:
        return MaskedBody(raw, parsed, count)
    try:
        written = json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from escapes: ASCII escapes keep them
        written = json.dumps(masked, separators=(",", ":")).encode("ascii")
    return MaskedBody(written, masked, count + named)


def mask_text_lines(data: bytes) -> tuple[bytes, int]:
    """A text body's token shapes (mask_bytes), then the secret-named fields of its JSON lines (mask_json_lines):
    both found in one pass over the text, which is read again only where a secret was masked."""
    rule_hits, key_hits, escaped = defaultdict(list), [], False
    for needle, positions in TEXT_FINDER.positions(data).items():
        if needle < RULE_NEEDLES:
            rule_hits[NEEDLE_RULES[needle]] += positions
        elif needle == ESCAPE_NEEDLE:
            escaped = True  # tokens written with JSON escapes are decoded first: the places found are not theirs
        else:
            key_hits.append(positions)
    masked, count = mask_bytes(data) if escaped else apply_rules_at(data, True, rule_hits)
    starts = line_starts(data, key_hits) if masked is data else None
    masked, named = mask_json_lines(masked, starts)
    return masked, count + named


def mask_json_lines(data: bytes, starts: list[int] | None = None) -> tuple[bytes, int]:
    """Secret-named fields in the JSON of text lines: SSE `data:` lines and NDJSON. Only the lines holding a
    candidate key (`starts`, found here if not given) are parsed, and only those that change are written back
    (compact)."""
    starts = candidate_lines(data) if starts is None else starts
    pieces, total, cursor = [], 0, 0
    for start in starts:
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end]
        prefix = b"data: " if line.startswith(b"data: ") else b"data:" if line.startswith(b"data:") else b""
        masked = mask_json_body(line[len(prefix) :])
        if masked is None:  # a line cut off mid-JSON still has its named pairs
            text, count = mask_named_pairs_in_bytes(line[len(prefix) :])
            masked = MaskedBody(text, NOT_JSON, count)
        if not masked.count:
            continue
        pieces += [data[cursor:start], prefix, masked.data]
        cursor, total = end, total + masked.count
    if not total:
        return data, 0
    return b"".join(pieces + [data[cursor:]]), total


KEY_FINDER = Finder([(probe, True) for probe in KEY_PROBES])
# Every rule's needles, the keys' probes and JSON's escape for an ASCII character, for one pass over a text body.
RULE_NEEDLES = len(NEEDLE_FINDER.needles)
TEXT_FINDER = Finder(NEEDLE_FINDER.needles + KEY_FINDER.needles + [(ESCAPE.encode(), False)])
ESCAPE_NEEDLE = len(TEXT_FINDER.needles) - 1


def candidate_lines(data: bytes) -> list[int]:
    """Where the lines start that hold a key naming a secret (found ignoring case)."""
    return line_starts(data, KEY_FINDER.positions(data).values())


def line_starts(data: bytes, found) -> list[int]:
    """Where the lines start that hold these places."""
    starts = set()
    for positions in found:
        line_end = -1
        for position in positions:
            if position < line_end:
                continue  # this line is a candidate already
            starts.add(data.rfind(b"\n", 0, position) + 1)
            line_end = data.find(b"\n", position)
            line_end = len(data) if line_end < 0 else line_end
    return sorted(starts)


MULTIPART_NAME = re.compile(rb'(?i)content-disposition:[^\r\n]*?\bname="([^"]*)"')
MULTIPART_TYPE = re.compile(rb"(?im)^content-type:[ \t]*([^\r\n]*)")
MULTIPART_BOUNDARY = re.compile(r'(?i)boundary=(?:"([^"]+)"|([^";\s]+))')


def mask_multipart(data: bytes, content_type: str) -> MaskedBody | None:
    """A multipart body: token shapes in every byte (preamble, part headers, file names, epilogue), then each
    part by its own format, and a secret-named field's value whole. None without a usable boundary."""
    boundary = MULTIPART_BOUNDARY.search(content_type)
    if not boundary:
        return None
    delimiter = b"--" + (boundary.group(1) or boundary.group(2)).encode("utf-8", "surrogateescape")
    raw, total = mask_bytes(data)
    parts = raw.split(delimiter)
    for index, part in enumerate(parts[1:], start=1):
        head, separator, value = split_part(part)
        if not separator:
            continue
        head, head_count = mask_part_headers(head)
        if head_count:
            parts[index], total = head + separator + value, total + head_count
        body, ending = trailing_newline(value)
        if not body:
            continue
        name = MULTIPART_NAME.search(head)
        if name and is_secret_name(name.group(1).decode("latin-1"), in_url=True):
            if is_fingerprint(body.decode("latin-1")):
                continue
            masked, count = fingerprint(body).encode("ascii"), 1
        else:
            part_type = MULTIPART_TYPE.search(head)
            masked_part = mask_body(body, part_type.group(1).decode("latin-1") if part_type else "")
            masked, count = masked_part.data, masked_part.count
        if count:
            parts[index] = head + separator + masked + ending
            total += count
    return MaskedBody(delimiter.join(parts) if total else data, NOT_JSON, total)


PART_HEADER = re.compile(rb"(?m)^([!-9;-~]+):[ \t]*([^\r\n]*)")


def mask_part_headers(head: bytes) -> tuple[bytes, int]:
    """A part's own headers, masked like a message's (`X-Part-Token: …` whole)."""
    total = 0

    def replace(match: re.Match) -> bytes:
        nonlocal total
        name, value = match.group(1).decode("latin-1"), match.group(2).decode("utf-8", "surrogateescape")
        masked, count = mask_header(name, value)
        total += count
        return match.group(1) + b": " + masked.encode("utf-8", "surrogateescape") if count else match.group(0)

    return PART_HEADER.sub(replace, head), total


def split_part(part: bytes) -> tuple[bytes, bytes, bytes]:
    """A part's headers, the blank line after them (CRLF, or LF as some clients write), and its content."""
    crlf, lf = part.find(b"\r\n\r\n"), part.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return part[:crlf], b"\r\n\r\n", part[crlf + 4 :]
    if lf >= 0:
        return part[:lf], b"\n\n", part[lf + 2 :]
    return part, b"", b""


def trailing_newline(value: bytes) -> tuple[bytes, bytes]:
    for ending in (b"\r\n", b"\n"):
        if value.endswith(ending):
            return value[: -len(ending)], ending
    return value, b""


# Raised whenever the masking code (not only its tables) masks more than before: 2 masks token shapes in a URL's host,
# 3 checks free-text assignments (secret_names.CHECKS) and adds the maintained rule set (probe.redact.maintained),
# 4 reads through JSON's escapes at every depth and masks around fingerprints, 5 masks accounts' and organisations'
# ids, pairs written as objects and protobuf bodies' strings.
MASKING_REVISION = 5
# Which rules a capture was masked with: a report of a capture masked with these very rules needs no second pass.
RULES_VERSION = hashlib.sha256(
    repr(
        (
            MASKING_REVISION,
            maintained.package_version(),  # its rules come with the package: a new release masks differently
            RULES,
            SECRET_SUFFIXES,
            sorted(WEAK_NAMES),
            sorted(URL_NAMES),
            sorted(KNOWN_SECRET_HEADERS),
            sorted(SECRET_HEADER_PARTS),
            sorted(NOT_SECRET_HEADERS),
            SECRET_VARIABLE.pattern,
            NAMED_PAIR.pattern,
            KEY_PROBES,
        )
    ).encode()
).hexdigest()[:12]
