"""Finds, fast, whether a JSON text names a secret anywhere, so that only such texts are parsed and walked."""

import json
import re
from dataclasses import dataclass
from typing import Any

from probe.redact.secret_names import (
    IDENTIFIER_SUFFIXES,
    OWNERS,
    is_identifier_owner,
    is_secret_name,
    is_weak_secret_name,
)

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

from probe.redact.needle_scan import byte_pattern

# What a key naming a secret ends with, as is_secret_name sees it (lowercase letters and digits only): each name
# of SECRET_SUFFIXES and WEAK_NAMES ends with one of these (perhaps with a plural "s"); and the names of objects
# whose `id` is an account's or an organisation's (secret_names.IDENTIFIER_SUFFIXES).
NAME_ENDINGS = ("key", "token", "secret", "password", "passwd", "passphrase", "credential", "signature",
                "authorization", "cookie", "auth", "sig", "pwd", "pass", *IDENTIFIER_SUFFIXES, *OWNERS)  # fmt: skip


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
    if is_secret_name(name) or is_weak_secret_name(name) or is_identifier_owner(name):
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


def parse_json(text: str) -> Any:
    """Strict JSON: NaN and Infinity, which JSON has not, make a body text (it is then stored as it came, where
    a JSON writer would turn them into null)."""
    return json.loads(text, parse_constant=not_json_constant)


def not_json_constant(name: str):
    raise ValueError(f"{name} is not JSON")
