"""Masks secrets wherever they sit in what the capture stores: names that say secret (JSON keys, URL and form
parameters, multipart fields, headers), URLs, JSON values, and whole bodies by their format.

The one set of rules for every writer of the project, built on the text rules of probe.redact.shapes. Only the
standard library is imported: the capture addon loads this module under any mitmdump.
"""

import contextlib
import functools
import hashlib
import json
import re
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

# Both optional (the capture addon runs under any mitmdump): without RE2 every JSON value is walked for
# secret-named fields, and without orjson every one is parsed by the standard library.
try:
    import orjson
except ImportError:
    orjson = None
try:
    import re2
except ImportError:
    re2 = None

from probe.redact.needle_scan import Finder, byte_pattern
from probe.redact.shapes import (
    ESCAPE,
    NEEDLE_FINDER,
    NEEDLE_RULES,
    REDACTED_PREFIX,
    RULES,
    apply_rules_at,
    fingerprint,
    is_fingerprint,
    mask_bytes,
    mask_text,
    which_have_shapes,
)

# The text rules are part of this module's interface: callers need one import for every kind of masking.
__all__ = ["REDACTED_PREFIX", "fingerprint", "is_fingerprint", "mask_bytes", "mask_text"]
NOT_JSON = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()  # `parsed` of a body that is not JSON


# Names that say "secret" ----------------------------------------------------------------------------------

# Normalised names (lowercase, letters and digits only) whose value is a secret whatever it looks like.
SECRET_SUFFIXES = (
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sessionkey",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "authtoken",
    "sessiontoken",
    "privatetoken",
    "bearertoken",
    "securitytoken",
    "csrftoken",
    "xsrftoken",
    "apitoken",
    "oauthtoken",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "credentials",
    "xamzsignature",
    "xamzcredential",
    "xgoogsignature",
    "authorization",
    "cookie",
)
# Names that are secrets only when the value looks like a credential: logprobs carry `"token": "Hello"`,
# and Anthropic's thinking blocks a `"signature"` that is no credential.
WEAK_NAMES = {"token", "key", "auth", "sig", "pwd", "pass"}
# In a URL, these always hold the secret: Google's `?key=`, SAS `sig=`, AWS `Signature=`, OAuth `code=`.
URL_NAMES = {"key", "token", "auth", "sig", "signature", "code", "pwd", "pass"}
CREDENTIAL_LIKE = re.compile(r"^[^\s]{16,}$")


def normalised(name: str) -> str:
    return NOT_NAME_CHARACTER.sub("", name.lower())


NOT_NAME_CHARACTER = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=1 << 14)
def is_secret_name(name: str, in_url: bool = False) -> bool:
    """Whether a JSON key, query or form parameter, or multipart field name says its value is a secret.
    (Remembered: every request of a session carries the same keys.)"""
    compact = normalised(str(name))
    if in_url and compact in URL_NAMES:
        return True
    # `api_keys`, `passwords`: the plural names secrets too.
    return compact.endswith(SECRET_SUFFIXES) or (compact[-1:] == "s" and compact[:-1].endswith(SECRET_SUFFIXES))


# An environment variable whose name says secret anywhere (GITHUB_TOKEN, OPENAI_API_KEY, DB_PASSWORD); values
# shorter than SHORTEST_SECRET are flags ("1"), which would otherwise match all over the files they are in.
SECRET_VARIABLE = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)")
SHORTEST_SECRET = 8


def is_secret_variable(name: str, value: str) -> bool:
    return SECRET_VARIABLE.search(name) is not None and len(value) >= SHORTEST_SECRET


@functools.lru_cache(maxsize=1 << 14)
def is_weak_secret_name(name: str) -> bool:
    return normalised(str(name)) in WEAK_NAMES


KNOWN_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "chatgpt-account-id",
        "openai-organization",
        "openai-project",
        "api-key",
        "anthropic-api-key",
    }
)
SECRET_HEADER_PARTS = {
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "authorization",
    "authentication",
    "credential",
    "credentials",
    "cookie",
    "signature",
}
NOT_SECRET_HEADERS = frozenset({"sec-websocket-key", "sec-websocket-accept", "idempotency-key"})


