"""Target files are validated strictly, with errors that name the file and the place."""

import importlib
import json
import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from probe.common.errors import TargetError
from probe.common.paths import targets_dir
from probe.runs.auto_approve import with_approvals
from probe.runs.importer import import_renderer
from probe.runs.targets import describe, fill_placeholders, known_targets, load_target, parse_target

VALID = """
name: demo
description: a demo agent
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [demo, --base, "{proxy.api}", "{prompt}"]
"""


def test_codex_target_declares_its_proxies_and_its_pinned_package():
    target = load_target("codex")
    assert [(proxy.name, proxy.upstream) for proxy in target.proxies] == [
        ("model", "https://api.openai.com/"),
        ("backend", "https://chatgpt.com/"),
        ("chatgpt", "https://chatgpt.com/"),
    ]
    assert 'openai_base_url="{proxy.model}/v1"' in target.command
    assert 'chatgpt_base_url="{proxy.backend}/backend-api/"' in target.command
    # The interactive UI is redirected the same way, with nothing else changed.
    assert target.interactive == ("codex", *target.command[5:9])
    # A prompt run's sandbox is read-only even in a folder its config trusts.
    assert target.command[1:5] == ("exec", "--skip-git-repo-check", "--sandbox", "read-only")
    # The mock's stand-in login lives in the mock's home, never in the real API's private one (a folder in it).
    assert target.private_env == {"CODEX_HOME": "{agent_home}/codex"}
    assert target.mock_env == {"CODEX_HOME": "{agent_home}"}
    assert target.real_api_home == "own"
    assert json.loads(target.files["auth.json"]) == {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-mock-not-a-real-key"}
    assert not any(name.startswith("codex/") and name.endswith("auth.json") for name in target.files)
    assert target.files["config.toml"] == target.files["codex/config.toml"]
    assert '[projects."{workdir}"]\ntrust_level = "trusted"' in target.files["config.toml"]
    assert target.install.npm == "@openai/codex" and target.install.version == "0.169.0"
    assert target.renderer == "probe.apis.openai_responses.report"


def test_claude_code_target_runs_claude_print_mode_against_one_proxy():
    target = load_target("claude-code")
    assert [(proxy.name, proxy.upstream) for proxy in target.proxies] == [("api", "https://api.anthropic.com/")]
    assert target.command[:3] == ("claude", "-p", "{prompt}")
    options = dict(zip(target.command[3::2], target.command[4::2]))
    assert options == {"--output-format": "text", "--max-turns": "8", "--permission-mode": "dontAsk"}
    assert target.env == {"ANTHROPIC_BASE_URL": "{proxy.api}"}
    assert target.private_env == {"CLAUDE_CONFIG_DIR": "{run}/claude-config"}
    assert target.interactive == ("claude",)
    state = json.loads(target.files["{run}/claude-config/.claude.json"])
    assert state["hasCompletedOnboarding"] is True
    assert state["customApiKeyResponses"]["approved"] == [target.mock_env["ANTHROPIC_API_KEY"][-20:]]
    assert state["projects"] == {"{workdir}": {"hasTrustDialogAccepted": True}}
    assert target.quiet_env == {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    assert target.install.npm == "@anthropic-ai/claude-code" and target.install.version == "2.1.332"
    assert target.renderer == "probe.apis.anthropic_messages.report"


# The targets these tests describe; targets/ may hold more, in any order of names.
BUNDLED = {
    "aider", "claude-code", "cline", "codex", "continue", "copilot", "gemini", "openai-compatible", "opencode", "pi",
    "qwen-code", "smolagents", "mistral-vibe", "kimi-cli", "grok-cli", "openhands", "kilo", "mini-swe-agent",
}  # fmt: skip
# A target whose file sorts before every bundled one (as aider.yaml does before claude-code.yaml).
FIRST = """
name: aardvark
description: an agent listed first
renderer: probe.apis.openai_chat.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.openai.com/"}
agent:
  command: [aardvark, --message, "{prompt}", --yes-always]
  auto_approve: {arguments: [--yes-always]}
  install: {pypi: aardvark-chat, version: "0.86.2", binary: aardvark}
"""


@pytest.fixture(params=["bundled", "one more first"])
def any_targets(request, tmp_path, monkeypatch):
    """targets/ as it is, and a copy with one more target whose name sorts first: the tests that list targets
    hold for any set of target files."""
    if request.param == "one more first":
        folder = tmp_path / "targets"
        shutil.copytree(targets_dir(), folder)
        (folder / "aardvark.yaml").write_text(FIRST)
        monkeypatch.setenv("PROBE_TARGETS_DIR", str(folder))
    return request.param


def test_targets_script_lists_every_target_with_renderer_and_proxies(any_targets):
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "targets"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    blocks = {block.split(":", 1)[0]: block for block in result.stdout.split("\n\n")}
    assert blocks["claude-code"].startswith(
        "claude-code: Anthropic Claude Code CLI speaking the Messages API over HTTP/SSE\n"
        "  renderer: probe.apis.anthropic_messages.report\n"
        "  proxy api: 127.0.0.1:18090 -> https://api.anthropic.com/"
    )
    assert blocks["codex"].startswith("codex: OpenAI codex CLI")
    names = [line.split(":", 1)[0] for line in result.stdout.splitlines() if line and not line.startswith(" ")]
    assert names == list(blocks) == known_targets() and set(names) >= BUNDLED
    if any_targets == "one more first":
        assert names[0] == "aardvark" and blocks["aardvark"] == (
            "aardvark: an agent listed first\n  renderer: probe.apis.openai_chat.report\n"
            "  proxy api: 127.0.0.1:any free port -> https://api.openai.com/\n"
            "  agent: aardvark (pypi aardvark-chat@0.86.2); a prompt run runs its tools without asking (--yes-always)\n"
            "  holds: other hosts (--all-hosts); replay\n"
            "  not offered: your own home's login (--home own); its own telemetry (--agent-telemetry); "
            "hooks (--hooks); MCP servers (--mcp-server); its own UI (a run without --prompt)"
        )
    assert "openai-compatible: any OpenAI Chat Completions client" in result.stdout
    assert "  agent: none: give the client to record with --command" in result.stdout
    assert (
        "  renderer: probe.apis.gemini.report\n  proxy api: 127.0.0.1:18120 -> https://generativelanguage.googleapis.com/"
        in (result.stdout)
    )
    assert "  renderer: probe.apis.openai_chat.report\n" in result.stdout
    assert "  proxy backend: 127.0.0.1:18081 -> https://chatgpt.com/" in result.stdout
    assert "  agent: claude (npm @anthropic-ai/claude-code@2.1.332)" in result.stdout


def test_targets_script_names_a_broken_file_and_lists_the_rest(tmp_path, monkeypatch):
    (tmp_path / "good.yaml").write_text(VALID.replace("name: demo", "name: good"))
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    monkeypatch.setenv("PROBE_TARGETS_DIR", str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "probe.runs.targets"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0].startswith("bad: not usable: ") and "invalid YAML" in result.stdout
    assert (
        "good: a demo agent\n  renderer: probe.apis.generic.report\n  proxy api: 127.0.0.1:any free port"
        in result.stdout
    )


def test_valid_target_parses():
    target = parse_target(VALID, "targets/demo.yaml")
    assert target.proxies[0].listen == 0 and target.command[2] == "{proxy.api}"


@pytest.mark.parametrize(
    "change, message",
    [
        (("listen: 0", "listen: eighty"), "targets/x.yaml: proxies[0].listen: expected an integer"),
        (("listen: 0", "listen: 0, colour: red"), "targets/x.yaml: proxies[0].colour: unknown key"),
        (("renderer: probe.apis.generic.report", "renderer: [a]"), "targets/x.yaml: renderer: expected a string"),
        (("description: a demo agent\n", ""), "targets/x.yaml: description: missing"),
        (("{proxy.api}", "{proxy.nope}"), "targets/x.yaml: agent.command[2]: {proxy.nope} names no proxy"),
        (
            ("https://api.example.com/", "ftp://x"),
            "targets/x.yaml: proxies[0].upstream: expected http(s)://host[:port]",
        ),
        (
            ("https://api.example.com/", "https://u:p@api.example.com/"),
            "targets/x.yaml: proxies[0].upstream: expected http",
        ),
        (("name: demo", "name: demo\nextra: 1"), "targets/x.yaml: extra: unknown key"),
        (
            ('"{prompt}"]', '"{prompt}"]\n  env: {BASE: "{proxy.other}"}'),
            "targets/x.yaml: agent.env.BASE: {proxy.other} names no proxy",
        ),
        (
            ('"{prompt}"]', '"{prompt}"]\n  quiet_env: {QUIET: 1}'),
            "targets/x.yaml: agent.quiet_env: expected a string mapping",
        ),
        (
            ('"{prompt}"]', '"{prompt}"]\n  interactive_unset: [CI]'),
            "targets/x.yaml: agent.interactive_unset: goes with agent.interactive",
        ),
        (
            ('"{prompt}"]', '"{prompt}"]\n  interactive: [demo]\n  interactive_unset: ["C I"]'),
            "targets/x.yaml: agent.interactive_unset: 'C I': expected a variable name",
        ),
    ],
)
def test_invalid_targets_are_rejected_with_location(change, message):
    with pytest.raises(TargetError) as error:
        parse_target(VALID.replace(*change), "targets/x.yaml")
    assert str(error.value).startswith(message)


def test_malformed_yaml_names_the_line():
    with pytest.raises(TargetError, match=r"targets/x.yaml: line \d+: invalid YAML"):
        parse_target("name: [unclosed\nproxies: {", "targets/x.yaml")


def test_unknown_target_lists_known_ones():
    with pytest.raises(TargetError, match=r'unknown target "nope" \(known targets: .*codex'):
        load_target("nope")


def test_missing_target_file():
    with pytest.raises(TargetError, match="no such target file"):
        load_target("/nonexistent/x.yaml")


def test_placeholders_fill_only_known_names():
    values = {"prompt": "hi {there}", "proxy.api": "http://127.0.0.1:1"}
    assert fill_placeholders("{proxy.api}/v1 {prompt} {other}", values) == "http://127.0.0.1:1/v1 hi {there} {other}"


@pytest.mark.parametrize(
    "reference, message",
    [
        ("probe.apis.nonexistent", 'no module named "probe.apis.nonexistent"'),
        ("probe.apis.generic.report:missing", 'has no attribute "missing"'),
        (
            "probe.common.markdown",
            "is not a renderer (missing read_request, read_response, render_request, render_response)",
        ),
        ("probe.apis.generic.report:", 'expected "package.module"'),
    ],
)
def test_renderer_import_errors_are_distinct(reference, message):
    with pytest.raises(TargetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_renderer(reference)


def test_renderer_by_module_and_by_attribute():
    import probe.apis.openai_responses.report as module

    assert import_renderer("probe.apis.openai_responses.report") is module
    assert import_renderer("probe.apis.openai_responses:report") is module


@pytest.mark.parametrize("api", ["openai_responses", "anthropic_messages", "openai_chat", "gemini", "generic"])
def test_a_renderer_named_by_its_former_path_is_the_same_module(api):
    """Target files and manifests written before the stage layout name probe.renderers.<api>: a fixed table
    maps each to where it lives now, so they keep working."""
    assert import_renderer(f"probe.renderers.{api}") is importlib.import_module(f"probe.apis.{api}.report")


def test_a_target_without_a_command_records_only_clients_given_with_command():
    target = parse_target(
        VALID.replace('  command: [demo, --base, "{proxy.api}", "{prompt}"]\n', "  env: {A: b}\n"), "t.yaml"
    )
    assert target.command == ()
    with pytest.raises(TargetError, match=r"agent\.install: there is no agent\.command to install a program for"):
        parse_target(VALID.replace('  command: [demo, --base, "{proxy.api}", "{prompt}"]',
                                   "  install: {npm: demo, version: 1.0.0, binary: demo}"), "t.yaml")  # fmt: skip


def test_the_agents_that_run_their_tools_without_asking_say_so_and_how_to_turn_approvals_on(any_targets):
    """The agents that run their tools without asking in a prompt run say so in their files: some with an argument
    that the file names (gemini-cli and Qwen Code --yolo, Copilot --allow-all-tools, aider --yes-always, Mistral Vibe
    --auto-approve, mini-SWE-agent --yolo), others by default or always (opencode's and Kilo's `run`, Cline, pi,
    smolagents, Kimi CLI's, Grok CLI's, OpenHands' headless and Continue's print modes: most have no approvals to
    turn on); Claude Code (dontAsk) and codex (its read-only sandbox) refuse what needs approval, and the client-only
    target runs no agent of its own."""
    declared = {name: load_target(name).auto_approve for name in known_targets()}
    auto = {name for name, auto in declared.items() if auto is not None}
    assert auto & BUNDLED == {
        "gemini",
        "qwen-code",
        "opencode",
        "copilot",
        "pi",
        "continue",
        "cline",
        "aider",
        "smolagents",
        "mistral-vibe",
        "kimi-cli",
        "grok-cli",
        "openhands",
        "kilo",
        "mini-swe-agent",
    }
    arguments = (
        ("gemini", "--yolo"),
        ("qwen-code", "--yolo"),
        ("copilot", "--allow-all-tools"),
        ("aider", "--yes-always"),
        ("mistral-vibe", "--auto-approve"),
        ("mini-swe-agent", "--yolo"),
    )
    for name, argument in arguments:
        target = load_target(name)
        assert target.auto_approve.arguments == (argument,) and argument in target.command
        on = with_approvals(target)
        assert on.command == tuple(given for given in target.command if given != argument)
        assert on.env == target.env and on.auto_approve is None
    opencode = load_target("opencode")
    assert opencode.auto_approve.arguments == () and with_approvals(opencode).command == opencode.command
    assert with_approvals(opencode).env == {**opencode.env, "OPENCODE_PERMISSION": '{"*": "ask"}'}
    cline = load_target("cline")  # its approvals are turned on by a settings file of their own
    asking = "{agent_home}/.cline/approvals-on/global-settings.json"
    assert with_approvals(cline).env == {**cline.env, "CLINE_GLOBAL_SETTINGS_PATH": asking}
    assert json.loads(cline.files[".cline/approvals-on/global-settings.json"])["toolAutoApprove"] is False
    assert with_approvals(load_target("codex")) == load_target("codex")
    for name in ("pi", "continue"):
        auto = load_target(name).auto_approve
        assert auto.arguments == () and auto.approvals_env == {}
    assert "  agent: qwen (npm @qwen-code/qwen-code@0.24.4); a prompt run runs its tools without asking (--yolo)" in (
        describe(load_target("qwen-code"))
    )


# Who asks before a tool runs, by target: in a prompt run (its agent.command, as the target runs it) and in its own
# interactive UI. From the targets' pinned agents: Continue's UI asks before Bash though print mode does not; aider,
# Copilot, gemini-cli and Qwen Code ask in their UI unless given the prompt run's flag; Cline, pi and opencode run
# their tools in their UI as in a prompt run. Claude Code and codex ask (or refuse) in both: they claim nothing.
ASKS = {
    "aider": (False, True), "cline": (False, False), "continue": (False, True), "copilot": (False, True),
    "gemini": (False, True), "opencode": (False, False), "pi": (False, False), "qwen-code": (False, True),
    "claude-code": (None, None), "codex": (None, None),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ASKS))
def test_invoke_targets_says_who_asks_before_a_tool_in_a_prompt_run_and_in_the_ui(name):
    prompt_asks, ui_asks = ASKS[name]
    lines = describe(load_target(name))
    [agent] = [line for line in lines if line.startswith("  agent: ")]
    [ui] = [line for line in lines if line.startswith("  interactive session: ")]
    assert agent.endswith(")") and ("runs its tools without asking" in agent) == (prompt_asks is False)
    if ui_asks is None:
        assert "ask" not in ui
    else:
        assert ui.endswith("; its UI asks first" if ui_asks else "; its UI runs its tools without asking too")


AUTO = VALID + "  auto_approve: {arguments: [--base], approvals_env: {ASK: 'yes, {proxy.api}'}}\n"


def test_auto_approve_is_parsed():
    target = parse_target(AUTO, "targets/x.yaml")
    assert target.auto_approve.arguments == ("--base",) and target.auto_approve.approvals_env == {
        "ASK": "yes, {proxy.api}"
    }
    assert with_approvals(target).command == ("demo", "{proxy.api}", "{prompt}")


@pytest.mark.parametrize(
    "change, message",
    [
        (("[--base]", "[--yolo]"), "agent.auto_approve.arguments[0]: '--yolo' is not an argument of agent.command"),
        (("[--base]", "[demo]"), "agent.auto_approve.arguments[0]: 'demo' is not an argument of agent.command"),
        (("[--base]", "--base"), "agent.auto_approve.arguments: expected a list of strings"),
        (("approvals_env: {ASK", "approvals_env: {'A-B'"), "agent.auto_approve.approvals_env: 'A-B': expected a"),
        (("{proxy.api}'}", "{proxy.nope}'}"), "agent.auto_approve.approvals_env.ASK: {proxy.nope} names no proxy"),
        (("'yes, {proxy.api}'", '"a\\0b"'), "agent.auto_approve.approvals_env.ASK: cannot hold a NUL"),
        (("arguments: [--base]", "yolo: true"), "agent.auto_approve.yolo: unknown key"),
        (("auto_approve: {", "auto_approve: [{"), "agent.auto_approve: expected a mapping"),
        (('command: [demo, --base, "{proxy.api}", "{prompt}"]', "env: {}"), "agent.auto_approve: there is no agent"),
    ],
)
def test_a_bad_auto_approve_is_rejected_with_its_location(change, message):
    text = AUTO.replace(*change)
    if change[1].startswith("auto_approve: [{"):
        text = text.rstrip("\n") + "]\n"
    with pytest.raises(TargetError) as error:
        parse_target(text, "targets/x.yaml")
    assert str(error.value).startswith(f"targets/x.yaml: {message}")
