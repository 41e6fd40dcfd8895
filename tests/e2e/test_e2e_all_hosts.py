"""Every bundled agent, run by `invoke pipeline --upstream mock --all-hosts --full-traffic`: what it sends to hosts
other than its model API is recorded by the forward channel (method, host, path, masked body), and its model turns
are still read. The hosts are those measured for docs/capture.md ("Hosts each agent talks to"). Against the mock the
forward proxy sends nothing on (each request is recorded whole and answered 403 by it), and the run's own upstream
proxy is a closed port besides: a test run never sends stand-in telemetry to a vendor."""

import contextlib
import json
import socket
from urllib.parse import urlsplit

import pytest
from conftest import pipeline_against_mock, read_traffic

from probe.capture import agents
from probe.capture.recorder.forward import NO_CREDENTIALS, OFFLINE
from probe.common.forward import ALL_HOSTS
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function"
FETCHED = "https://example.com/agent-probe"  # a page an agent's web-fetch tool is asked for
# What makes an agent that calls no other host by itself in a prompt run call one: its web-fetch tool, which the
# mock calls when the prompt asks (probe.mock.tool_schemas.asked_call), or a login whose client asks for the account.
QWEN_FETCH = {"name": "web_fetch", "arguments": {"url": FETCHED, "prompt": "Sum it up"}}
PROMPTS = {
    # Qwen Code declares web_fetch as a deferred tool, called through its tool_call.
    "qwen-code": f"call `tool_call` with `{json.dumps(QWEN_FETCH)}`",
    "continue": f"call `Fetch` with `{json.dumps({'url': FETCHED})}`",
}
OPTIONS = {
    # With an access token, gemini-cli asks www.googleapis.com for the account's address (its web_fetch asks the
    # model first, which fetches the page itself, and looks each host up before it fetches: offline, none is).
    "gemini": ("--login", "google"),
}
CLAUDE_KEY = "sk-" + "ant-mock-not-a-real-key"  # what the claude-code target's mock_env gives Claude Code