def is_secret_header(name: str, extra: frozenset[str] = frozenset()) -> bool:
    lower = name.lower()
    if lower in KNOWN_SECRET_HEADERS or lower in extra:
        return True
    if lower in NOT_SECRET_HEADERS:
        return False
    # `x-auth-token` by its parts, `x-authtoken` by how it ends.
    return any(part in SECRET_HEADER_PARTS for part in re.split(r"[-_.]", lower)) or is_secret_name(lower)


# Headers and URLs -----------------------------------------------------------------------------------------

# The credential leaves out whitespace around it, so a key gets one fingerprint however it is padded.
SINGLE_TOKEN_SCHEMES = frozenset({"bearer", "basic", "token", "bot", "apikey"})
AUTH_SCHEME = re.compile(
    r"^(?i:(bearer|basic|token|digest|bot|apikey|negotiate|ntlm|aws4-hmac-sha256))"
    r"(\s+)(\S.*?)(\s*)$",  # the credential starts at its first non-space: a lone CR after "Bearer " is none
    re.DOTALL,
)


def mask_header(name: str, value: str, extra: frozenset[str] = frozenset(), shapes: bool = True) -> tuple[str, int]:
    """A secret-named header becomes one fingerprint; in any other header, an auth scheme's credential, token
    shapes and secret URL parameters are masked. `shapes=False` says the value holds no token shape at all."""
    if not value or is_fingerprint(value):
        return value, 0
    if is_secret_header(name, extra):
        return fingerprint(value), 1
    scheme = AUTH_SCHEME.match(value)
    if scheme and not scheme.group(3).startswith(REDACTED_PREFIX):
        credential, rest, count = scheme.group(3), "", 0
        if scheme.group(1).lower() in SINGLE_TOKEN_SCHEMES:  # the credential is one word; text may follow it
            credential, rest = re.match(r"(\S+)(.*)", credential, re.DOTALL).groups()
            rest, count = mask_text(rest) if rest and shapes else (rest, 0)
        return f"{scheme.group(1)}{scheme.group(2)}{fingerprint(credential)}{rest}{scheme.group(4)}", 1 + count
    if "://" in value or value.startswith("/"):
        return mask_url(value)  # (its parts are percent-decoded first: a scan of the value says nothing)
    return mask_text(value) if shapes else (value, 0)


def mask_headers(pairs, extra: frozenset[str] = frozenset()) -> tuple[list[tuple[str, str]], int]:
    """Every header's value, and token shapes in its name: a client can send a key as a header name too."""
    masked, total = [], 0
    pairs = list(pairs)
    # One scan of every name and value tells which can hold a token shape at all: most hold none.
    flags = which_have_shapes([text for pair in pairs for text in pair])
    for index, (name, value) in enumerate(pairs):
        new_value, count = mask_header(name, value, extra, flags[2 * index + 1])
        new_name, name_count = mask_text(name) if flags[2 * index] else (name, 0)
        masked.append((new_name, new_value))
        total += count + name_count
    return masked, total


def mask_url(url: str) -> tuple[str, int]:
    """A URL (or a path with its query): user:password, secret path segments, secret or token-shaped query and
    fragment parameters, each checked after percent-decoding."""
    if not url:
        return url, 0
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return mask_text(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    # One scan of the parts, as each is checked, tells which can hold a token shape at all: most hold none.
    # (A fragment with `=` is checked as parameters, percent-decoded; any other, as it is written.)
    fragment_as_checked = urllib.parse.unquote_plus(parts.fragment) if "=" in parts.fragment else parts.fragment
    in_host, in_path, in_query, in_fragment = which_have_shapes(
        [host, urllib.parse.unquote(parts.path), urllib.parse.unquote_plus(parts.query), fragment_as_checked]
    )
    # The host too: "// <key>" in a header parses as a URL whose host is the key.
    host, total = mask_text(host) if in_host else (host, 0)
    if at and not is_fingerprint(userinfo):
        userinfo, total = fingerprint(urllib.parse.unquote(userinfo)), total + 1
    netloc = f"{userinfo}{at}{host}"
    path, count = mask_path(parts.path) if in_path else (parts.path, 0)
    query, query_count = mask_parameters(parts.query, in_query)
    if "=" in parts.fragment:
        fragment, fragment_count = mask_parameters(parts.fragment, in_fragment)
    else:
        fragment, fragment_count = mask_text(parts.fragment) if in_fragment else (parts.fragment, 0)
    total += count + query_count + fragment_count
    if not total:
        return url, 0
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, fragment)), total


