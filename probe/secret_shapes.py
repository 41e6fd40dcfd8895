"""What a secret looks like in free text, and how it is masked there: token shapes, private keys,
credentials after an auth scheme or a header name, secret URL parameters, also when written with JSON escapes.

A secret becomes a fingerprint, `[REDACTED sha256:<first 8 hex digits>]`, so two requests that used the same
key still match. Masking is idempotent: a fingerprint is never masked again. Only the standard library is
imported: the capture addon loads this module from its own folder, under any mitmdump.
"""

import hashlib
import json
import re
from dataclasses import dataclass

REDACTED_PREFIX = "[REDACTED"
FINGERPRINT = re.compile(r"\[REDACTED sha256:[0-9a-f]{8}\]")


def fingerprint(value: str | bytes) -> str:
    """A stand-in for a secret that still tells whether two requests used the same one."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    return f"[REDACTED sha256:{hashlib.sha256(data).hexdigest()[:8]}]"


def is_fingerprint(text: str) -> bool:
    return FINGERPRINT.fullmatch(text) is not None


# Rules for free text -------------------------------------------------------------------------------------
# Bodies run to hundreds of megabytes, and Python's regular expressions crawl over them (about 50 MB/s),
# while a literal `find` runs at memory speed. So each rule has a literal probe; its pattern is only tried,
# anchored, where the probe occurs.


@dataclass(frozen=True)
class Rule:
    probe: str  # a regular expression with a literal start that the secret always contains (searched fast)
    pattern: str  # the secret; a group named `keep` at its start is kept (a scheme or a name), the rest masked
    before: int = 0  # how many characters before the probe's match the secret can start
    lowercase: bool = False  # the probe is searched for in the lowercased text


# A token starts where a run of token characters starts, also right after a JSON escape (`\n`, `\u00e9`) or a
# percent-encoded character (`%20`): bodies are masked as raw JSON, where a token at the start of a line
# follows the `n` of `\n`, and a URL in a body is not decoded first.
BOUNDARY = r"(?:(?<![A-Za-z0-9_-])|(?<=\\[nrtbf])|(?<=\\u[0-9a-fA-F]{4})|(?<=%[0-9a-fA-F]{2}))"
GAP = r"(?:\s|\\[nrt])+"  # white space, also as JSON writes it


def shape(probe: str, pattern: str, before: int = 0) -> Rule:
    return Rule(probe, BOUNDARY + pattern, before)


CREDENTIAL = r"(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}"  # token characters with a digit among them
QUOTE = r"\\?[\"']"  # a quote, perhaps escaped (JSON inside a JSON string)
# What follows a secret's name in text: `": "`, `=`, `: ` …; a quoted name needs a quoted value.
NAME_THEN_VALUE = rf"(?:{QUOTE}\s*[:=]\s*{QUOTE}|\s*[:=]\s*(?:{QUOTE})?)"
PARAMETER_NAMES = (
    r"api[_-]?key|key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|auth|password|passwd|"
    r"secret|client[_-]?secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|"
    r"x-goog-signature|x-goog-credential"
)
RULES = [
    # OpenAI (also sk-proj-, sk-admin-, sk-svcacct-), Anthropic (sk-ant-), OpenRouter, Cerebras (csk-); Stripe.
    shape(r"sk[-_]", r"(?:c?sk-[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,})", 1),
    shape(r"rk_", r"rk_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe restricted keys
    shape(r"AIza", r"AIza[0-9A-Za-z_-]{20,}"),  # Google API keys
    shape(r"ya29\.", r"ya29\.[0-9A-Za-z_-]{20,}"),  # Google OAuth access tokens
    shape(r"eyJ", r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs: header.payload.signature
    shape(r"gh[pousr]_", r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub: personal, OAuth, user, server, refresh
    shape(r"github_pat_", r"github_pat_[A-Za-z0-9_]{20,}"),
    shape(r"A[KS]IA", r"A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS access key ids: long-lived, temporary
    # Slack and xAI. Each probe starts after the x: a body of x's (a padded stream) would make `x…` probes crawl.
    shape(r"ox[abprse]-", r"xox[abprse]-[A-Za-z0-9-]{10,}", 1),
    shape(r"app-[0-9]-", r"xapp-[0-9]-[A-Za-z0-9-]{10,}", 1),
    shape(r"ai-", r"xai-[A-Za-z0-9]{30,}", 1),
    shape(r"glpat-", r"glpat-[A-Za-z0-9_-]{16,}"),  # GitLab
    shape(r"hf_", r"hf_[A-Za-z0-9]{30,}"),  # Hugging Face
    shape(r"npm_", r"npm_[A-Za-z0-9]{30,}"),
    shape(r"p(?:ypi-|plx-)", r"(?:pypi-AgE[A-Za-z0-9_-]{40,}|pplx-[A-Za-z0-9]{30,})"),  # PyPI, Perplexity
    shape(r"SG\.", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),  # SendGrid
    shape(r"gsk_", r"gsk_[A-Za-z0-9]{30,}"),  # Groq
    shape(r"r8_", r"r8_[A-Za-z0-9]{30,}"),  # Replicate
    shape(r"_v1_", r"do[por]_v1_[a-f0-9]{40,}", 3),  # DigitalOcean
    shape(r"shp", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32,}"),  # Shopify
    shape(r"whsec_", r"whsec_[A-Za-z0-9+/=]{24,}"),  # webhook signing secrets
    shape(r"GOCSPX-", r"GOCSPX-[A-Za-z0-9_-]{20,}"),  # Google OAuth client secrets
    shape(r"ATATT3", r"ATATT3[A-Za-z0-9_=-]{20,}"),  # Atlassian API tokens
    shape(r"sntry", r"sntry[su]_[A-Za-z0-9+/=_-]{20,}"),  # Sentry auth tokens
    shape(r"lin_api_", r"lin_api_[A-Za-z0-9]{20,}"),  # Linear
    shape(r"ntn_", r"ntn_[A-Za-z0-9]{20,}"),  # Notion
    shape(r"PMAK-", r"PMAK-[A-Za-z0-9-]{20,}"),  # Postman
    # A private key in PEM, whole; in JSON its line ends are written `\n`, and a cut-off one is masked too.
    Rule(
        r"PRIVATE KEY",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:(?!-----END )[A-Za-z0-9+/=\s:,-]|\\[rn])*"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?",
        40,
    ),
    # A credential after an auth scheme (a curl command in a tool call), the scheme kept.
    Rule(r"bearer", rf"(?P<keep>\b(?i:bearer){GAP}){CREDENTIAL}", lowercase=True),
    Rule(r"basic", rf"(?P<keep>\b(?i:basic){GAP})(?=[A-Za-z0-9+/=]{{16}})[A-Za-z0-9+/]+=*", lowercase=True),
    # A header line naming a secret, in text: `Authorization: Bearer x`, `x-api-key: "x"`, `x-auth-token=x`.
    # After a quoted name the value must be quoted too: `"authorization": 12345678` is JSON, and an unquoted
    # mask there would break it (secret-named fields with numbers are masked, quoted, by their name instead).
    Rule(
        r"auth",
        rf"(?P<keep>(?i:authorization|auth-token){NAME_THEN_VALUE}"
        rf"(?:(?i:bearer|basic|token|digest){GAP})?){CREDENTIAL}",
        6,
        lowercase=True,
    ),
    # `api-key.<key>` too: OpenAI's Realtime API takes a key as a WebSocket subprotocol, `openai-insecure-api-key.…`.
    Rule(
        r"api-key", rf"(?P<keep>(?i:api-key){NAME_THEN_VALUE.replace('[:=]', '[:=.]')})" + CREDENTIAL, 7, lowercase=True
    ),
    # The user:password of a URL written in any text (a prompt, a tool call's `git clone`), the scheme kept.
    Rule(r"://", r"(?P<keep>://)[^\s/@:'\"<>\\]+:[^\s/@'\"<>\\]+(?=@)"),
    # A URL parameter naming a secret, anywhere in text: `?key=…`, `&access_token=…`.
    *[
        Rule(rf"{name}=", rf"(?P<keep>[?&#;](?i:{PARAMETER_NAMES})=)[^&#\s\"'<>\\]+", 24, lowercase=True)
        for name in ("key", "token", "auth", "passw(?:or)?d", "secret", "sig", "signature", "credential")
    ],
]


@dataclass(frozen=True)
class Compiled:
    """A rule's probe and pattern for str and for bytes."""

    rule: Rule
    probe: re.Pattern
    probe_bytes: re.Pattern
    pattern: re.Pattern
    pattern_bytes: re.Pattern


