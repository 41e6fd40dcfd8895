"""What an import counts as a secret the source held unmasked: the placeholders recorders write where they removed
one, identifiers (an organisation's, a project's, an account's) and prose a rule reads as an assignment are masked
but never counted; every credential of the corpus, in a header, a body or a URL, still is."""

import json

from secret_corpus import CORPUS, SECRETS

from probe.capture.imports.masking import mask_line

PLACEHOLDERS = ["<redacted>", "REDACTED", "***", "[FILTERED]", "[REDACTED_SECRET]", "", "sk-...xxxx",
                "sk-proj-****abcd", "Bearer <redacted>", "DUMMY", "test-api-key", "${OPENAI_API_KEY}", "{{token}}",
                "xxxxxxxxxxxx"]  # fmt: skip
IDENTIFIERS = [("OpenAI-Organization", "pydantic-28gund"), ("openai-project", "proj_dKobscVY9YJxeEaDJen54e3d"),
               ("chatgpt-account-id", "00000000-0000-0000-0000-000000000006"),
               ("anthropic-organization-id", "5f2c0a7e-1b8d-4c6f-9a5e-9d2b7c1f4a8e")]  # fmt: skip
PROSE = "- Redact secrets: never store tokens/keys/passwords.\n  last=$(date -u +%Y-%m-%dT%H:%M:%SZ)\n"


def line(headers: list[tuple[str, str]], body: str = "{}") -> dict:
    return {
        "schema": 1, "kind": "http", "id": "x-1", "proxy": "imported", "complete": True, "error": None, "timing": {},
        "request": {"method": "POST", "url": "https://h/v1/responses", "path": "/v1/responses",
                    "headers": [[name, value] for name, value in headers], "body": body, "body_format": "text"},
        "response": {"status": 200, "headers": [], "body": None, "body_format": "empty"},
    }  # fmt: skip


def counted(headers, body: str = "{}") -> int:
    return len(mask_line(line(headers, body))[1])


def test_placeholders_identifiers_and_prose_are_masked_but_not_counted():
    for value in PLACEHOLDERS:
        for name in ("Authorization", "x-api-key", "Set-Cookie", "Cookie"):
            assert counted([(name, value)]) == 0, (name, value)
        assert counted([], json.dumps({"api_key": value, "password": value})) == 0, value
    masked, secrets = mask_line(line(IDENTIFIERS))
    assert secrets == set()
    assert all(value.startswith("[REDACTED sha256:") for _, value in masked["request"]["headers"][:3])
    assert counted([], json.dumps({"instructions": PROSE})) == 0


def test_every_credential_of_the_corpus_is_still_counted():
    for name, text, _ in CORPUS:
        assert counted([], json.dumps({"input": text})) >= 1, name
    assert counted([("Authorization", "Bearer " + SECRETS[32]), ("x-api-key", SECRETS[0])]) == 2
    assert counted([("Cookie", "sessionid=" + SECRETS[25])]) == 1
