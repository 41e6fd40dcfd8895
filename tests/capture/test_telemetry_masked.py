"""Telemetry is masked at capture as bodies are: OTLP log and trace exports made by the OpenTelemetry SDK's own
exporters, in protobuf (plain, gzip and deflate) and in the JSON form, through the real mitmdump, with secrets in the
log body, in record and span attributes and in resource attributes. What is stored still parses as the same export,
and neither the secrets nor what detect-secrets or secretlint flag are in it, decoded."""

import gzip
import logging
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
from conftest import serving, two_proxy_target
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from secret_oracles import leaks, scanners_findings

from probe.capture.proxies import start_proxies
from probe.read.traffic import body_bytes, iter_exchanges

AWS_KEY_ID = "AKIA" + "QW3ER5TY7UI9OP1A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYz9q8r7s6t5u4"
DB_VALUE = "Vq8xLm2R" + "t7Zp4Kw9sN3"
SESSION = "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"
API_KEY = "plain" + "Value4u8e2Xq"
DEPLOY_TOKEN = "dpl" + "T0k3nZx9Wq2Lm8"
SECRETS = [AWS_KEY_ID, AWS_SECRET, DB_VALUE, SESSION, API_KEY, DEPLOY_TOKEN]
MESSAGE = (
    f"loaded .env: DB_PASSWORD={DB_VALUE}\nCookie: sessionid={SESSION}\n"
    f"aws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}"
)
REQUESTS = {"/v1/logs": ExportLogsServiceRequest, "/v1/traces": ExportTraceServiceRequest}


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector: keeps what it is sent (decoded from its encoding), answers with an empty success."""

    protocol_version = "HTTP/1.1"
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self):
        data = self.rfile.read(int(self.headers["content-length"]))
        encoding = self.headers.get("content-encoding")
        data = gzip.decompress(data) if encoding == "gzip" else zlib.decompress(data) if encoding == "deflate" else data
        Collector.received.append((self.path, data))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def export_through(base: str, compression: Compression) -> None:
    """A log record and a span, each exported by the SDK's OTLP/HTTP exporter to `base`."""
    resource = Resource.create({"service.name": "agent", "service.auth_token": DEPLOY_TOKEN})
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs", compression=compression))
    )
    logger = logging.getLogger(f"telemetry-{compression.value}")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=logs)
    logger.addHandler(handler)
    logger.warning(MESSAGE, extra={"api_key": API_KEY, "http.request.header.cookie": f"sessionid={SESSION}"})
    logger.removeHandler(handler)  # (else logging flushes it again at the interpreter's exit)
    logs.shutdown()
    traces = TracerProvider(resource=resource)
    traces.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", compression=compression))
    )
    attributes = {"api_key": API_KEY, "db.statement": f"-- DB_PASSWORD={DB_VALUE}", "aws.key": AWS_KEY_ID}
    with traces.get_tracer("agent").start_as_current_span("tool call", attributes=attributes):
        pass
    traces.shutdown()


def posted_as_json(base: str, path: str, data: bytes) -> None:
    """The same export in OTLP's JSON form."""
    text = json_format.MessageToJson(REQUESTS[path].FromString(data)).encode()
    request = urllib.request.Request(base + path, text, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_otlp_exports_are_stored_masked_and_still_parse(tmp_path):
    Collector.received = []
    run = tmp_path / "run"
    run.mkdir()
    with serving(Collector) as upstream:
        proxies = start_proxies(two_proxy_target(tmp_path), run, upstream + "/", mock_transport="http")
        try:
            for compression in Compression:
                export_through(proxies.urls["model"], compression)
            for path, data in list(Collector.received):
                posted_as_json(proxies.urls["model"], path, data)
        finally:
            proxies.stop()
    assert len(Collector.received) == 2 * len(Compression) + 2 * len(Compression)
    assert all(any(secret.encode() in data for secret in SECRETS) for _, data in Collector.received[:6])
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert warnings == [] and len(exchanges) == 12
    decoded = []
    for number, exchange in enumerate(exchanges):
        data = body_bytes(exchange.request_body)
        message = REQUESTS[exchange.path].FromString(data) if exchange.request_body.format == "base64" else None
        text = json_format.MessageToJson(message) if message is not None else data.decode()
        assert "[REDACTED sha256:" in text and ("resourceLogs" in text or "resourceSpans" in text), text
        assert '"service.name"' in text and '"agent"' in text  # what is no secret stays readable
        decoded.append(tmp_path / f"export-{number}.json")
        decoded[-1].write_text(text)
    formats = sorted({exchange.request_body.format for exchange in exchanges})
    assert formats == ["base64", "json"]
    files = [run / "traffic.jsonl", *decoded]
    for path in files:
        assert not [secret for secret in SECRETS if secret in path.read_text()], path
    assert leaks(scanners_findings(files, tmp_path), SECRETS) == []