def mask_path(path: str) -> tuple[str, int]:
    segments, total = path.split("/"), 0
    for index, segment in enumerate(segments):
        if not segment:
            continue
        decoded = urllib.parse.unquote(segment)
        masked, count = mask_text(decoded)
        if count:
            segments[index], total = masked, total + count
    return "/".join(segments), total


def mask_parameters(query: str, shapes: bool = True) -> tuple[str, int]:
    """`a=1&api_key=x`: secret names and token-shaped values masked (`shapes=False`: the query holds none);
    order and the rest kept as written."""
    if not query:
        return query, 0
    pieces, total = query.split("&"), 0
    for index, piece in enumerate(pieces):
        name, equals, value = piece.partition("=")
        if not equals or not value:
            continue
        decoded = urllib.parse.unquote_plus(value)
        if is_fingerprint(decoded):
            continue
        if is_secret_name(urllib.parse.unquote_plus(name), in_url=True):
            pieces[index], total = f"{name}={fingerprint(decoded)}", total + 1
            continue
        masked, count = mask_text(decoded) if shapes else (decoded, 0)
        if count:
            pieces[index], total = f"{name}={masked}", total + count
    return "&".join(pieces), total


# JSON -----------------------------------------------------------------------------------------------------

NESTED_JSON_LIMIT = 1 << 20  # a string holding JSON (tool arguments) is looked into up to this size


def mask_json(value: Any, strings: bool = True, memo: dict | None = None) -> tuple[Any, int]:
    """A masked copy of a parsed JSON value: values of secret-named keys, token shapes in every string and key,
    and the same inside strings that hold JSON themselves (tool-call arguments). The input is untouched.

    `strings=False` leaves the text rules out (a body's raw bytes had them already): names, and the JSON held in
    strings, are still checked. `memo`, if given, keeps each string's result for the next call: a session's
    records repeat the same history again and again.
    """
    if isinstance(value, dict):
        total, changed = 0, {}
        for key, item in value.items():
            new_key, key_count = (
                masked_string(key, strings, memo, is_key=True) if strings and isinstance(key, str) else (key, 0)
            )
            if is_secret_scalar(key, item):
                new_item, count = (item, 0) if is_fingerprint(str(item)) else (fingerprint(str(item)), 1)
            elif isinstance(item, list) and isinstance(key, str) and is_secret_name(key):
                new_item, count = mask_secret_list(key, item, strings)  # "api_keys": ["k1", "k2"]
            else:
                new_item, count = mask_json(item, strings, memo)
            total += key_count + count
            changed[new_key] = new_item
        return (changed, total) if total else (value, 0)
    if isinstance(value, list):
        total, items = 0, []
        for item in value:
            new_item, count = mask_json(item, strings, memo)
            items.append(new_item)
            total += count
        return (items, total) if total else (value, 0)
    if isinstance(value, str):
        return masked_string(value, strings, memo)
    return value, 0


def mask_json_scanned(value: Any, memo: dict | None = None) -> tuple[Any, int]:
    """mask_json(value), without its walk where may_mask says nothing in it can be masked."""
    return mask_json(value, memo=memo) if may_mask(value) else (value, 0)


def may_mask(value: Any, text: bytes | None = None) -> bool:
    """Whether mask_json could mask anything in a JSON value: False only where one pass of RE2 over the value
    written as JSON finds no rule's literal, no JSON escape and no key that could name a secret. (A string's
    text, keys included, is in that JSON as it is, but for quotes, backslashes and control characters, which no
    literal holds.) `text`, if given, is that JSON already written."""
    if orjson is None or TEXT_FINDER.union is None or not isinstance(value, (dict, list)):
        return True
    if text is None:
        try:
            text = orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            return True  # an integer past 64 bits, a lone surrogate: walked
    return bool(TEXT_FINDER.positions(text)) or scan_json(text).walk


MEMO_ENTRIES = 1 << 16  # strings remembered before the memo starts over: memory stays bounded


def masked_string(value: str, strings: bool, memo: dict | None, is_key: bool = False) -> tuple[str, int]:
    """A string (a key: by the text rules only) masked, or its result from `memo`."""
    found = memo.get((value, is_key)) if memo is not None else None
    if found is None:
        found = mask_text(value) if is_key else mask_string(value, strings)
        if memo is not None:
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[(value, is_key)] = found
    return found


