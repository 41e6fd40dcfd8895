"""The error a replay answers a request with that matches nothing recorded, in the shape its API sends errors,
so that the agent shows it as its API's error (a 400: agents do not retry it)."""

ERROR_TYPE = "invalid_request_error"


def divergence_error(path: str, message: str) -> tuple[int, dict]:
    """Status and JSON body for an HTTP request to `path`."""
    text = f"agent-probe replay: {message}"
    if path.endswith("/messages") or "/messages/" in path:  # Anthropic Messages
        return 400, {"type": "error", "error": {"type": ERROR_TYPE, "message": text}}
    if ":generateContent" in path or ":streamGenerateContent" in path:  # Gemini
        return 400, {"error": {"code": 400, "message": text, "status": "INVALID_ARGUMENT"}}
    return 400, {"error": {"message": text, "type": ERROR_TYPE, "param": None, "code": "replay_diverged"}}


def websocket_divergence_error(message: str) -> dict:
    """The Responses API's error event on its WebSocket."""
    text = f"agent-probe replay: {message}"
    return {"type": "error", "status": 400, "error": {"type": ERROR_TYPE, "message": text, "code": "replay_diverged"}}
