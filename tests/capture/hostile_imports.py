"""Small hostile recordings of every format the import reads, each holding a body that decodes to far more than
the file (in every Content-Encoding, nested too) after one good exchange, or YAML aliases that expand a billion
times: for the tests of what one imported file may expand to."""

import base64
import functools
import gzip
import json
import zlib
from pathlib import Path

import brotli
import zstandard
from mitmproxy import io as flow_io
from mitmproxy.test import tflow

EXPANDS_TO = 64 * 2**20  # bytes each bomb decodes to: past what any of these files may expand to
REPEATS = 40  # bombs after the good exchange (aliases of one, in a YAML cassette)
COMPRESS = {
    "gzip": lambda data: gzip.compress(data, 6),
    "deflate": lambda data: zlib.compress(data, 6),
    "br": lambda data: brotli.compress(data, quality=4),
    "zstd": lambda data: zstandard.ZstdCompressor(level=3).compress(data),
}
ENCODINGS = [*COMPRESS, "gzip, zstd"]  # the last: gzip, then zstd over it
GOOD_URL = "https://api.example.com/v1/models"
GOOD_BODY = {"data": [{"id": "good-model"}]}


@functools.cache
def bomb(encoding: str) -> bytes:
    data = b"\0" * EXPANDS_TO
    for name in encoding.split(", "):
        data = COMPRESS[name](data)
    return data


def har(path: Path, encoding: str) -> None:
    def entry(url, headers, content):
        return {"startedDateTime": "2026-01-01T00:00:00Z", "request": {"method": "GET", "url": url, "headers": []},
                "response": {"status": 200, "headers": headers, "content": content}}  # fmt: skip

    entries = [entry(GOOD_URL, [{"name": "content-type", "value": "application/json"}],
                     {"text": json.dumps(GOOD_BODY)})]  # fmt: skip
    wrapped = {"text": base64.b64encode(bomb(encoding)).decode(), "encoding": "base64"}
    entries += [entry("https://api.example.com/bomb", [{"name": "Content-Encoding", "value": encoding}], wrapped)] * 3
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x"}, "entries": entries}}))


def vcr(path: Path, encoding: str) -> None:
    interaction = "- request: {{method: GET, uri: '{}', body: null, headers: {{}}}}\n  response:\n" \
                  "    status: {{code: 200, message: OK}}\n    headers: {{{}}}\n    body: {{string: {}}}\n"  # fmt: skip
    text = interaction.format(GOOD_URL, "Content-Type: [application/json]", f"'{json.dumps(GOOD_BODY)}'")
    binary = base64.b64encode(bomb(encoding)).decode()
    text += interaction.format("https://api.example.com/bomb", f"Content-Encoding: ['{encoding}']",
                               f"&bomb !!binary '{binary}'")  # fmt: skip
    text += interaction.format("https://api.example.com/bomb", f"Content-Encoding: ['{encoding}']", "*bomb") * REPEATS
    path.write_text("interactions:\n" + text + "version: 1\n")


def flows(path: Path, encoding: str) -> None:
    good = tflow.tflow(resp=True)
    good.request.url, good.response.content = GOOD_URL, json.dumps(GOOD_BODY).encode()
    with path.open("wb") as out:
        writer = flow_io.FlowWriter(out)
        writer.add(good)
        for _ in range(3):
            flow = tflow.tflow(resp=True)
            flow.response.headers["content-encoding"] = encoding
            flow.response.raw_content = bomb(encoding)
            writer.add(flow)


def bytes_as_text(data: bytes) -> str:
    return data.decode("latin-1")  # as some tools write bytes into a JSON string


def claude_tap(path: Path, encoding: str) -> None:
    def record(number, url, headers, body):
        return json.dumps({"timestamp": "2026-01-01T00:00:00", "request_id": str(number), "upstream_base_url": url,
                           "request": {"method": "GET", "path": "/v1/models", "headers": {}},
                           "response": {"status": 200, "headers": headers, "body": body}})  # fmt: skip

    lines = [record(0, "https://api.example.com", {"content-type": "application/json"}, GOOD_BODY)]
    lines += [record(n, "https://bomb.example", {"content-encoding": encoding}, bytes_as_text(bomb(encoding)))
              for n in range(1, 4)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def traffic(path: Path, encoding: str) -> None:
    def line(url, headers, body, body_format):
        return json.dumps({"schema": 1, "kind": "http", "id": "x", "proxy": "model", "complete": True, "error": None,
                           "timing": {}, "request": {"method": "GET", "url": url, "path": "/", "headers": [],
                                                     "body": None, "body_format": "empty"},
                           "response": {"status": 200, "headers": headers, "body": body,
                                        "body_format": body_format}})  # fmt: skip

    lines = [line(GOOD_URL, [["content-type", "application/json"]], GOOD_BODY, "json")]
    bombed = base64.b64encode(bomb(encoding)).decode()
    lines += [line("https://api.example.com/bomb", [["content-encoding", encoding]], bombed, "base64")] * 3
    path.write_text("\n".join(lines) + "\n")


def original(path: Path, encoding: str) -> None:
    def line(url, headers, body):
        return json.dumps({"timestamp": 1767225600, "request": {"method": "GET", "url": url, "headers": {}},
                           "response": {"status_code": 200, "headers": headers, "body": body}})  # fmt: skip

    lines = [line(GOOD_URL, {"content-type": "application/json"}, json.dumps(GOOD_BODY))]
    lines += [line("https://api.example.com/bomb", {"content-encoding": encoding}, bytes_as_text(bomb(encoding)))] * 3
    path.write_text("\n".join(lines) + "\n")


FORMATS = {"har": har, "vcr": vcr, "flows": flows, "claude-tap": claude_tap, "traffic": traffic, "original": original}


def laughs(path: Path, go: bool) -> None:
    """After one good interaction, nested aliases to an empty string, nine to a level, nine levels (9^9 strings from
    a few hundred bytes) as a body, then that body aliased again in every interaction (go-vcr's cassette or
    VCR.py's)."""
    levels = ", ".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10))
    head = "---\nversion: 2\ninteractions:\n" if go else "interactions:\n"
    url, body = ("url", "body") if go else ("uri", "parsed_body")

    def interaction(address: str, value: str) -> str:
        request = f"{{method: POST, {url}: '{address}', {body}: {value}}}"
        return f"- request: {request}\n  response: {{status: 200, code: 200}}\n"

    text = interaction(GOOD_URL, "''") + interaction("https://x/", f"&top {{l0: &l0 '', {levels}}}")
    path.write_text(head + text + interaction("https://x/", "*top") * REPEATS + ("" if go else "version: 1\n"))