# (method, host, path prefix, a top-level key of its JSON body or None for no body): what each pinned agent sent to
# other hosts in a prompt run against the mock. Each is sent at least once, and nothing else is but MAY_SEND's.
SENT = {
    "claude-code": {
        ("POST", "api.anthropic.com", "/api/eval/sdk-", "attributes"),  # feature flags (GrowthBook)
        ("GET", "api.anthropic.com", "/api/claude_cli/bootstrap?", None),
        ("GET", "api.anthropic.com", "/api/claude_code_penguin_mode", None),
        ("GET", "api.anthropic.com", "/api/directory/server-urls", None),
        ("POST", "api.anthropic.com", "/api/event_logging/v2/batch", "events"),  # its telemetry events
    },
    "codex": {
        ("GET", "api.github.com", "/repos/openai/plugins", None),
        ("GET", "chatgpt.com", "/backend-api/plugins/export/curated", None),
        ("POST", "ab.chatgpt.com", "/otlp/v1/metrics", "resourceMetrics"),  # OTLP/HTTP JSON metrics
    },
    "cline": {("POST", "data.cline.bot", "/flags/?v=2", "distinct_id")},  # PostHog feature flags
    "gemini": {("GET", "www.googleapis.com", "/oauth2/v2/userinfo", None)},
    "qwen-code": {("GET", "example.com", "/agent-probe", None)},  # its web_fetch (asked twice: it retries a 403)
    "copilot": {("GET", "api.github.com", "/repos/github/copilot-cli/releases?", None)},  # its update check
    "opencode": {("GET", "models.opencode.ai", "/api.json", None)},  # the models list
    "kilo": {
        ("GET", "models.dev", "/api.json", None),  # the models list
        ("GET", "api.kilo.ai", "/api/openrouter/models", None),  # its own gateway's models
        ("POST", "us.i.posthog.com", "/batch/", "batch"),  # PostHog analytics (`CLI Start`, ...)
    },
    "aider": {
        ("GET", "pypi.org", "/pypi/aider-chat/json", None),  # its update check
        ("GET", "raw.githubusercontent.com", "/BerriAI/litellm/main/model_prices_and_context_window.json", None),
    },
    "openhands": {
        ("GET", "pypi.org", "/pypi/openhands/json", None),  # its update check
        ("GET", "raw.githubusercontent.com", "/BerriAI/litellm/main/model_prices_and_context_window.json", None),
        # git's clone of its public skills (tried four times): through the proxy by its all_hosts_env
        ("GET", "github.com", "/OpenHands/extensions/info/refs?service=git-upload-pack", None),
    },
    # LiteLLM's price list, fetched when mini imports it (mini itself checks for no update).
    "mini-swe-agent": {
        ("GET", "raw.githubusercontent.com", "/BerriAI/litellm/main/model_prices_and_context_window.json", None),
    },
    # Continue's Fetch and its version check (api.continue.dev, at every start) use Node's own fetch, which reads
    # no proxy variable (Node 20): they go to the host directly, past the forward proxy, and are not recorded. pi
    # makes no other call in a prompt run (its version check is its UI's: tests/e2e/test_interactive_sessions.py).
    "continue": set(),
    "pi": set(),
    # Mistral Vibe's side calls (managed settings, account check, feature flags, telemetry events) go to the mock's
    # proxy: against a stand-in model the target points them there (its mock_env), so no other host is called.
    "mistral-vibe": set(),
    "grok-cli": set(),  # it has no update check, telemetry or analytics
}
# Calls an agent makes to its model API's host besides the model's, which the mock does not serve (404), and the
# agent goes on without: Mistral Vibe's connectors' list, telemetry events, account and feature flags.
NOT_SERVED = {
    "mistral-vibe": (
        "/v1/connectors/bootstrap",
        "/v1/datalake/events",
        "/v1/users/me",
        "/api/vibe/whoami",
        "/api/eval/",
    )
}
# What an agent prints last, lowercased, where it is not the mock's answer in words.
FINAL_WORDS = {"mini-swe-agent": "echo complete_task_and_submit_final_output"}
# Hosts an agent opens a second tunnel to and drops in the TLS handshake: Qwen Code's fetch, once per ask.
DROPS_A_TUNNEL = {"qwen-code": {"example.com"}}
DROPPED = "tls: the client refused the TLS handshake with "
# What some runs send and others do not.
MAY_SEND = {
    # Its OTLP logs exporter sends on a timer, which a short run may end before.
    "cline": {("POST", "otel.cline.bot", "/v1/logs", "resourceLogs")},
    # aider asks one user in ten (by the random id a fresh home gets) whether to send analytics, and --yes-always
    # answers yes: PostHog batches.
    "aider": {("POST", "us.i.posthog.com", "/batch/", "batch")},
}


@pytest.fixture(scope="module")
def closed_port():
    """A loopback port bound but never listening: connecting to it is refused at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, closed_port):
    """One run per agent, made when a test first asks for it and shared by every test of that agent."""
    done = {}

    def run_of(name: str) -> tuple:
        if name not in done:
            target = load_target(name)
            program = str(agents.ensure_installed(target))
            ports = [option for proxy in target.proxies for option in ("--port", f"{proxy.name}=0")]
            options = (*ports, *OPTIONS.get(name, ()), "--all-hosts", "--full-traffic")
            prompt = PROMPTS.get(name, PROMPT)
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv("https_proxy", raising=False)
                patch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port}")
                result, run = pipeline_against_mock(name, program, tmp_path_factory.mktemp("data"), prompt, *options)
            done[name] = name, result, run, read_traffic(run)
        return done[name]

    return run_of


def one_worker_per_agent(name: str):
    """Each agent's run is made once, by the worker its tests are grouped on: under xdist a module fixture is the
    worker's own, so two workers sharing an agent's tests would both start it."""
    return pytest.param(name, marks=pytest.mark.xdist_group(f"all-hosts-{name}"))


@pytest.fixture(scope="module", params=[one_worker_per_agent(name) for name in sorted(SENT)])
def all_hosts_run(request, runs):
    return runs(request.param)


def other_hosts(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["proxy"] == ALL_HOSTS]


def sent_as(entry: dict, expected: set) -> tuple:
    """The expected call an other-host line is, or the line's own (method, host, path) when it is none of them."""
    request = entry["request"]
    url = urlsplit(request["url"])
    path = url.path + (f"?{url.query}" if url.query else "")
    for method, host, prefix, body_key in expected:
        if (request["method"], url.hostname, url.scheme) == (method, host, "https") and path.startswith(prefix):
            return method, host, prefix, body_key
    return request["method"], url.hostname, path


