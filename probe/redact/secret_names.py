"""Names that say secret: JSON keys, URL and form parameters, environment variables, headers, and the names in an
assignment in free text."""

import functools
import re

# Accounts', organisations', workspaces', projects' and tenants' ids: masked as secrets are (the same id gets the same
# fingerprint wherever it is), so that a capture says whose it is to nobody but still groups by it. Normalised names
# that end so hold one (`chatgpt-account-id`, `anthropic-organization-id`, `orgId`, `workspace_uuid`, `project_id`,
# Code Assist's and Vertex's `project`); objects (or lists of them) with these names hold theirs as their own `id` or
# `uuid` (`{"accounts": [{"id": …}]}`, Claude's `{"organization": {"uuid": …}}`).
IDENTIFIER_SUFFIXES = ("accountid", "accountuuid", "organizationid", "organisationid", "organizationuuid",
                       "organisationuuid", "orgid", "orguuid", "workspaceid", "workspaceuuid", "projectid", "tenantid",
                       "project")  # fmt: skip
OWNERS = frozenset({"account", "accounts", "organization", "organizations", "organisation", "organisations", "org",
                    "orgs", "workspace", "workspaces", "tenant", "tenants", "cloudaicompanionproject"})  # fmt: skip
OWN_IDS = frozenset({"id", "uuid"})
# What each of these names holds (lowercase), for the scans that look for a name before parsing; and the same in raw
# text, found ignoring case before a line is parsed (`org` alone is in too many words).
IDENTIFIER_STEMS = ("account", "org", "workspace", "project", "tenant")
IDENTIFIER_PROBES = ("account", "organi", "org_", "orgid", "orguuid", 'org"', 'orgs"', "workspace", "project", "tenant")

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
    *IDENTIFIER_SUFFIXES,
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


def is_identifier_owner(name: str) -> bool:
    """A name whose object (or list of objects) is an account, an organisation…: its `id` is that identifier."""
    return normalised(str(name)) in OWNERS


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
        "x-goog-user-project",
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


# The checks of the free-text rules (probe.redact.shape_rules, by name): whether what a pattern found, an assignment
# in free text (`DB_PASSWORD=…`, `password: …`, `-pS3cret`), holds a secret.

