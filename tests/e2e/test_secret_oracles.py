"""Every output of a run made from a corpus of credential shapes goes to two established secret scanners
(detect-secrets with every plugin, secretlint with its recommended preset), and neither finds one of the corpus's
secrets. Two runs: a real capture (the secrets in a request's text, fields, headers, URL and label, and in an answer
streamed in pieces), and a hand-made capture that holds them all raw, as one made with --keep-secrets, by an older
version or by hand would, whose manifest even claims it was masked. Two tests, so that the two runs are made and
scanned side by side."""

import contextlib
import json
import sys
import textwrap
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import detect_secrets.core.scan
import pytest
from conftest import answer_with_chunked_sse, captured_exchange, run_manifest, send_chunk, serving
from detect_secrets.settings import default_settings
from secret_corpus import CORPUS, SECRETS
from secret_oracles import flows_as_text, leaks, lines_judged_once, probe, scanners_findings, shown

from probe.redact.masking import RULES_VERSION

TEXT = "\n\n".join(text for _, text, _ in CORPUS)
NAMED = {"api_key": SECRETS[0], "user_password": SECRETS[1], "metadata": {"db": {"password": SECRETS[2]}}}
HEADERS = [
    ("authorization", "Bearer " + SECRETS[32]),
    ("x-debug", "db=postgres://admin:" + SECRETS[19] + "@db/prod"),
    ("cookie", "sessionid=" + SECRETS[25]),
    ("link", "<https://example.com/next?session_token=" + SECRETS[30] + ">; rel=next"),
]


def pieces(text: str, size: int = 7) -> list[str]:
    """The text as a model streams it: a few characters per delta, so no delta holds a whole secret."""
    return [text[start : start + size] for start in range(0, len(text), size)]


def sse(events: list[dict]) -> bytes:
    return b"".join(
        b"event: %s\ndata: %s\n\n" % (event["type"].encode(), json.dumps(event).encode()) for event in events
    )


