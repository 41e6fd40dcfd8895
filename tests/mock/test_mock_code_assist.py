"""The mock's Code Assist API (gemini-cli's "Login with Google"), through the real proxies, and the capture read
back: the account calls named, the model calls unwrapped into Gemini turns."""

import http.client
import json

from conftest import post_json, read_traffic

from probe.analysis.report import write_report
from probe.mock import code_assist_api, gemini_api
from probe.mock.wording import final_answer_text
from probe.read.sse import parse
from probe.read.whole_turns import whole_turns
from probe.redact.masking import fingerprint

BEARER = {"authorization": "Bearer ya29.stand-in-token-of-the-test"}
SHELL = {
    "name": "run_shell_command",
    "description": "Runs a shell command.",
    "parametersJsonSchema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}
PROMPT = {"role": "user", "parts": [{"text": "write a hello world"}]}
METADATA = {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}


def wrapped(request: dict, model: str = "gemini-3.8-flash") -> dict:
    """A Gemini request as gemini-cli sends it to Code Assist."""
    return {"model": model, "project": code_assist_api.PROJECT, "user_prompt_id": "prompt-1", "request": request}


def call(base: str, method: str, body: dict) -> tuple[int, dict]:
    status, _headers, data = post_json(base, f"/v1internal:{method}", body, BEARER)
    return status, json.loads(data)


def get(base: str, path: str) -> dict:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", path, headers=BEARER)
    response = connection.getresponse()
    assert response.status == 200
    answer = json.loads(response.read())
    connection.close()
    return answer


def test_onboarding_then_a_tool_round_trip_read_back_as_gemini_turns(proxied, tmp_path):
    start, run = proxied
    proxies = start("mock")
    base = proxies.urls["model"]

    # A user not onboarded yet: no current tier, the free tier offered; onboarding names the project.
    status, loaded = call(base, "loadCodeAssist", {"metadata": METADATA})
    assert status == 200 and "currentTier" not in loaded
    assert loaded["allowedTiers"][0]["id"] == "free-tier" and loaded["allowedTiers"][0]["isDefault"] is True
    status, operation = call(base, "onboardUser", {"tierId": "free-tier", "metadata": METADATA})
    assert operation["done"] is True
    assert operation["response"]["cloudaicompanionProject"]["id"] == code_assist_api.PROJECT
    _, experiments = call(base, "listExperiments", {"project": code_assist_api.PROJECT, "metadata": METADATA})
    assert {flag["flagId"] for flag in experiments["flags"]} == set(code_assist_api.LAUNCHED_FLAGS)
    assert call(base, "retrieveUserQuota", {"project": code_assist_api.PROJECT}) == (200, {"buckets": []})
    counted = {"request": {"model": "models/gemini-3.8-flash", "contents": [PROMPT]}}
    assert call(base, "countTokens", counted) == (200, {"totalTokens": gemini_api.estimate_tokens([PROMPT])})
    assert call(base, "noSuchMethod", {})[0] == 404
    polled = get(base, f"/v1internal/{operation['name']}")  # an onboarding not done at once is polled
    assert polled["done"] is True and polled["response"] == operation["response"]

    request = {"contents": [PROMPT], "tools": [{"functionDeclarations": [SHELL]}]}
    status, headers, data = post_json(base, "/v1internal:streamGenerateContent?alt=sse", wrapped(request), BEARER)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    first = [event.data for event in parse(data.decode())]
    assert all(set(chunk) == {"response", "traceId"} for chunk in first)  # every chunk wrapped
    assert len({chunk["traceId"] for chunk in first}) == len(first)
    function_call = first[-1]["response"]["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert function_call["name"] == "run_shell_command" and first[-1]["response"]["modelVersion"] == "gemini-3.8-flash"
    result = {"name": "run_shell_command", "id": function_call["id"], "response": {"output": "ok"}}
    answer = {"functionResponse": result}
    model_turn = {"role": "model", "parts": [{"functionCall": function_call}]}
    follow_up = dict(request, contents=[PROMPT, model_turn, {"role": "user", "parts": [answer]}])
    status, whole = call(base, "generateContent", wrapped(follow_up))
    assert status == 200 and set(whole) == {"response", "traceId"}
    text = whole["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert text == final_answer_text("write a hello world")
    proxies.stop()

    paths = [entry["request"]["path"] for entry in read_traffic(run)]
    assert paths[:2] == ["/v1internal:loadCodeAssist", "/v1internal:onboardUser"] and len(paths) == 9
    report, warnings = write_report(run / "traffic.jsonl", tmp_path / "report.md", None, tmp_path)
    assert not [warning for warning in warnings if "failed" in warning], warnings
    turns = list(whole_turns(tmp_path / "turns.jsonl"))
    assert {turn["api"] for turn in turns} == {"gemini.generate_content"}
    assert all(turn["unrecognised"] == [] and turn["unknown"] == [] for turn in turns)
    by_path = {turn["path"].split("?")[0]: turn for turn in turns}
    onboard = by_path["/v1internal:onboardUser"]
    assert onboard["config"] == {"tierId": "free-tier", "metadata": METADATA}
    # The Cloud project's id is masked, by one fingerprint wherever it stands.
    project = fingerprint(code_assist_api.PROJECT)
    assert onboard["response_metadata"]["response"]["cloudaicompanionProject"]["id"] == project
    streamed = by_path["/v1internal:streamGenerateContent"]
    assert streamed["model"] == "gemini-3.8-flash" and streamed["config"]["project"] == project
    assert [part["name"] for part in streamed["output"][0]["parts"] if part["kind"] == "tool_call"] == [
        "run_shell_command"
    ]
    assert [part["kind"] for part in streamed["output"][0]["parts"]][:1] == ["reasoning"]
    assert streamed["usage"]["output"] > 0 and streamed["usage"]["reasoning"] > 0
    single = by_path["/v1internal:generateContent"]
    assert single["output"][0]["parts"][0]["text"] == text and single["usage"]["input"] > 0
    assert single["input"][-1]["parts"][0]["kind"] == "tool_result"
    count = by_path["/v1internal:countTokens"]
    assert count["model"] == "models/gemini-3.8-flash"  # as countTokens names it, inside the request
    assert count["usage"]["input"] == gemini_api.estimate_tokens([PROMPT])

    text = report.read_text()
    assert "- Unrecognised: 0 kinds" in text and "- Read as: `gemini.generate_content` ×9" in text
    assert "**Code Assist account call**: loadCodeAssist (account set-up: the user's tier and Cloud project)" in text
    assert "**Code Assist account call**: onboardUser (onboarding: the user joins a tier" in text
    assert "**Token count** (countTokens):" in text
    assert "**Code Assist account call**: getOperation (the onboarding operation, polled until it is done)" in text
