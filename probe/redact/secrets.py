"""Masking for what the capture process writes itself: the agent's command line, the manifest, report text.

Built on the one set of rules, taken where each is defined (the text rules of probe.redact.shapes, the headers of
urls_and_headers, the fingerprint of replacing), not through probe.redact.masking, whose bodies nothing here masks;
what is added here is what only a command line has: flags whose next word is a secret, and `NAME=value` assignments.
"""

import itertools
import re
import shlex

from probe.redact.replacing import REDACTED_PREFIX, fingerprint
from probe.redact.shapes import mask_text
from probe.redact.urls_and_headers import mask_header

# Command-line flags whose next argument is a secret (curl's among them, for `--command` captures).
SECRET_FLAGS = {
    "--api-key",
    "--token",
    "--password",
    "--secret",
    "--key",
    "-b",
    "--cookie",
    "-u",
    "--user",
    "--oauth2-bearer",
    "--proxy-user",
}
# `API_KEY=x curl …`, `--password=x`, `token: x`: a secret-named assignment in a command line.
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:[a-z0-9_-]*(?:api[_-]?key|token|secret|password|passwd))\s*[=:]\s*)"
    r"(?!\[REDACTED)([^\s&\"']+)"
)

__all__ = ["REDACTED_PREFIX", "fingerprint", "mask_argv", "mask_command", "mask_tokens_and_urls", "redact_header"]


def redact_header(name: str, value: str, extra: frozenset[str] = frozenset()) -> str:
    """A header as a report shows it: secret headers fingerprinted (once), credentials and tokens masked."""
    return mask_header(name, value, extra)[0]


def mask_tokens_and_urls(text: str) -> str:
    """What the report masks: every text rule of probe.redact.shapes, leaving prose alone."""
    return mask_text(text)[0]


# A short flag whose value can be written in the same word (`-uuser:pass`, `-bsession=x`), as curl allows.
SHORT_SECRET_FLAGS = {flag for flag in SECRET_FLAGS if len(flag) == 2}


def attached_value(word: str) -> str | None:
    """The secret in a flag written as one word: `--user=bob:pw`, `-ubob:pw`; None for any other word."""
    flag, equals, value = word.partition("=")
    if equals and value and flag in SECRET_FLAGS and flag.startswith("--"):
        return value
    if word[:2] in SHORT_SECRET_FLAGS and len(word) >= 6:  # shorter is more likely a bundle of flags (`-bn`)
        return word[2:]
    return None


def mask_attached(word: str) -> str:
    value = attached_value(word)
    if value is None or value.startswith(REDACTED_PREFIX):
        return word
    return word[: len(word) - len(value)] + fingerprint(value)


def mask_assignments(text: str) -> str:
    return SECRET_ASSIGNMENT.sub(lambda match: match.group(1) + fingerprint(match.group(2)), text)


def mask_command(command: str) -> str:
    """A shell command line with its secrets masked and everything else exactly as written."""
    masked = mask_assignments(mask_text(command)[0])
    try:
        words = shlex.split(command)
    except ValueError:
        return masked
    for flag, value in itertools.pairwise(words):
        if flag in SECRET_FLAGS and value and not value.startswith(REDACTED_PREFIX):
            masked = masked.replace(value, fingerprint(value))
    for word in words:
        if mask_attached(word) != word:
            masked = masked.replace(word, mask_attached(word))
    return masked


def mask_argv(argv: list[str]) -> list[str]:
    masked, hide_next = [], False
    for argument in argv:
        if hide_next and not argument.startswith(REDACTED_PREFIX):
            masked.append(fingerprint(argument))
        else:
            masked.append(mask_assignments(mask_text(mask_attached(argument))[0]))
        hide_next = argument in SECRET_FLAGS
    return masked
