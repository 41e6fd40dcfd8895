"""The kinds of other-host traffic the table in kinds.yaml gives the calls measured with the bundled agents under
--all-hosts --full-traffic (docs/capture.md, "Hosts each agent talks to"), and the events Claude Code's own batches
are decoded into."""

import pytest
from side_traffic import side

from probe.analyse.hosts.events import decode
from probe.analyse.hosts.kinds import FORWARD_PROXY, host_of, kind_of
from probe.common.forward import ALL_HOSTS
from probe.read.traffic import from_entry

MEASURED = [
    ("POST", "https://api.anthropic.com/api/event_logging/v2/batch", "telemetry"),
    ("POST", "https://api.anthropic.com/api/eval/sdk-zAZezfDKGoZuXXKe", "config"),
    ("GET", "https://api.anthropic.com/api/claude_cli/bootstrap", "config"),
    ("GET", "https://api.anthropic.com/api/claude_code_penguin_mode", "config"),
    ("GET", "https://api.anthropic.com/api/directory/server-urls", "config"),
    ("GET", "https://api.anthropic.com/v1/models", "model-api"),
    ("POST", "https://ab.chatgpt.com/otlp/v1/metrics", "telemetry"),
    ("GET", "https://chatgpt.com/backend-api/plugins/export/curated", "config"),
    ("GET", "https://api.github.com/repos/openai/plugins", "config"),
    ("GET", "https://api.github.com/repos/github/copilot-cli/releases", "update-check"),
    ("GET", "https://models.opencode.ai/api.json", "update-check"),
    ("POST", "https://data.cline.bot/flags/?v=2", "config"),
    ("POST", "https://otel.cline.bot/v1/logs", "telemetry"),
    ("GET", "https://pypi.org/pypi/aider-chat/json", "update-check"),
    (
        "GET",
        "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
        "update-check",
    ),
    ("POST", "https://us.i.posthog.com/batch/", "telemetry"),
    ("POST", "https://us.i.posthog.com/flags/?v=2", "config"),
    ("POST", "https://statsig.anthropic.com/v1/initialize", "config"),
    ("POST", "https://statsig.anthropic.com/v1/rgstr", "telemetry"),
    ("POST", "https://auth.openai.com/oauth/token", "oauth"),
    ("GET", "https://nothing-known.example/", "unknown"),
]


@pytest.mark.parametrize(("method", "url", "kind"), MEASURED)
def test_each_measured_call_has_its_kind(method, url, kind):
    exchange = from_entry(side(method, url, {} if method == "POST" else None), 1, 1)
    assert kind_of(exchange, host_of(exchange))[0] == kind


def test_claude_codes_event_batch_is_decoded_into_its_event_names():
    batch = {"events": [
        {"event_type": "ClaudeCodeInternalEvent", "event_data": {"event_name": "tengu_init", "session_id": "s"}},
        {"event_type": "ClaudeCodeInternalEvent", "event_data": {"event_name": "tengu_exit"}},
        {"event_type": "ClaudeCodeInternalEvent", "event_data": {"no_name": 1}},
        {"event_type": "ClaudeCodeInternalEvent", "event_data": "not an object"},
    ]}  # fmt: skip
    exchange = from_entry(side("POST", "https://api.anthropic.com/api/event_logging/v2/batch", batch), 1, 1)
    kind, events_format = kind_of(exchange, host_of(exchange))
    assert (kind, events_format) == ("telemetry", "claude-code")
    assert decode(exchange, events_format).names == ["tengu_init", "tengu_exit"]


def test_the_forward_proxys_name_is_the_one_the_capture_records_under():
    assert FORWARD_PROXY == ALL_HOSTS
