"""Only model calls are turns, whichever proxy recorded an exchange or whatever recording it came from: a price map
or model list downloaded, traces uploaded and telemetry posted are other requests, with their sizes, in the report's
Other hosts section and insight.jsonl's `request` records (the SQL view `requests`), never in turns.jsonl."""

import io
import json
import re
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange
from side_traffic import SSE, side, side_lines

from probe.analysis.report import build_report
from probe.read.traffic import iter_exchanges
from probe.runs.importer import import_renderer

# The model calls of each API, told apart here by their paths alone, apart from the readers' own recognising.
MODEL_PATH = re.compile(
    r".*/(?:responses|messages|messages/count_tokens|chat/completions)$"
    r"|.*:(?:streamGenerateContent|generateContent|countTokens)$"
    r"|.*/v1internal(?::\w+|/operations/.+)$"  # Code Assist's calls, its account's named for what they do
)
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
CORPUS = sorted((PROJECT_ROOT / "tests" / "corpus").glob("*/*.jsonl"))
RENDERERS = (None, "probe.apis.openai_responses.report", "probe.apis.generic.report")
PRICE_MAP = {f"model-{index}": {"input_cost_per_token": 1e-6, "litellm_provider": "openai"} for index in range(7000)}


def non_model_requests(proxy: str) -> list[dict]:
    """What libraries and agents ask besides the model, as a recording keeps it (`proxy`: which proxy recorded it)."""
    lines = [
        side("GET", "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
             None, PRICE_MAP),
        side("GET", "https://api.openai.com/v1/models", None, {"object": "list", "data": [{"id": "gpt-x"}]}),
        side("GET", "https://api.anthropic.com/v1/models?limit=1000", None, {"data": [{"type": "model", "id": "c"}]}),
        side("POST", "https://api.openai.com/v1/traces/ingest", {"data": [{"object": "trace.span", "id": "s"}]}),
        side("POST", "https://logfire-api.pydantic.dev/v1/traces", {"resourceSpans": []}),
        side("POST", "https://chatgpt.com/backend-api/codex/analytics-events/events", {"events": [{"type": "x"}]}),
        *side_lines()[1:],  # every kind of other traffic, without its model call
    ]  # fmt: skip
    for line in lines:
        line["proxy"] = proxy
    return [line for line in lines if line["request"]["method"] != "CONNECT" and line["response"] is not None]


def model_calls() -> list[dict]:
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    return [
        captured_exchange("/v1/responses", {"model": "gpt-x", "input": "hi"}, SSE),
        captured_exchange("/v1/messages", chat, "", host="https://api.anthropic.com"),
        captured_exchange("/api/v1/chat/completions", chat, {"object": "chat.completion"}, host="https://gw.example"),
        captured_exchange("/v1beta/models/g:generateContent", {"contents": []}, {"candidates": []}),
    ]


def analysed(traffic: Path, renderer: str | None) -> tuple[str, list[dict], list[dict]]:
    """The report, turns.jsonl's lines and insight.jsonl's `request` records of a capture."""
    turns, insight = io.BytesIO(), io.BytesIO()
    report, _ = build_report(traffic, renderer and import_renderer(renderer), None, turns=turns, insight=insight)
    records = [json.loads(line) for line in insight.getvalue().splitlines()]
    return report, [json.loads(line) for line in turns.getvalue().splitlines()], records


def assert_turns_are_the_model_calls(traffic: Path, renderer: str | None) -> tuple[str, list[dict]]:
    exchanges = list(iter_exchanges(traffic, []))
    report, turns, records = analysed(traffic, renderer)
    calls = [exchange.number for exchange in exchanges if MODEL_PATH.match(exchange.path.split("?", 1)[0])]
    assert [turn["number"] for turn in turns] == calls
    # (A model call the forward proxy recorded has its `request` record too: it went to a host as any other.)
    requests = [record for record in records if record["record"] == "request" and record["number"] not in calls]
    assert [record["number"] for record in requests] == [e.number for e in exchanges if e.number not in calls]
    for record in requests:  # each with its sizes, as recorded
        exchange = exchanges[record["number"] - 1]
        assert (record["bytes_sent"], record["bytes_received"]) == (
            exchange.request_body.size, exchange.response_body.size
        )  # fmt: skip
    if requests:
        plural = "s" if len(requests) != 1 else ""
        assert f"\n## Other hosts\n\n{len(requests)} request{plural} to " in report
    else:
        assert "\n## Other hosts\n" not in report
    return report, requests


@pytest.mark.parametrize("proxy", ["model", "all-hosts"])
@pytest.mark.parametrize("renderer", RENDERERS)
def test_downloads_uploads_and_telemetry_are_other_requests_and_model_calls_turns(tmp_path, proxy, renderer):
    lines = non_model_requests(proxy)
    lines[3:3] = model_calls()  # among them, as a recording interleaves them
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report, requests = assert_turns_are_the_model_calls(traffic, renderer)
    price_map = requests[0]
    assert price_map["host"] == "raw.githubusercontent.com" and price_map["bytes_received"] > 490_000
    assert "model-6999" not in report  # the price map's body is no turn, shown nowhere in full
    assert "| `raw.githubusercontent.com` | update-check | 1 | GET ×1 | 0 | " in report


@pytest.mark.parametrize("capture", SAMPLES + CORPUS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_the_turns_of_every_recording_are_its_model_calls(capture):
    traffic = capture / "traffic.jsonl" if capture.is_dir() else capture
    assert_turns_are_the_model_calls(traffic, None)