def mask_secret_list(key: str, items: list, strings: bool) -> tuple[list, int]:
    """The scalars of a list under a secret name, each masked whole; anything else in it walked as usual."""
    masked, total = [], 0
    for item in items:
        if is_secret_scalar(key, item):
            new_item, count = (item, 0) if is_fingerprint(str(item)) else (fingerprint(str(item)), 1)
        else:
            new_item, count = mask_json(item, strings)
        masked.append(new_item)
        total += count
    return (masked, total) if total else (items, 0)


def is_secret_scalar(key: Any, item: Any) -> bool:
    if not isinstance(key, str) or isinstance(item, bool) or not isinstance(item, (str, int, float)):
        return False
    if item == "" or (isinstance(item, str) and item.startswith(REDACTED_PREFIX)):
        return False
    if is_secret_name(key):
        return True
    return is_weak_secret_name(key) and isinstance(item, str) and CREDENTIAL_LIKE.match(item) is not None


def mask_string(value: str, strings: bool = True) -> tuple[str, int]:
    stripped = value.strip()
    named = 0
    if stripped[:1] in ("{", "["):
        nested = NOT_JSON
        if stripped[-1:] in ("}", "]") and len(value) <= NESTED_JSON_LIMIT:
            with contextlib.suppress(ValueError, RecursionError):
                nested = json.loads(value)
        if nested is not NOT_JSON:
            masked, count = mask_json(nested, strings)
            if count:
                return json.dumps(masked, ensure_ascii=False), count
        else:  # too large to parse here, cut off, or not quite JSON: its `"name": value` pairs are found
            value, named = mask_named_pairs(value)
    masked_text, count = mask_text(value) if strings else (value, 0)
    return masked_text, count + named


# `"name": "value"` or `"name": 123` in text that does not parse as JSON (cut off, nested too deeply, or too
# large to walk): what a secret-named field looks like wherever it is written.
NAMED_PAIR = re.compile(r'"((?:[^"\\\n]|\\.){1,200})"\s*:\s*("(?:[^"\\\n]|\\.)*"|-?[0-9][0-9.eE+-]*)')


def mask_named_pairs(text: str) -> tuple[str, int]:
    """Mask the values of secret-named `"name": value` pairs in any text, JSON or not."""
    total = 0

    def replace(match: re.Match) -> str:
        nonlocal total
        name, value = json_string(match.group(1)), match.group(2)
        if value.startswith('"'):
            value = json_string(value[1:-1])
        if not is_secret_scalar(name, value) or is_fingerprint(value):
            return match.group(0)
        total += 1
        return f'{match.group(0)[: match.start(2) - match.start(0)]}"{fingerprint(value)}"'

    return NAMED_PAIR.sub(replace, text), total


def json_string(inner: str) -> str:
    """The text a JSON string's inside stands for (escapes decoded), or the inside itself if it is malformed."""
    try:
        return json.loads(f'"{inner}"')
    except ValueError:
        return inner


# Bodies ---------------------------------------------------------------------------------------------------


@dataclass
class MaskedBody:
    data: bytes  # the body with every secret replaced, in the same format (what a flow file should store)
    parsed: Any  # the parsed, masked JSON value when the body is JSON, else NOT_JSON
    count: int  # how many values were masked


JSON_LINES_LIMIT = 32 << 20  # text bodies up to this size also have their JSON lines' secret-named fields masked
# A JSON key naming a secret, in a line of text (an SSE event, an NDJSON line), perhaps escaped once (JSON in
# a JSON string): found on the lowercased text, then the line is parsed.
# A line with an escaped ASCII character is parsed too: `"api_ke\u0079"` names a key without spelling it.
KEY_PROBES = (
    b'key"',
    b'key\\"',
    b'token"',
    b'token\\"',
    b"secret",
    b"passw",
    b"credential",
    b'signature"',
    b'auth"',
    b'authorization"',
    b'cookie"',
    b'pwd"',
    b'passphrase"',
    b"\\u00",
)


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
    looks_like_json = data.lstrip()[:1] in (b"{", b"[") or data.startswith(UTF8_BOM)
    if "json" in kind or looks_like_json:
        masked = mask_json_body(data)
        if masked is not None:
            return masked
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
    return MaskedBody(masked_data, NOT_JSON, count)


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


def parse_json(text: str) -> Any:
    """Strict JSON: NaN and Infinity, which JSON has not, make a body text (it is then stored as it came, where
    a JSON writer would turn them into null)."""
    return json.loads(text, parse_constant=not_json_constant)


