"""The login a run's requests carried, named from each login's `seen_as`: for every bundled target and login, a
request with that login's headers, masked as at capture, is named right in the manifest, report.md and report.html;
a login other than the one asked for, several logins, and none at all are said so."""

import json
import re

import pytest
from conftest import captured_exchange, run_manifest

from probe.analysis.report import analyze_run
from probe.capture.imports.masking import mask_line
from probe.capture.session import traffic_summary
from probe.common.forward import ALL_HOSTS
from probe.runs.targets import known_targets, load_target
from probe.write.manifest_facts import login_said

DATA = re.compile(r'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)  # report.html's
KEY = "x" * 40  # the tail of every stand-in credential: long enough for each token shape
# (target, login) -> the proxy, path and headers of a model call made with that login, as its agent sends it.
WIRE = {
    ("claude-code", "api-key"): (
        "api",
        "/v1/messages?beta=true",
        [("x-api-key", "sk-ant-api03-" + KEY), ("anthropic-beta", "claude-code-20250219,effort-2025-11-24")],
    ),
    ("claude-code", "oauth"): (
        "api",
        "/v1/messages?beta=true",
        [("Authorization", "Bearer sk-ant-oat01-" + KEY), ("anthropic-beta", "claude-code-20250219,oauth-2025-04-20")],
    ),
    ("codex", "api-key"): ("model", "/v1/responses", [("Authorization", "Bearer sk-proj-" + KEY)]),
    ("codex", "chatgpt"): (
        "chatgpt",
        "/backend-api/codex/responses",
        [("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9." + KEY), ("chatgpt-account-id", "acct-" + KEY)],
    ),
    ("gemini", "api-key"): (
        "api",
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        [("x-goog-api-key", "AIzaSy" + KEY)],
    ),
    ("gemini", "google"): (
        "codeassist",
        "/v1internal:streamGenerateContent?alt=sse",
        [("Authorization", "Bearer ya29.a0" + KEY)],
    ),
    ("gemini", "vertex"): (
        "vertex",
        "/v1beta1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        [("x-goog-api-key", "AIzaSy" + KEY)],
    ),
    ("qwen-code", "api-key"): ("api", "/v1/chat/completions", [("Authorization", "Bearer sk-" + KEY)]),
    ("qwen-code", "qwen-oauth"): ("portal", "/v1/chat/completions", [("Authorization", "Bearer " + KEY)]),
}
# The same logins, their credential given another way than WIRE's.
OTHER_WAYS = {
    ("gemini", "api-key"): ("api", "/v1beta/models/gemini-2.5-pro:generateContent?key=AIzaSy" + KEY, []),
    ("gemini", "vertex"): ("vertex", "/v1beta1/publishers/google/models/gemini-2.5-pro:generateContent?key=" + KEY, []),
}
CASES = [(*key, wire) for key, wire in WIRE.items()] + [(*key, wire) for key, wire in OTHER_WAYS.items()]


def masked_call(proxy: str, path: str, headers: list) -> dict:
    """A model call as traffic.jsonl holds it, masked as at capture: no credential is left in it."""
    line = captured_exchange(path, {"model": "m"}, "", proxy=proxy, request_headers=headers)
    masked, _ = mask_line(line)
    assert KEY not in json.dumps(masked)
    return masked


def run_of(data: object, target: str, lines: list[dict], **manifest) -> object:
    run = data / target / "20260101-000000-logins"
    run.mkdir(parents=True)
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (run / "manifest.json").write_text(json.dumps(run_manifest(target, session="prompt", home="own", **manifest)))
    return run


def said_by(run) -> tuple[str, str | None]:
    """report.md's line on how the agent ran, and report.html's Run panel's login."""
    report, _ = analyze_run(run)
    line = next(line for line in report.read_text().splitlines() if line.startswith("- Agent run: "))
    data = json.loads(DATA.search((run / "report.html").read_text()).group(1))
    return line, dict(data["header"]["facts"]).get("Login")


def test_every_login_of_a_target_with_several_says_how_it_shows_and_each_is_tried_here():
    declared = set()
    for name in known_targets():
        target = load_target(name)
        if len(target.logins) > 1:
            assert all(login.seen_as for login in target.logins), name
        declared |= {(name, login.name) for login in target.logins if login.seen_as}
    assert declared == set(WIRE)


@pytest.mark.parametrize(("target", "login", "wire"), CASES, ids=[f"{t}-{lg}-{w[1][:12]}" for t, lg, w in CASES])
def test_each_login_is_named_from_its_masked_headers_and_a_request_for_another_is_said_so(
    tmp_path, target, login, wire
):
    logins = load_target(target).logins
    other = next(known.name for known in logins if known.name != login)
    calls = [masked_call(*wire), masked_call(*wire)]
    run = run_of(tmp_path, target, calls, login=other)
    assert traffic_summary(run / "traffic.jsonl", logins)["login_seen"] == {login: 2}  # the manifest's, at the end
    line, page = said_by(run)  # from traffic.jsonl alone: the manifest records none
    assert f"login `{login} (asked for {other})`" in line
    assert page == f"{login} (asked for {other})"
    # The analysis's saved reading keeps what it found of the logins, never their stand-in credentials.
    saved = b"".join(path.read_bytes() for path in (run / ".analysis").iterdir())
    stand_ins = {value for known in logins for value in known.mock_env.values() if len(value) > 8}
    assert saved and stand_ins and not [value for value in stand_ins if value.encode() in saved]
    (run / "manifest.json").write_text(json.dumps(run_manifest(target, session="prompt", login=login)))
    assert "login `" + login + "`" in said_by(run)[0]


def test_several_logins_are_counted_and_none_is_said_and_other_hosts_do_not_count(tmp_path):
    proxy, path, oauth = WIRE["claude-code", "oauth"]
    key = WIRE["claude-code", "api-key"][2]
    calls = [masked_call(proxy, path, key)] + [masked_call(proxy, path, oauth)] * 3
    calls.append(masked_call(ALL_HOSTS, "/api/oauth/profile", key))  # a call to another host: not the model's
    run = run_of(tmp_path / "several", "claude-code", calls, login="api-key")
    summary = traffic_summary(run / "traffic.jsonl", load_target("claude-code").logins)
    assert json.dumps(summary["login_seen"]) == '{"oauth": 3, "api-key": 1}'  # most used first
    line, page = said_by(run)
    assert "login `oauth ×3, api-key ×1 (asked for api-key)`" in line
    assert page == "oauth ×3, api-key ×1 (asked for api-key)"
    bare = [masked_call(proxy, path, [("anthropic-beta", "oauth-2025-04-20")])]  # no credential at all
    line, _ = said_by(run_of(tmp_path / "none", "claude-code", bare, login="oauth"))
    assert "login `not seen (asked for oauth)`" in line
    # Imported: no login asked for, and the analysis names the one seen.
    line, _ = said_by(run_of(tmp_path / "imported", "claude-code", calls[1:2], status="imported"))
    assert "login `oauth`" in line


@pytest.mark.parametrize(
    ("asked", "seen", "said"),
    [
        ("oauth", None, "oauth"),  # not looked for: the login asked for, as before
        ("oauth", {"oauth": 4}, "oauth"),
        ("api-key", {"oauth": 4}, "oauth (asked for api-key)"),
        ("api-key", {}, "not seen (asked for api-key)"),
        (None, {}, "not seen"),
        ("api-key", {"oauth": 1200, "api-key": 1}, "oauth ×1,200, api-key ×1 (asked for api-key)"),
        ("oauth", ["oauth"], ["oauth"]),  # a manifest holds anything: shown as the JSON it is
        ("oauth", {"oauth": "4"}, {"oauth": "4"}),
    ],
)
def test_the_login_is_worded_from_what_was_asked_for_and_seen(asked, seen, said):
    assert login_said(asked, seen) == said