COMPILED = [
    Compiled(
        rule,
        re.compile(rule.probe),
        re.compile(rule.probe.encode()),
        re.compile(rule.pattern),
        re.compile(rule.pattern.encode()),
    )
    for rule in RULES
]
ESCAPE = "\\u00"  # JSON's escape for an ASCII character: a token written `\u0073k-…` is found after decoding
ESCAPED_RUN = re.compile(r"(?:[A-Za-z0-9_.+/=-]|\\u00[0-9a-fA-F]{2}|\\/)+")
TOKEN_CHARACTER = re.compile(r"[A-Za-z0-9_.+/=-]")


def mask_text(text: str) -> tuple[str, int]:
    """Token shapes, private keys, auth-scheme credentials, secret header lines and secret URL parameters in
    free text, including tokens written with JSON escapes."""
    if not text:
        return text, 0
    text, escaped = unescape_runs(text)
    masked, count = apply_rules(text, False)
    return masked, count + escaped


def mask_bytes(data: bytes) -> tuple[bytes, int]:
    """The same rules on bytes: a binary body, or text not yet decoded."""
    if not data:
        return data, 0
    if ESCAPE.encode() in data:
        decoded = data.decode("latin-1")  # one byte, one character: positions and other bytes stay as they are
        unescaped, escaped = unescape_runs(decoded)
        if escaped:
            data = unescaped.encode("latin-1")
        masked, count = apply_rules(data, True)
        return masked, count + escaped
    return apply_rules(data, True)


