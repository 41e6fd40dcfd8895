"""Accounts', organisations', workspaces' and projects' ids are masked wherever the capture meets them: in headers
(`chatgpt-account-id`, `anthropic-organization-id`, `x-goog-user-project`), in bodies under names that say so
(`account_id`, `orgId`), as the `id` of an account's or organisation's object (ChatGPT's workspace check, Claude's
profile), inside another id (Claude Code's `user_…_account_<uuid>_session_…`) and in JSON held in strings; through
the real mitmdump, in every file of the run, its report and its HAR and VCR exports, each id by one fingerprint
wherever it stood, so that reports still group by it."""

import json
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import serving, two_proxy_target

from probe.analysis.export import export_har, export_vcr
from probe.analysis.report import analyze_run
from probe.capture.proxies import start_proxies
from probe.redact.masking import fingerprint, mask_body

ACCOUNT = "d3b07384-d9a0-4c9b-8f2e-6a1c5e7b9f01"
ORGANISATION = "5f4dcc3b-5aa7-4c5d-9e2b-1a2b3c4d5e6f"
WORKSPACE = "ws-8c7e1b2a9d3f"
PROJECT = "gentle-harbor-417203"
IDS = (ACCOUNT, ORGANISATION, WORKSPACE, PROJECT)


def answers(path: str) -> dict:
    """What the upstream answers each path with: each id where an API puts it."""
    if path.endswith("/accounts/check"):  # ChatGPT's workspace check
        return {"accounts": [{"id": ACCOUNT, "workspace_backend_origin": "https://chatgpt.com"}]}
    if path.endswith("/profile"):  # Claude's OAuth profile
        return {"account": {"uuid": ACCOUNT, "has_claude_max": True}, "organization": {"uuid": ORGANISATION}}
    return {"data": {"workspaceId": WORKSPACE, "cloudaicompanionProject": PROJECT, "project_id": PROJECT}}


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        data = json.dumps(answers(self.path)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("anthropic-organization-id", ORGANISATION)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def sent(base: str, path: str, body: dict) -> bytes:
    headers = {"content-type": "application/json", "chatgpt-account-id": ACCOUNT, "x-goog-user-project": PROJECT}
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def request_body() -> dict:
    user_id = f"user_{'5e' * 32}_account_{ACCOUNT}_session_0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    held = json.dumps({"device_id": "d1", "account_uuid": ACCOUNT, "organization_uuid": ORGANISATION})
    return {"metadata": {"user_id": user_id, "held": held}, "account_id": ACCOUNT, "orgId": ORGANISATION}


def test_an_id_masked_in_a_body_gets_the_fingerprint_it_gets_in_a_header():
    masked = mask_body(json.dumps(answers("/wham/accounts/check")).encode(), "application/json")
    assert masked.parsed["accounts"][0]["id"] == fingerprint(ACCOUNT) and masked.count == 1
    masked = mask_body(json.dumps(request_body()).encode(), "application/json").data.decode()
    assert not any(found in masked for found in IDS) and masked.count(fingerprint(ACCOUNT)) == 3
    # Ids of anything else, and an account's other fields, stay readable.
    readable = {"id": "msg_01", "accounts": [{"id": ACCOUNT, "name": "Ada's team"}], "session_id": "s1"}
    masked = json.loads(mask_body(json.dumps(readable).encode(), "application/json").data)
    assert masked == readable | {"accounts": [{"id": fingerprint(ACCOUNT), "name": "Ada's team"}]}


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_through_mitmdump_no_id_reaches_a_file_of_the_run_or_an_export(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with serving(Upstream) as upstream:
        proxies = start_proxies(two_proxy_target(tmp_path), run, upstream + "/", mock_transport="http")
        try:
            for path in ("/backend-api/wham/accounts/check", "/api/oauth/profile", "/v1internal:loadCodeAssist"):
                assert ACCOUNT.encode() in sent(proxies.urls["backend"], path, request_body()) or "Assist" in path
        finally:
            proxies.stop()
    analyze_run(run)
    har, _ = export_har(run, None)
    vcr, _ = export_vcr(run, None)
    assert har.parent == run and vcr.parent == run
    files = {path.name: path.read_bytes() for path in run.rglob("*") if path.is_file()}
    assert {"traffic.jsonl", "report.md", "report.html", "turns.jsonl", har.name, vcr.name} <= set(files)
    for name, data in files.items():
        assert not [found for found in IDS if found.encode() in data], name
    traffic = files["traffic.jsonl"].decode()
    # One fingerprint per id, in headers and bodies alike: what groups a capture by account still does.
    assert (
        traffic.count(fingerprint(ACCOUNT)) == 3 * 4 + 2 and traffic.count(fingerprint(ORGANISATION)) == 3 * 2 + 3 + 1
    )
    assert fingerprint(PROJECT) in traffic and fingerprint(WORKSPACE) in traffic
    assert fingerprint(ACCOUNT) in files["report.md"].decode() and fingerprint(ACCOUNT) in files[har.name].decode()
