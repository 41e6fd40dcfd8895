"""Recognising secrets in headers and command lines, and replacing them with fingerprints."""

import hashlib
import re
import shlex

# Kept in step with the capture addon's list, which cannot import this module (it runs standalone).
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "cookie", "set-cookie",
    "chatgpt-account-id", "openai-organization",
})
REDACTED_PREFIX = "[REDACTED"
# Kept in step with the capture addon's patterns, which cannot import this module.
TOKEN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_-])(?:sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)"
)
URL_SECRET = re.compile(
    r"(?i)([?&](?:key|api[_-]?key|apikey|token|access[_-]?token|auth|password|secret|sig|signature)=)([^&#\s`|]+)"
)
SECRET_ASSIGNMENT = re.compile(r"(?i)\b((?:api[_-]?key|access[_-]?token|token|secret|password|key)\s*[=:]\s*)([^\s&\"']+)")
SECRET_HEADER_LINE = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|x-goog-api-key|cookie|set-cookie|chatgpt-account-id"
    r"|openai-organization)(\s*:\s*)([^'\"\n]+)"
)
# Command-line flags whose next argument is a secret (curl's among them, for `--command` captures).
SECRET_FLAGS = {"--api-key", "--token", "--password", "--secret", "--key", "-b", "--cookie", "-u", "--user",
                "--oauth2-bearer", "--proxy-user"}


def fingerprint(value: str) -> str:
    return f"[REDACTED sha256:{hashlib.sha256(value.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}]"


def redact_header(name: str, value: str, extra: frozenset[str] = frozenset()) -> str:
    """Fingerprint a secret header's value; values already redacted at capture are left as they are."""
    if name.lower() in SECRET_HEADERS | extra and not value.startswith(REDACTED_PREFIX):
        return fingerprint(value)
    return value


def mask_tokens(text: str) -> str:
    """Fingerprint token-shaped strings (API keys, JWTs), leaving everything else alone."""
    # A substring check first: far cheaper than the pattern, and most text holds no candidate.
    if "sk-" in text or "AIza" in text or "eyJ" in text:
        text = TOKEN_SHAPES.sub(lambda match: fingerprint(match.group(0)), text)
    return text


def mask_tokens_and_urls(text: str) -> str:
    """What the report masks: token-shaped strings and secret URL parameters, leaving prose alone."""
    text = mask_tokens(text)
    if "=" in text:
        text = URL_SECRET.sub(lambda match: match.group(1) + fingerprint(match.group(2)), text)
    return text


def mask_text(text: str) -> str:
    """Replace token-shaped strings and `key=value` secrets in free text."""
    text = SECRET_HEADER_LINE.sub(lambda match: match.group(1) + match.group(2) + fingerprint(match.group(3)), text)
    text = TOKEN_SHAPES.sub(lambda match: fingerprint(match.group(0)), text)
    return SECRET_ASSIGNMENT.sub(lambda match: match.group(1) + fingerprint(match.group(2)), text)


def mask_command(command: str) -> str:
    """A shell command line with its secrets masked and everything else exactly as written."""
    masked = mask_text(command)
    try:
        words = shlex.split(command)
    except ValueError:
        return masked
    for flag, value in zip(words, words[1:]):
        if flag in SECRET_FLAGS and value:
            masked = masked.replace(value, fingerprint(value))
    return masked


def mask_argv(argv: list[str]) -> list[str]:
    masked, hide_next = [], False
    for argument in argv:
        if hide_next:
            masked.append(fingerprint(argument))
            hide_next = False
            continue
        hide_next = argument in SECRET_FLAGS
        masked.append(mask_text(argument))
    return masked