NAME_CHARACTER = re.compile(r"[A-Za-z0-9_.-]")
LONGEST_NAME = 64
# Names that end like a secret's but hold none: a WebSocket handshake's nonce, a database's keys, a cache key.
NOT_SECRET_NAMES = frozenset(
    {
        "secwebsocketkey",
        "publickey",
        "primarykey",
        "foreignkey",
        "sortkey",
        "partitionkey",
        "cachekey",
        "promptcachekey",
        "idempotencykey",
        "pagetoken",
        "nextpagetoken",
        "continuationtoken",
        "maxtoken",
        "bostoken",
        "eostoken",
        "padtoken",
    }
)
# Values that are a type, a placeholder or a word, not a secret: `password: string`, `token: Optional[str]`.
NOT_SECRET_VALUES = frozenset(
    {
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "string",
        "str",
        "number",
        "int",
        "integer",
        "float",
        "bool",
        "boolean",
        "object",
        "array",
        "any",
        "bytes",
        "optional",
        "required",
        "secret",
        "password",
        "token",
        "value",
        "redacted",
        "changeme",
        "example",
        "xxxx",
        "****",
    }
)
CODE_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|[0-9.,_+-]+")
NOT_A_VALUE_START = ("$", "{", "%", "<", "*")  # (a fingerprint is a value: what stands around one is masked)
LOOKS_LIKE_CREDENTIAL = re.compile(r"(?=.*[0-9]).{8,}|\S{20,}")  # in free text, after a weak name
HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{32,}")
# What starts a command line in free text: a line end (perhaps a JSON escape), or a shell separator.
COMMAND_START = re.compile(r"(?:\n|\\n|\r|\\r|;|\||&&)")
MYSQL_CLIENTS = re.compile(r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b")
NETRC_LINE = re.compile(r"\b(?:machine|login|default)\b")


def as_text(text, start: int, end: int) -> str:
    piece = text[max(start, 0) : end]
    return piece.decode("latin-1") if isinstance(piece, bytes) else piece


def name_before(text, end: int) -> tuple[str, int]:
    """The name that ends at `end` (letters, digits, `_`, `.`, `-`) and where it starts; a JSON escape's letter
    before it (`\\nDB_PASSWORD`) is not part of it."""
    start = end
    while start > 0 and end - start < LONGEST_NAME and NAME_CHARACTER.match(as_text(text, start - 1, start)):
        start -= 1
    if start >= 1 and as_text(text, start - 1, start) == "\\":
        start += 1  # `\nNAME`: the `n` belongs to the escape
    return as_text(text, start, end), start


def plain_value(value: str) -> bool:
    """A value that can be a secret at all: not a type, a number, a code reference, a template or a mask."""
    stripped = value.strip()
    return (
        len(stripped) >= 4
        and HAS_LETTER_OR_DIGIT.search(stripped) is not None  # not `"}]}, ` (JSON's closing after `secret:"`)
        and stripped.lower() not in NOT_SECRET_VALUES
        and not stripped.startswith(NOT_A_VALUE_START)
        and CODE_REFERENCE.fullmatch(stripped) is None
        and not cut_mask(stripped)
    )


HAS_LETTER_OR_DIGIT = re.compile(r"[A-Za-z0-9]")
MASK_START = "[REDACTED sha256:"


def cut_mask(value: str) -> bool:
    """A fingerprint that a report's summary cut short, `[RED…` or `[REDACTED sha256:3f…`: a mask, not a value."""
    head, ellipsis, _ = value.partition("…")
    if not ellipsis or not head:
        return False
    if MASK_START.startswith(head):
        return True
    return head.startswith(MASK_START) and HEX_END.fullmatch(head[len(MASK_START) :]) is not None


HEX_END = re.compile(r"[0-9a-f]{0,8}\]?")


def secret_assignment(match: re.Match, text) -> bool:
    """`NAME = value`, `NAME: value`, `"NAME": "value"`, `--NAME=value`: the name says secret, and the value can be
    one. A name that only ends in `key` or `token` needs a value that looks like a credential."""
    name, _ = name_before(text, match.end("word"))
    between = as_text(text, match.end("word"), match.end("keep"))
    if json_number(match, between):
        return False
    if normalised(name).endswith("signature") and "=" not in between:
        return False  # SigV4's `Signature=<hex>`; a thinking block's `"signature": "…"` is no credential
    quoted = between.lstrip("\\")[:1] in ('"', "'")
    return secret_value(name, as_text(text, match.end("keep"), match.end()), quoted)


def json_number(match: re.Match, between: str) -> bool:
    """A quoted name with an unquoted value: `"x-auth-token": 1e10` is JSON, and an unquoted mask would break it
    (the value is masked by its name, quoted, where the JSON is parsed)."""
    return between.lstrip("\\")[:1] in ('"', "'") and not match.group("q")


def flag_value(match: re.Match, text) -> bool:
    """`--password S3cret`, `--api-key sk-…`: a command-line flag naming a secret, and its next word."""
    name, _ = name_before(text, match.end("word"))
    return name.startswith("-") and secret_value(name, as_text(text, match.end("keep"), match.end()))


def secret_value(name: str, value: str, quoted: bool = False) -> bool:
    """Whether `value`, assigned to `name` in free text, is a secret. A quoted name (`"api_key": …`, JSON's way) is
    judged as the JSON walk judges a key (is_secret_name), so that masking a body as text and as parsed JSON agree."""
    compact = normalised(name)
    if not compact or compact in NOT_SECRET_NAMES or not plain_value(value):
        return False
    if quoted:
        if is_secret_name(name):
            return True
        return is_weak_secret_name(name) and CREDENTIAL_LIKE.match(value) is not None
    if compact.endswith("signature"):
        return HEX_SIGNATURE.fullmatch(value) is not None  # a request signature; a thinking block's is no secret
    if compact.endswith(SECRET_SUFFIXES) or compact.endswith(("pass", "pwd", "secrets")):
        return compact not in ("pass", "pwd") or LOOKS_LIKE_CREDENTIAL.fullmatch(value) is not None
    letters = name.lstrip("-")
    if letters.isupper() and SECRET_VARIABLE.search(letters) and len(value) >= 8:
        return True  # an environment variable: GITHUB_TOKEN, SLACK_BOT_TOKEN, AZURE_OPENAI_API_KEY
    # A name that only ends in the word (`x_key`, `apiKey`, `token`), not one that merely contains it (`monkey`).
    return WORD_AT_END.search(name) is not None and LOOKS_LIKE_CREDENTIAL.fullmatch(value) is not None


WORD_AT_END = re.compile(r"(?:^|[_.-])(?i:key|token|auth|credentials?)$|[a-z0-9](?:Key|Token|Auth|Credentials?)$")


def standalone(match: re.Match, text) -> bool:
    """The rule's word starts a word: `cookie:` but not `fortune_cookie:`, `-u` but not `x-user`."""
    before = as_text(text, match.start() - 1, match.start())
    after_escape = as_text(text, match.start() - 2, match.start()) in ("\\n", "\\r", "\\t")  # in JSON's text
    return (before == "" or after_escape or not NAME_CHARACTER.match(before)) and plain_value(
        as_text(text, match.end("keep"), match.end())
    )


def line_before(text, position: int) -> str:
    """The text from the start of the line (or shell command) that holds `position` up to it."""
    line = as_text(text, position - 200, position)
    starts = [found.end() for found in COMMAND_START.finditer(line)]
    return line[starts[-1] :] if starts else line


def netrc_password(match: re.Match, text) -> bool:
    """`machine host login bob password s3cret`: a .netrc line."""
    return standalone(match, text) and NETRC_LINE.search(line_before(text, match.start())) is not None


def mysql_password(match: re.Match, text) -> bool:
    """`mysql -u root -pS3cret`: the MySQL clients take a password glued to `-p`."""
    return standalone(match, text) and MYSQL_CLIENTS.search(line_before(text, match.start())) is not None


def cookie_line(match: re.Match, text) -> bool:
    """A `Cookie:` or `Set-Cookie:` line, not `fortune_cookie: …`."""
    name, _ = name_before(text, match.end("word"))
    if json_number(match, as_text(text, match.end("word"), match.end("keep"))):
        return False
    return name.lower() in ("cookie", "set-cookie") and plain_value(as_text(text, match.end("keep"), match.end()))


def not_a_mask(match: re.Match, text) -> bool:
    """A URL parameter's value that is no fingerprint cut short (`?session_token=[RED…`, in a summary)."""
    return not cut_mask(as_text(text, match.end("keep"), match.end()))


CHECKS = {
    "not_a_mask": not_a_mask,
    "secret_assignment": secret_assignment,
    "flag_value": flag_value,
    "cookie_line": cookie_line,
    "standalone": standalone,
    "netrc_password": netrc_password,
    "mysql_password": mysql_password,
}