def test_the_model_turns_are_still_read(all_hosts_run):
    name, result, run, entries = all_hosts_run
    assert result.returncode == 0, result.stderr[-2000:]
    # The agent printed the mock's answer; mini ends on the finishing command the mock has it run, with no words.
    assert FINAL_WORDS.get(name, "hello, world") in result.stdout.lower()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["agent_exit_code"] == 0
    assert manifest["all_hosts"] is True
    model_calls = [
        entry
        for entry in entries
        if entry["proxy"] != ALL_HOSTS and entry["kind"] == "http"
        and not entry["request"]["path"].startswith(NOT_SERVED.get(name, ()))
    ]  # fmt: skip
    assert all(entry["response"]["status"] == 200 for entry in model_calls)
    turns = [json.loads(line) for line in (run / "turns.jsonl").read_text().splitlines()]
    model_turns = [turn for turn in turns if turn["proxy"] != ALL_HOSTS]
    # Every model turn names its model (Code Assist's account calls, gemini's with its Google login, are none).
    answers = [turn for turn in model_turns if turn["output"]]
    assert answers and all(turn["model"] for turn in answers)
    # None of these agents sends a model call to another host: nothing of the forward channel is a turn.
    assert not [turn for turn in turns if turn["proxy"] == ALL_HOSTS]


def test_what_it_sends_to_other_hosts_is_recorded(all_hosts_run):
    name, result, run, entries = all_hosts_run
    expected, known = SENT[name], SENT[name] | MAY_SEND.get(name, set())
    # git (which codex runs for its plugins) asks without the proxy credentials first, as curl's any-auth does, and
    # sends them once answered 407: that first ask is all a short run may record of it.
    probes = [entry for entry in other_hosts(entries) if entry["error"] == NO_CREDENTIALS]
    assert all(dict(entry["request"]["headers"])["User-Agent"].startswith("git/") for entry in probes)
    dropped = [entry for entry in other_hosts(entries) if (entry["error"] or "").startswith(DROPPED)]
    assert {urlsplit(entry["request"]["url"]).hostname for entry in dropped} <= DROPS_A_TUNNEL.get(name, set())
    sent = [entry for entry in other_hosts(entries) if entry not in probes and entry not in dropped]
    assert expected <= {sent_as(entry, known) for entry in sent} <= known, result.stderr[-3000:]
    for entry in sent:
        request, body_key = entry["request"], sent_as(entry, known)[3]
        assert entry["kind"] == "http" and request["url"].startswith("https://")
        # Recorded whole and sent nowhere: against the mock, the forward proxy answers every other host itself.
        assert entry["response"]["status"] == 403 and entry["error"] == OFFLINE
        if body_key is None:
            assert request["body_size"] == 0
        else:
            assert request["body_size"] > 0 and body_key in request["body"]
    report = (run / "report.md").read_text()
    assert all(urlsplit(entry["request"]["url"]).path in report for entry in sent)
    # The report's Other hosts section names every host the agent called, or is absent when it called none.
    hosts = {urlsplit(entry["request"]["url"]).hostname for entry in sent}
    section = report.split("## Other hosts", 1)[1].split("\n## ", 1)[0] if hosts else ""
    # The section lists the other hosts, and the calls to the model API's host the mock does not serve (127.0.0.1).
    assert all(f"{host}" in section for host in hosts)
    assert (bool(hosts) or name in NOT_SERVED) == ("## Other hosts" in report)


