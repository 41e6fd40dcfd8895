"""The Code Assist API (gemini-cli's "Login with Google"): its Gemini requests and answers unwrapped for the Gemini
reader, and its account calls named for what they do.

`POST {endpoint}/v1internal:<method>`: a model call sends `{"model", "project", "user_prompt_id", "request": <a
Gemini request>}` and gets `{"response": <a Gemini answer>, "traceId"}` (each chunk of a stream likewise);
countTokens sends `{"request": {"model": "models/<model>", "contents"}}` and gets `{"totalTokens"}`.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# Imports nothing of probe, so the Gemini reader stands no level higher for it: a turn is probe.read.conversation's
# Turn, an event probe.read.sse's Event (a named tuple).
Turn = Any
Event = Any

# The version is `v1internal` unless CODE_ASSIST_API_VERSION says otherwise; no `/models/` precedes the method.
# An onboarding that is not done at once is polled by its operation's name: GET /v1internal/operations/<id>.
PATH = re.compile(r"/v1[A-Za-z0-9]*(?::([A-Za-z]+)|/(operations)/[^/?#]+)$")
MODEL_CALLS = {"generateContent", "streamGenerateContent", "countTokens"}
# What each account call does, in a few words: the report names the exchange by it.
ACCOUNT_CALLS = {
    "loadCodeAssist": "account set-up: the user's tier and Cloud project",
    "onboardUser": "onboarding: the user joins a tier, as a long-running operation",
    "getOperation": "the onboarding operation, polled until it is done",
    "listExperiments": "the experiment flags the client follows",
    "retrieveUserQuota": "the user's quota per model",
    "fetchAdminControls": "the administrator's controls",
    "getCodeAssistGlobalUserSetting": "the user's data-collection setting",
    "setCodeAssistGlobalUserSetting": "the user's data-collection setting, changed",
    "recordCodeAssistMetrics": "usage metrics the client reports",
}


def method_of(path: str) -> str | None:
    """The Code Assist method an exchange's path names (`loadCodeAssist`, `streamGenerateContent`…), or None."""
    found = PATH.search(path.split("?", 1)[0])
    if found is None or "/models/" in path:
        return None
    return found.group(1) or "getOperation"


def is_account_call(path: str) -> bool:
    method = method_of(path)
    return method is not None and method not in MODEL_CALLS


def account_call(path: str) -> str | None:
    """`loadCodeAssist (account set-up: …)`: the account call a path names, with what it does; None for a model
    call or another API's path."""
    method = method_of(path)
    if method is None or method in MODEL_CALLS:
        return None
    return f"{method} ({ACCOUNT_CALLS.get(method, 'a Code Assist call')})"


def read_request(body: Any, turn: Turn, read_gemini_request: Callable[[Any, Turn], None]) -> None:
    """An account call's body as its settings; a model call's wrapped Gemini request read by
    `read_gemini_request`, then the model the wrapper names and the wrapper's other fields (project,
    user_prompt_id…) beside the request's settings."""
    if is_account_call(turn.path):
        turn.config = dict(body) if isinstance(body, dict) else {"body": body}
        return
    if not isinstance(body, dict) or not isinstance(body.get("request"), dict):
        read_gemini_request(body, turn)  # not wrapped: read as it is
        return
    read_gemini_request(body["request"], turn)
    # countTokens names the model inside, as `models/<model>`: kept as sent, as the Gemini API's countTokens is.
    turn.model = body["model"] if isinstance(body.get("model"), str) and body["model"] else turn.model
    turn.config |= {key: value for key, value in body.items() if key not in ("request", "model")}


def unwrap_answer(answer: Any) -> Any:
    """A Gemini answer out of its wrapper, the trace id beside its fields (gemini-cli takes it as the response
    id); an error or what is not wrapped stays as it is."""
    if isinstance(answer, dict) and isinstance(answer.get("response"), dict):
        extra = {key: value for key, value in answer.items() if key != "response"}
        unwrapped = answer["response"] | extra
        if "responseId" not in unwrapped and isinstance(answer.get("traceId"), str):
            unwrapped["responseId"] = answer["traceId"]  # as gemini-cli takes it
        return unwrapped
    return answer


def unwrap_events(events: Iterable[Event]) -> Iterator[Event]:
    """The stream's events, each chunk unwrapped, one at a time."""
    for event in events:
        yield event._replace(data=unwrap_answer(event.data)) if isinstance(event.data, dict) else event


def unwrap_response(events: list[Event] | None, body: Any) -> tuple[Iterable[Event] | None, Any]:
    """A model call's answer as the Gemini API's: its stream's chunks, or its body (one answer, or a JSON array
    of chunks), unwrapped."""
    if events is not None:
        return unwrap_events(events), body
    return None, [unwrap_answer(each) for each in body] if isinstance(body, list) else unwrap_answer(body)


def read_account_answer(body: Any, turn: Turn) -> None:
    """An account call's answer, kept as the answer's own fields; an error as an error."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        turn.errors.append(body["error"])
    elif isinstance(body, dict):
        turn.response_metadata = dict(body)
    elif body is not None:
        turn.unknown.append({"where": "response body", "raw": body})
