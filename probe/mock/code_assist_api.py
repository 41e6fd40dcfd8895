"""Plans Code Assist API answers (gemini-cli's "Login with Google"): the onboarding and account calls, and the
Gemini answers of `probe.mock.gemini_api` wrapped as `{"response": …, "traceId": …}`."""

import re
from typing import Any

from probe.mock import gemini_api
from probe.mock.wording import new_id

# `{CODE_ASSIST_ENDPOINT}/v1internal:<method>`: the method follows the version, after a colon; an onboarding
# operation is polled at `/v1internal/operations/<name>` (answered as getOperation).
METHOD = re.compile(r"/(v1[A-Za-z0-9]*)(?::([A-Za-z]+)|/operations/[^/]+)$")
MODEL_METHODS = ("generateContent", "streamGenerateContent")
PROJECT = "agent-probe-mock-project"
FREE_TIER = {
    "id": "free-tier",
    "name": "Gemini Code Assist for individuals",
    "description": "Stand-in tier of the agent-probe mock.",
    "userDefinedCloudaicompanionProject": False,
}
# gemini-cli picks its default models by these experiment flags (its flagNames: LATEST_FLASH_GA_LAUNCHED,
# LATEST_FLASH_LITE_GA_LAUNCHED): on, it asks for the same models as with an API key.
LAUNCHED_FLAGS = (45842815, 45827489)


def wrapped(answer: dict) -> dict:
    """A Gemini answer as Code Assist sends it: inside `response`, beside the trace id gemini-cli reports back."""
    return {"response": answer, "traceId": new_id("trace")}


def generate(body: dict, method: str, finish_command: str | None = None) -> list[dict]:
    """The answer to `:generateContent` (one object) or the chunks of `:streamGenerateContent`, each wrapped."""
    request = body.get("request") if isinstance(body.get("request"), dict) else {}
    model = body.get("model") if isinstance(body.get("model"), str) and body["model"] else "gemini"
    if method == "streamGenerateContent":
        return [wrapped(chunk) for chunk in gemini_api.plan_chunks(request, model, finish_command)]
    return [wrapped(gemini_api.plan_response(request, model, finish_command))]


def count_tokens(body: dict) -> dict:
    request = body.get("request") if isinstance(body.get("request"), dict) else {}
    return {"totalTokens": max(1, gemini_api.estimate_tokens(request.get("contents")))}


def load_code_assist(body: dict) -> dict:
    """A user not onboarded yet: no current tier, the free tier offered, so that gemini-cli calls onboardUser."""
    return {"allowedTiers": [FREE_TIER | {"isDefault": True}], "gcpManaged": False}


def onboard_user(body: dict) -> dict:
    """The onboarding's long-running operation, already done, naming the project the model calls then carry."""
    project = {"id": PROJECT, "name": PROJECT}
    return {"name": f"operations/{new_id('onboard')}", "done": True, "response": {"cloudaicompanionProject": project}}


def experiments(body: dict) -> dict:
    return {"experimentIds": [], "flags": [{"flagId": flag, "boolValue": True} for flag in LAUNCHED_FLAGS]}


def user_quota(body: dict) -> dict:
    return {"buckets": []}


# Each account call's answer; what is not here and not a model call is answered 404, as an unknown method is.
ACCOUNT_ANSWERS = {
    "loadCodeAssist": load_code_assist,
    "onboardUser": onboard_user,
    "getOperation": onboard_user,
    "countTokens": count_tokens,
    "listExperiments": experiments,
    "retrieveUserQuota": user_quota,
    "fetchAdminControls": lambda body: {"adminControlsApplicable": False},
    "getCodeAssistGlobalUserSetting": lambda body: {"freeTierDataCollectionOptin": False},
    "setCodeAssistGlobalUserSetting": lambda body: body,
    "recordCodeAssistMetrics": lambda body: {},
}


def method_of(path: str) -> str | None:
    """The Code Assist method a path names, or None for another API's path."""
    found = METHOD.search(path)
    return None if found is None else found.group(2) or "getOperation"


def account_answer(method: str, body: Any) -> dict | None:
    """The answer to an account or onboarding call, or None for a method the mock does not know."""
    answer = ACCOUNT_ANSWERS.get(method)
    return None if answer is None else answer(body if isinstance(body, dict) else {})