def not_json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# What a key naming a secret ends with, as is_secret_name sees it (lowercase letters and digits only): each name
# of SECRET_SUFFIXES and WEAK_NAMES ends with one of these (perhaps with a plural "s").
NAME_ENDINGS = ("key", "token", "secret", "password", "passwd", "passphrase", "credential", "signature",
                "authorization", "cookie", "auth", "sig", "pwd", "pass")  # fmt: skip
# What is_secret_name leaves out of a name, as JSON writes it (escapes too, also those of JSON in a string): it may
# come between any two letters of a name.
NOT_NAME = rb'(?:[^A-Za-z0-9"\\]|\\+(?:[bfnrt/\\]|u[0-9a-fA-F]{4}))*'


def json_scan_pattern():
    """RE2's pattern for what makes a JSON text need more than a fast parse: the end of a key that may name a
    secret (with its closing quote, escaped or not), a JSON escape of a letter, digit or quote (a name may be
    spelt with them), one of the two letters that lowercase to ASCII ones (the Kelvin sign and the dotted capital
    I), or a number of 19 digits or more (past what a 64-bit parser reads exactly). None without RE2."""
    if re2 is None:
        return None
    endings = b"|".join(NOT_NAME.join(bytes([letter]) for letter in ending.encode()) for ending in NAME_ENDINGS)
    escapes = rb"\\u(?:00[2-7][0-9a-fA-F]|212[aA]|0130)|\xe2\x84\xaa|\xc4\xb0"
    name_end = b"(?i:" + endings + b")" + NOT_NAME + b"(?i:s" + NOT_NAME + b')?\\\\*"'
    return byte_pattern(name_end + b"|" + escapes + b"|[0-9]{19}")


JSON_SCAN = json_scan_pattern()


@dataclass(frozen=True)
class JsonScan:
    walk: bool  # a key may name a secret: the parsed value must be walked
    exact: bool  # a number a 64-bit parser would round: the standard library's parser is needed


def scan_json(data: bytes) -> JsonScan:
    """What a JSON text needs, from one RE2 pass: each place a name could end is checked as is_secret_name
    would. Without RE2, everything."""
    if JSON_SCAN is None:
        return JsonScan(True, True)
    walk = exact = False
    for match in JSON_SCAN.finditer(data):
        found = match.group()
        if found[:1].isdigit():
            exact = True
        elif walk:
            pass
        elif not found.endswith(b'"'):
            walk = True  # an escape, or a letter that lowercases to ASCII: only the parsed value tells
        else:
            walk = may_name_a_secret(data, match.start(), match.end())
        if walk and exact:
            break
    return JsonScan(walk, exact)


NAME_WINDOW = 256  # bytes before a name's ending looked at for the rest of the name
JSON_ESCAPE = re.compile(rb"\\+(?:u[0-9a-fA-F]{4}|.)")  # each stands for a character no name keeps (or is masked)


def may_name_a_secret(data: bytes, start: int, end: int) -> bool:
    """Whether the name whose ending RE2 found at data[start:end] (its closing quote included) names a secret,
    as is_secret_name sees it: from the quote it starts after, or, where that quote is escaped (a key of JSON held
    in a string, or a quote inside a key), from further back too, whatever precedes it."""
    window = data[max(0, start - NAME_WINDOW) : end].rstrip(b'"').rstrip(b"\\")
    opening = window.rfind(b'"')
    name = unescaped_name(window[opening + 1 :])
    if is_secret_name(name) or is_weak_secret_name(name):
        return True
    if opening < 0 or window[opening - 1 : opening] == b"\\":
        return is_secret_name(unescaped_name(window))  # `x-amz\"signature`: the name may go on before the quote
    return False


def unescaped_name(raw: bytes) -> str:
    return JSON_ESCAPE.sub(b"", raw).decode("utf-8", "replace")


def parse_fast(data: bytes) -> Any:
    """parse_json, by orjson where it is installed and reads the text exactly."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # a byte-order mark, NaN, a lone surrogate, nesting orjson refuses: the standard library decides
    return parse_json(data.decode("utf-8-sig"))


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


# Raised whenever the masking code (not only its tables) masks more than before: 2 masks token shapes in a URL's host.
MASKING_REVISION = 2

# Which rules a capture was masked with: a report of a capture masked with these very rules needs no second pass.
RULES_VERSION = hashlib.sha256(
    repr(
        (
            MASKING_REVISION,
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
