"""Values that are masked but are no secret: the placeholders recorders write where they removed one (`<redacted>`,
`***`, `[FILTERED]`, `sk-...abcd`), identifiers masked for privacy (an organisation's, a project's, an account's),
and prose a rule took for an assignment. Masked all the same; only never counted as a secret a source held."""

import re

from probe.redact.secret_names import normalised

PLACEHOLDER = re.compile(
    r"(?i)\s*(?:bearer\s+|basic\s+|token\s+)?(?:"
    r"[<\[{(]+\s*[A-Za-z0-9 _.:-]{0,40}\s*[>\]})]+"  # <redacted>, [FILTERED], {API_KEY}, (hidden), [REDACTED_SECRET]
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"  # $OPENAI_API_KEY, ${TOKEN}
    r"|\{\{[^{}]{0,60}\}\}"  # {{token}}
    r"|[*x.•·…#_-]*"  # ***, xxxx, ..., empty
    r"|(?:redacted|filtered|removed|hidden|masked|omitted|scrubbed|dummy|fake|mock|test|example|placeholder|none|null"
    r"|changeme|secret|password|token|api[_-]?key|your[_-]?[a-z_-]*)(?:[_-]?(?:key|token|value|secret))?"
    # sk-...abcd, sk-proj-****1234
    r"|[A-Za-z]{2,8}[-_](?:[A-Za-z]{2,8}[-_])?[A-Za-z0-9]{0,4}(?:\.{2,}|…|\*{2,}|x{3,}|X{3,})[A-Za-z0-9]{0,6}"
    r")\s*"
)
# Identifiers a service gives (masked, as names that place a user are): a project's, an organisation's, an account's.
IDENTIFIER_SHAPE = re.compile(
    r"(?:proj|org|acct|user|ws|workspace|team|tenant)[-_][A-Za-z0-9]{6,64}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
IDENTIFIER_NAME = re.compile(r"(?:organi[sz]ation|org|project|account|workspace|tenant|team|user)(?:id|ids)?$")
# A credential has at least this many characters, most of them letters or digits; shorter, or mostly punctuation
# (a date format), or words alone (`never` after `secrets:` in prose), it is no credential whatever masked it.
SHORTEST = 8
WORDLIKE = re.compile(r"[a-z]+(?:[_.-][a-z]+)*")  # a word, or a name made of words (`metadata_passthrough`)


def is_identifier_name(name: str) -> bool:
    """A header or key that names who or what a request is for (`OpenAI-Organization`, `chatgpt-account-id`)."""
    return IDENTIFIER_NAME.search(normalised(name)) is not None


def is_secret(value: str, identifiers: frozenset[str] = frozenset()) -> bool:
    """Whether a masked value was a secret: not a placeholder, not one of `identifiers` (values found under an
    identifier's name) nor of an identifier's shape, and long enough, and made enough of letters and digits."""
    stripped = value.strip()
    if stripped in identifiers or PLACEHOLDER.fullmatch(stripped) or IDENTIFIER_SHAPE.fullmatch(stripped):
        return False
    if len(stripped) < SHORTEST or WORDLIKE.fullmatch(stripped):
        return False
    alphanumeric = sum(character.isalnum() for character in stripped)
    return alphanumeric * 2 >= len(stripped)
