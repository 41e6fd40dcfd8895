"""A run's traffic with other hosts, as the forward proxy records it (proxy `all-hosts`, absolute URLs): telemetry in
each format decoded (OTLP protobuf and JSON, a Sentry envelope, Statsig and PostHog batches), an update check, a
token refresh, an MCP call, a page fetched, a refused TLS handshake, a refused CONNECT and an unreachable host,
beside a model call through the reverse proxy and one through the forward proxy."""

import base64
import json
from pathlib import Path

from conftest import captured_exchange, run_manifest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

FORWARD = "all-hosts"
MASKED = "[REDACTED sha256:1a2b3c4d]"  # what the capture left of a token it masked
# Tokens a capture made with --keep-secrets would still hold: the analysis masks them wherever they show.
RAW_TOKEN = "phc_" + "Zq8xW3vT9kLmN2pR5sY7uB4cD6fG1hJ0aE"
EVENT_TOKEN = "sk-ant-api03-" + "Qw3rTy8uIoPaSdFgHjKlZxCvBnM1234567890abcdEFGH"
HOSTILE_HOST = "<img src=x onerror=alert(1)>.evil"
HOSTILE_EVENT = "<script>alert('event')</script>"

SSE = (
    'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n'
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"m","delta":"Hello"}\n\n'
    'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed",'
    '"usage":{"input_tokens":100,"output_tokens":5,"total_tokens":105}}}\n\n'
)
MODEL_BODY = {"model": "gpt-x", "input": [{"type": "message", "role": "user", "content": "hi"}]}
JSON_TYPE = (("content-type", "application/json"),)


def side(method: str, url: str, body=None, answer=None, status: int | None = 200, error=None,
         request_headers=JSON_TYPE, response_headers=JSON_TYPE) -> dict:  # fmt: skip
    """One exchange the forward proxy recorded."""
    split = url.split("/", 3)
    path = "/" + (split[3] if len(split) > 3 else "")
    host = "/".join(split[:3])
    record = captured_exchange(path, body, answer if answer is not None else {}, host=host, status=status or 200,
                               request_headers=request_headers, response_headers=response_headers)  # fmt: skip
    record["proxy"], record["request"]["method"], record["error"] = FORWARD, method, error
    if body is None:
        record["request"] |= {"body": None, "body_format": "empty"}
    if path == "/" and method == "CONNECT":  # a CONNECT's URL is the host and port alone
        record["request"]["url"] = host
    if status is None:
        record["response"], record["complete"] = None, False
    return record


def otlp_logs() -> bytes:
    """An OTLP logs export in protobuf, as an OTel SDK sends it."""
    records = [
        LogRecord(event_name="claude_code.api_request", body=AnyValue(string_value="api request")),
        LogRecord(attributes=[KeyValue(key="event.name", value=AnyValue(string_value="claude_code.tool_result"))]),
        LogRecord(attributes=[KeyValue(key="event.name", value=AnyValue(string_value="claude_code.tool_result"))]),
    ]
    export = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=records)])])
    return export.SerializeToString()


def sentry_envelope() -> str:
    event = {"exception": {"values": [{"type": "TypeError", "value": "x is undefined"}]}}
    payload = json.dumps({"status": "ok"})
    return "\n".join([
        json.dumps({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "dsn": "https://public@o1.ingest.sentry.io/2"}),
        json.dumps({"type": "event"}), json.dumps(event),
        json.dumps({"type": "session", "length": len(payload)}), payload,
    ]) + "\n"  # fmt: skip


def side_lines() -> list[dict]:
    model = captured_exchange("/v1/responses", MODEL_BODY, SSE, host="http://127.0.0.1:18080")
    forward_model = captured_exchange("/v1/responses", MODEL_BODY, SSE, host="https://api.openai.com", proxy=FORWARD)
    statsig = side("POST", "https://statsig.anthropic.com/v1/rgstr", {
        "events": [{"eventName": "tengu_init", "value": None, "metadata": {"model": "x"}},
                   {"eventName": "tengu_exit", "metadata": {}}, {"eventName": "tengu_init"}],
        "statsigMetadata": {"sdkType": "js"}}, {"success": True},
        request_headers=[["statsig-api-key", MASKED], ["content-type", "application/json"]])  # fmt: skip
    posthog = side("POST", "https://us.i.posthog.com/batch/", {
        "api_key": RAW_TOKEN,
        "batch": [{"event": "task_started", "distinct_id": "u1", "properties": {"token": MASKED}},
                  {"event": HOSTILE_EVENT, "distinct_id": "u1"}, {"event": "leaked " + EVENT_TOKEN}]})  # fmt: skip
    protobuf = side("POST", "https://otel.example.com/v1/logs", request_headers=[["content-type",
                    "application/x-protobuf"]])  # fmt: skip
    protobuf["request"] |= {"body": base64.b64encode(otlp_logs()).decode(), "body_format": "base64"}
    traces = side("POST", "https://otel.example.com/v1/traces", {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"name": "agent.turn"}, {"name": "tool.call"}]}]}]})  # fmt: skip
    sentry = side("POST", "https://o1.ingest.sentry.io/api/2/envelope/", {"id": "x"})
    sentry["request"] |= {"body": sentry_envelope(), "body_format": "text"}
    return [
        model,
        statsig,
        posthog,
        protobuf,
        traces,
        sentry,
        side("GET", "https://registry.npmjs.org/@anthropic-ai%2fclaude-code", None, {"dist-tags": {"latest": "9"}}),
        side("POST", "https://auth.openai.com/oauth/token", {"grant_type": "refresh_token", "refresh_token": MASKED}),
        side("POST", "https://mcp.example.com/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        side(
            "GET",
            "https://example.org/page",
            None,
            "<html>hi</html>",
            response_headers=[["content-type", "text/html; charset=utf-8"]],
        ),
        side(
            "CONNECT",
            "https://pinned.example.com:443",
            None,
            status=None,
            error="tls: the client refused the run's certificate for pinned.example.com",
        ),
        side(
            "CONNECT",
            "https://127.0.0.9:8080",
            None,
            "",
            status=403,
            error="refused: CONNECT to 127.0.0.9:8080, a loopback address outside the run's proxies",
        ),
        side(
            "POST",
            "https://offline.example.net/ingest",
            {"n": 1},
            status=None,
            error="connect: offline.example.net: Name or service not known",
        ),
        side("GET", f"https://{HOSTILE_HOST}/x", None, "odd"),
        forward_model,
    ]


def side_run(folder: Path, lines: list[dict] | None = None) -> Path:
    """A run folder holding this traffic, with a manifest that says the forward proxy was on."""
    folder.mkdir(parents=True)
    entries = side_lines() if lines is None else lines
    (folder / "traffic.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    manifest = run_manifest("codex", exchanges=len(entries), all_hosts=True, agent={"version": "1.0"})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
