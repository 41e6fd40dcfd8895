"""Masks secrets in headers (by name, and credentials after an auth scheme) and in URLs, paths and forms."""

import re
import urllib.parse

from probe.redact.replacing import REDACTED_PREFIX, between_fingerprints, fingerprint, is_fingerprint, replace_spans
from probe.redact.secret_names import is_secret_header, is_secret_name
from probe.redact.shapes import mask_text, which_have_shapes

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
        if REDACTED_PREFIX in value:  # masked already (`Bearer [REDACTED …]`): what stands around it is masked
            return masked_around_fingerprints(value)
        return fingerprint(value), 1
    scheme = AUTH_SCHEME.match(value)
    if scheme and not scheme.group(3).startswith(REDACTED_PREFIX):
        credential, rest, count = scheme.group(3), "", 0
        if scheme.group(1).lower() in SINGLE_TOKEN_SCHEMES:  # the credential is one word; text may follow it
            credential, rest = re.match(r"(\S+)(.*)", credential, re.DOTALL).groups()
            rest, count = mask_text(rest) if rest and shapes else (rest, 0)
        return f"{scheme.group(1)}{scheme.group(2)}{fingerprint(credential)}{rest}{scheme.group(4)}", 1 + count
    if WHOLE_URL.fullmatch(value):
        return mask_url(value)  # (its parts are percent-decoded first: a scan of the value says nothing)
    if "://" in value:  # URLs inside a value (`<…?session_token=x>; rel=next`, `db=postgres://u:pw@db`): each alone
        return mask_text_and_urls(value)
    return mask_text(value) if shapes else (value, 0)


def masked_around_fingerprints(value: str) -> tuple[str, int]:
    """A secret header's value that holds a fingerprint: everything else in it, but an auth scheme, masked too."""
    scheme = AUTH_SCHEME.match(value)
    start = scheme.start(3) if scheme else 0
    masked, count = replace_spans(value[start:], between_fingerprints(value[start:]), False)
    return value[:start] + masked, count


WHOLE_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|/)[^\s<>\"']*")
URL_INSIDE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"']+")


def mask_text_and_urls(value: str) -> tuple[str, int]:
    total = 0

    def masked_url(found: re.Match) -> str:
        nonlocal total
        url, count = mask_url(found.group())
        total += count
        return url

    value = URL_INSIDE.sub(masked_url, value)
    value, count = mask_text(value)
    return value, total + count


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
