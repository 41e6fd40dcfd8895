"""The ChatGPT backend's answers that codex needs with a ChatGPT login besides its model turns.

Its model turns (`{base}/codex/responses`, WebSocket or POST + SSE, zstd-compressed bodies) are the Responses API
the mock already serves by path; its other calls (plugins, settings, analytics, the models list) are content with
the empty answers of the server's side channels. Only the workspace check needs an answer of its own.
"""

# codex (0.156 on) asks which workspace its account belongs to before its first model turn, and goes no further
# unless the account its `chatgpt-account-id` header names is listed exactly once, with a backend origin and a
# routing override it knows.
ACCOUNTS_CHECK = "/wham/accounts/check"
# The origin the workspace is said to live at. codex takes it only as an HTTPS origin, and sends its model turns
# there only when its model base shares an origin with its ChatGPT base: a target gives the two different proxies,
# so this one is checked and never called.
WORKSPACE_ORIGIN = "https://chatgpt.com"
NO_CONSTRAINT = "NO_CONSTRAINT"  # no data-residency routing: no header codex must add


def answer(path: str, headers: dict[str, str]) -> dict | None:
    """The answer to a ChatGPT backend call answered here, or None for any other path."""
    if path.endswith(ACCOUNTS_CHECK):
        account = headers.get("chatgpt-account-id", "")
        entries = [
            {"id": account, "workspace_backend_origin": WORKSPACE_ORIGIN, "account_routing_override": NO_CONSTRAINT}
        ]
        return {"accounts": entries if account else []}
    return None