def apply_rules(text, is_bytes: bool):
    matches = []
    lowered = None
    for compiled in COMPILED:
        if compiled.rule.lowercase:
            lowered = lowered if lowered is not None else text.lower()
            haystack = lowered
        else:
            haystack = text
        probe = compiled.probe_bytes if is_bytes else compiled.probe
        pattern = compiled.pattern_bytes if is_bytes else compiled.pattern
        hit = probe.search(haystack)
        while hit is not None:
            match = anchored_match(pattern, text, hit.start(), compiled.rule.before)
            hit = probe.search(haystack, match.end() if match is not None else hit.start() + 1)
            if match is not None:
                matches.append(match)
    if not matches:
        return text, 0
    return replace_spans(text, matches, is_bytes)


def anchored_match(pattern: re.Pattern, text, position: int, before: int):
    """The first match that starts at most `before` characters before the probe and reaches past it."""
    for start in range(max(position - before, 0), position + 1):
        match = pattern.match(text, start)
        if match is not None and match.end() > position:
            return match
    return None


def replace_spans(text, matches: list[re.Match], is_bytes: bool):
    pieces, cursor, count = [], 0, 0
    for match in sorted(matches, key=lambda match: (match.start(), -match.end())):
        if match.start() < cursor:
            continue  # inside a secret already masked
        keep_end = match.end("keep") if "keep" in match.re.groupindex else match.start()
        secret = text[keep_end : match.end()]
        shown = secret.decode("latin-1") if is_bytes else secret
        if shown.startswith(REDACTED_PREFIX):
            continue
        replacement = fingerprint(unescaped(shown))
        pieces += [text[cursor:keep_end], replacement.encode("ascii") if is_bytes else replacement]
        cursor, count = match.end(), count + 1
    if not count:
        return text, 0
    pieces.append(text[cursor:])
    return (b"" if is_bytes else "").join(pieces), count


def unescaped(secret: str) -> str:
    """A secret as it would be written without JSON's escapes (a PEM key's `\\n`), so that it gets the same
    fingerprint wherever it appears."""
    if "\\" not in secret:
        return secret
    try:
        return json.loads(f'"{secret}"')
    except ValueError:
        return secret


def unescape_runs(text: str) -> tuple[str, int]:
    """Runs of token characters written with JSON escapes (`\\u0073k-…`, `\\/`): decoded and checked, and
    replaced by a fingerprint of the secret only if one is found (a run keeps its escapes otherwise)."""
    if ESCAPE not in text:
        return text, 0
    pieces, cursor, total = [], 0, 0
    position = text.find(ESCAPE)
    while position >= 0:
        run = ESCAPED_RUN.search(text, max(position - 4096, cursor), position + 4096)
        while run is not None and run.end() <= position:
            run = ESCAPED_RUN.search(text, run.end(), position + 4096)
        if run is None or run.start() > position:
            position = text.find(ESCAPE, position + 1)
            continue
        decoded = decode_escapes(run.group(0))
        masked, count = apply_rules(decoded, False) if decoded is not None else (None, 0)
        if count:
            pieces += [text[cursor : run.start()], masked]
            cursor, total = run.end(), total + count
        position = text.find(ESCAPE, run.end())
    if not total:
        return text, 0
    pieces.append(text[cursor:])
    return "".join(pieces), total


def decode_escapes(run: str) -> str | None:
    """A run's escapes decoded, if each stands for a token character (else the run is not one token)."""

    def character(match: re.Match) -> str:
        if match.group(0) == "\\/":
            return "/"
        decoded = chr(int(match.group(0)[2:], 16))
        if not TOKEN_CHARACTER.match(decoded):
            raise ValueError(decoded)
        return decoded

    try:
        return re.sub(r"\\u00[0-9a-fA-F]{2}|\\/", character, run)
    except ValueError:
        return None