def test_an_agent_that_calls_another_host_sends_the_runs_proxy_credentials(all_hosts_run):
    name, result, _, entries = all_hosts_run
    # The forward proxy refuses a request without the run's user:password (407, recorded as NO_CREDENTIALS) and
    # takes them off one that has them: every call but git's first ask came with them, the agent's own client's.
    through = [entry for entry in other_hosts(entries) if entry["error"] != NO_CREDENTIALS]
    assert bool(through) == bool(SENT[name]), result.stderr[-2000:]
    # They never reach the record.
    assert all(
        header.lower() != "proxy-authorization" for entry in entries for header, _ in entry["request"]["headers"]
    )


def tool_results_sent(entries: list[dict]) -> list[str]:
    """The text of every Chat Completions tool message the model was sent."""
    messages = [message for entry in entries if entry["proxy"] != ALL_HOSTS for message in
                (entry["request"]["body"] or {}).get("messages", [])]  # fmt: skip
    return [json.dumps(message.get("content")) for message in messages if message.get("role") == "tool"]


@pytest.mark.xdist_group("all-hosts-continue")
def test_continues_fetch_goes_to_the_host_directly_past_the_forward_proxy(runs):
    _, _, _, entries = runs("continue")
    # Its Fetch tool ran (the mock called it with the page asked for), and failed: it looked the host up itself,
    # offline, where through the forward proxy the request would have been recorded whole.
    assert any("Error executing tool Fetch: Error: fetch failed" in text for text in tool_results_sent(entries))
    assert other_hosts(entries) == []


@pytest.mark.xdist_group("all-hosts-qwen-code")
def test_qwen_codes_web_fetch_goes_through_the_forward_proxy(runs):
    _, _, _, entries = runs("qwen-code")
    fetched = [entry for entry in other_hosts(entries) if entry["request"]["url"] == FETCHED]
    assert fetched and all(entry["error"] == OFFLINE for entry in fetched)
    headers = {name.lower(): value for name, value in fetched[0]["request"]["headers"]}
    assert headers["user-agent"].startswith("QwenCode/0.24.4")
    assert any(f"Error during fetch for {FETCHED}: Request failed with status code 403" in text
               for text in tool_results_sent(entries))  # fmt: skip


@pytest.mark.xdist_group("all-hosts-claude-code")
def test_claude_codes_telemetry_and_flag_calls_are_in_the_capture_masked(runs):
    _, _, run, entries = runs("claude-code")
    sent = other_hosts(entries)
    assert {urlsplit(entry["request"]["url"]).hostname for entry in sent} == {"api.anthropic.com"}
    for entry in sent:
        headers = {name.lower(): value for name, value in entry["request"]["headers"]}
        assert headers["user-agent"].startswith(("claude-code/2.1.332", "claude-cli/2.1.332"))
        with contextlib.suppress(KeyError):
            assert headers["x-api-key"] == fingerprint(CLAUDE_KEY)
    assert CLAUDE_KEY not in (run / "traffic.jsonl").read_text()
    batches = [entry["request"]["body"] for entry in sent if "/api/event_logging/v2/batch" in entry["request"]["url"]]
    events = [event for batch in batches for event in batch["events"]]
    assert {event["event_type"] for event in events} == {"ClaudeCodeInternalEvent"}
    names = [event["event_data"]["event_name"] for event in events]
    assert len(names) > 10 and all(name.startswith("tengu_") for name in names)
    # The feature-flag request names the session the events report.
    flags = [entry["request"]["body"] for entry in sent if "/api/eval/sdk-" in entry["request"]["url"]]
    sessions = {event["event_data"]["session_id"] for event in events}
    assert flags and all(body["attributes"]["sessionId"] in sessions for body in flags)
    # The report counts them as telemetry and names the events it decoded from the batches.
    section = (run / "report.md").read_text().split("## Other hosts", 1)[1]
    assert "telemetry" in section and max(set(names), key=names.count) in section
