"""Names that say secret: JSON keys, URL and form parameters, environment variables and headers."""

import functools
import re

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
