"""The request id each answer carries in a header, named as the real API names it, unique per answer."""

import contextvars
import secrets

# The real Messages API answers with `request-id: req_…`; the OpenAI APIs with `x-request-id: req_…`. The
# agents log it in their own account (Claude Code's `api_request.request_id`), which is how the two are joined.
ANTHROPIC = "request-id"
OPENAI = "x-request-id"

# The header the answer being written carries, set per request: each connection is served in its own task.
_HEADER: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id_header", default=None)


def header_for(path: str) -> str | None:
    """The request-id header the API behind `path` sends: Messages routes, OpenAI routes, none for the others."""
    if "/v1/messages" in path:
        return ANTHROPIC
    if path.endswith(("/responses", "/chat/completions")):
        return OPENAI
    return None


def begin_answer(path: str) -> None:
    """Names the header the next answer on this connection carries (or none)."""
    _HEADER.set(header_for(path))


def header_lines() -> bytes:
    """The answer's request-id header line with a fresh id, or nothing."""
    name = _HEADER.get()
    if name is None:
        return b""
    return f"{name}: req_{secrets.token_hex(12)}\r\n".encode()