def streamed_answer() -> list[dict]:
    events = [{"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}}]
    events += [{"type": "response.output_text.delta", "item_id": "msg_1", "delta": piece} for piece in pieces(TEXT)]
    usage = {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}
    events.append({"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-5", "usage": usage}})
    return events


class Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP receiver: each export it is sent, as the JSON protobuf's own printer writes it."""

    received: ClassVar[list[str]] = []

    def do_POST(self):
        from google.protobuf.json_format import MessageToJson
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["content-length"])))
        Collector.received.append(MessageToJson(request))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked

    def do_POST(self):
        answer_with_chunked_sse(self)
        send_chunk(self, sse(streamed_answer()))
        send_chunk(self, b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    Collector.received = []
    with serving(Collector) as url:
        yield url


@pytest.fixture
def upstream():
    with serving(Upstream) as url:
        yield url


def request_body() -> dict:
    return {
        "model": "gpt-5",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": TEXT}]}],
        "tools": [{"type": "function", "name": "shell", "description": TEXT[:400], "parameters": {"type": "object"}}],
        **NAMED,
    }


def real_capture(data_dir: Path, upstream: str, scratch: Path) -> tuple[Path, list[Path]]:
    client = scratch / "client.py"
    client.write_text(
        textwrap.dedent(f"""
        import json, os, urllib.request
        url = os.environ["PROBE_PROXY_URL"] + "/v1/responses?session_token={SECRETS[30]}"
        request = urllib.request.Request(url, json.dumps({request_body()!r}).encode(), dict({HEADERS!r}))
        request.add_header("content-type", "application/json")
        print(urllib.request.urlopen(request).read()[:0].decode())
        """)
    )
    result = probe(
        "probe.pipeline",
        "--target",
        "tests/data/itest.yaml",
        "--upstream",
        upstream,
        "--label",
        "DB_PASSWORD=" + SECRETS[0],
        "--command",
        f"{sys.executable} {client}",
        data_dir=data_dir,
    )
    (scratch / "pipeline-output.txt").write_text(result.stdout + result.stderr)
    [run] = (data_dir / "itest").iterdir()
    return run, [scratch / "pipeline-output.txt"]


def hand_made_capture(data_dir: Path) -> Path:
    """What --keep-secrets, an older version or a hand would leave: every secret raw, and a manifest that claims
    the capture was masked with today's rules."""
    run = data_dir / "itest" / "20260101-000000-raw"
    run.mkdir(parents=True)
    exchange = captured_exchange(
        "/v1/responses?session_token=" + SECRETS[30],
        request_body(),
        sse(streamed_answer()).decode(),
        request_headers=[("content-type", "application/json"), *HEADERS],
    )
    (run / "traffic.jsonl").write_text(json.dumps(exchange) + "\n")
    manifest = run_manifest("itest", exchanges=1, label="DB_PASSWORD=" + SECRETS[0], prompt=TEXT[:300])
    (run / "manifest.json").write_text(json.dumps(manifest | {"redaction": RULES_VERSION}))
    return run


def every_output(run: Path, data_dir: Path, scratch: Path, collector: str, inputs: tuple[str, ...] = ()) -> list[Path]:
    """The run's files after every command that writes or prints something of it, and what each printed."""
    printed = []
    commands = {
        "analyze": ["probe.analysis.analyze", "--run", str(run), "--force"],
        "har": ["probe.analysis.export", "--run", str(run), "--format", "har", "--force"],
        "mitm": ["probe.analysis.export", "--run", str(run), "--format", "mitm", "--force"],
        "diff": ["probe.write.diff", "--run", str(run), "--run", str(run)],
        "otlp": ["probe.analysis.export", "--run", str(run), "--otlp", collector, "--with-content"],
    }
    for table in ("runs", "exchanges", "turns", "tool_calls"):
        for form in ("csv", "table", "json"):
            commands[f"sql-{table}-{form}"] = ["probe.analysis.sql", f"select * from {table}", "--format", form]
    for name, argv in commands.items():
        result = probe(*argv, data_dir=data_dir)
        printed.append(scratch / f"{run.name}-{name}.txt")
        printed[-1].write_text(result.stdout + result.stderr)
    spans = scratch / f"{run.name}-spans.json"
    spans.write_text("\n".join(Collector.received))
    printed.append(spans)
    flows = scratch / f"{run.name}-flows.txt"
    flows.write_text(flows_as_text(run / "flows.mitm"))
    written = [path for path in run.rglob("*") if path.is_file() and path.name not in ("flows.mitm", *inputs)]
    return written + printed + [flows]


def which(value: str) -> str:
    """The corpus entries a finding holds, by name."""
    return ",".join(name for name, _, secret in CORPUS if secret in value or (len(value) >= 8 and value in secret))


def assert_no_output_holds_a_corpus_secret(outputs: list[Path], scratch: Path) -> None:
    """Neither scanner finds a corpus secret in the outputs, while both, in the same run over the corpus itself,
    find it (otherwise a clean result would prove nothing); nor does a plain search, raw or JSON-escaped."""
    corpus_file = scratch / "corpus.txt"
    corpus_file.write_text(TEXT)
    found = scanners_findings([corpus_file, *outputs], scratch)  # the scanners started once for all
    raw = leaks([finding for finding in found if finding[1] == shown(corpus_file)], SECRETS)
    assert len({finding[2] for finding in raw}) >= 10, raw
    leaked = leaks([finding for finding in found if finding[1] != shown(corpus_file)], SECRETS)
    assert sorted({(name, scanner, which(value)) for scanner, name, value in leaked}) == []
    # And more strictly than the scanners: no corpus secret appears anywhere, as it is or JSON-escaped.
    for path in outputs:
        text = path.read_text(errors="replace")
        held = [name for name, _, secret in CORPUS if secret in text or json.dumps(secret)[1:-1] in text]
        assert held == [], path.name


def assert_spans_masked(outputs: list[Path]) -> None:
    [spans] = [path.read_text() for path in outputs if path.name.endswith("-spans.json")]
    assert "gen_ai.input.messages" in spans and "[REDACTED sha256:" in spans


@pytest.mark.slow  # the scanners over every file of a run: CI runs it, `nox -s quick` does not
def test_no_output_of_a_real_capture_holds_a_corpus_secret(tmp_path, upstream, collector):
    data_dir, scratch = tmp_path / "data", tmp_path / "scratch"
    scratch.mkdir()
    run, printed = real_capture(data_dir, upstream, scratch)
    assert SECRETS[0] not in run.name
    traffic = json.loads((run / "traffic.jsonl").read_text().splitlines()[0])
    Collector.received = []
    assert traffic["response"]["status"] == 200 and "response.output_text.delta" in traffic["response"]["body"]
    outputs = printed + every_output(run, data_dir, scratch, collector)
    assert_spans_masked(outputs)
    assert_no_output_holds_a_corpus_secret(outputs, scratch)


@pytest.mark.slow  # the scanners over every file of a run: CI runs it, `nox -s quick` does not
def test_no_output_of_a_raw_capture_holds_a_corpus_secret(tmp_path, collector):
    data_dir, scratch = tmp_path / "data", tmp_path / "scratch"
    scratch.mkdir()
    run = hand_made_capture(data_dir)
    outputs = every_output(run, data_dir, scratch, collector, ("traffic.jsonl", "manifest.json"))
    assert_spans_masked(outputs)
    assert_no_output_holds_a_corpus_secret(outputs, scratch)


def test_judging_a_line_once_finds_what_detect_secrets_finds_line_by_line(tmp_path):
    """The scan that remembers a line's verdict (secret_oracles.lines_judged_once) finds every secret the plain
    scan finds, at the same lines, in files of the kinds whose names change how detect-secrets reads them: the
    corpus four times in each, the second time after a line that allowlists the line below it."""
    repeated = "\n\n".join([TEXT, "# pragma: allowlist nextline secret\n" + TEXT, TEXT, TEXT])
    files = [tmp_path / name for name in ("corpus.txt", "corpus.py", "corpus.yaml", "corpus.jsonl", "corpus.ini")]
    for file in files:
        file.write_text(repeated)

    def scanned(remembering: contextlib.AbstractContextManager) -> set[tuple]:
        with default_settings(), remembering:  # each secret at each line it is found at, not once per file
            found = [secret for file in files for secret in detect_secrets.core.scan.scan_file(str(file))]
        return {(secret.filename, secret.type, secret.secret_value, secret.line_number) for secret in found}

    plain = scanned(contextlib.nullcontext())
    quarters = {number * 4 // (repeated.count("\n") + 1) for name, _, _, number in plain if name == str(files[0])}
    assert quarters == {0, 1, 2, 3}, quarters  # found in every copy of the corpus
    assert scanned(lines_judged_once()) == plain
