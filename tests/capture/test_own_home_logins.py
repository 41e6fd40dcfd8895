"""With the user's own home, a login the agent keeps in a file is looked for where the pinned agent keeps it (the
places below were read in each package and, for Claude Code, measured with `claude auth status`), in a fake home:
a run whose login is not there stops in one line naming what to set, exit 2, before any run folder, proxy or
agent; the file is only looked at (there, a regular file, not empty), never read or changed."""

import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, SHARED_CACHE

from probe.capture.environment import with_login
from probe.common.errors import UsageError
from probe.runs.targets import load_target

# (target, login, the file in the home, [(variable that moves it, the file under the folder it names)]).
KEPT = [
    ("claude-code", "oauth", ".claude/.credentials.json",
     [("CLAUDE_SECURESTORAGE_CONFIG_DIR", ".credentials.json"), ("CLAUDE_CONFIG_DIR", ".credentials.json")]),
    ("gemini", "google", ".gemini/oauth_creds.json", [("GEMINI_CLI_HOME", ".gemini/oauth_creds.json")]),
    ("qwen-code", "qwen-oauth", ".qwen/oauth_creds.json", [("QWEN_HOME", "oauth_creds.json")]),
    ("codex", "api-key", ".codex/auth.json", [("CODEX_HOME", "auth.json")]),
    ("codex", "chatgpt", ".codex/auth.json", [("CODEX_HOME", "auth.json")]),
    ("opencode", None, ".local/share/opencode/auth.json", [("XDG_DATA_HOME", "opencode/auth.json")]),
    ("kilo", None, ".local/share/kilo/auth.json", [("XDG_DATA_HOME", "kilo/auth.json")]),
    ("pi", None, ".pi/agent/auth.json", [("PI_CODING_AGENT_DIR", "auth.json")]),
    ("openhands", None, ".openhands/agent_settings.json", [("OPENHANDS_PERSISTENCE_DIR", "agent_settings.json")]),
    ("mini-swe-agent", None, ".config/mini-swe-agent/.env",
     [("MSWEA_GLOBAL_CONFIG_DIR", ".env"), ("XDG_CONFIG_HOME", "mini-swe-agent/.env")]),
    ("cline", None, ".cline/data/settings/providers.json",
     [("CLINE_PROVIDER_SETTINGS_PATH", ""), ("CLINE_DATA_DIR", "settings/providers.json"),
      ("CLINE_DIR", "data/settings/providers.json")]),
    ("mistral-vibe", None, ".vibe/.env", [("VIBE_HOME", ".env")]),
    ("grok-cli", None, ".grok/user-settings.json", []),  # os.homedir()'s: no variable moves it
]  # fmt: skip
# Every variable that satisfies one of these logins without a file: unset, so that only the file can.
INSTEAD = [
    "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "GOOGLE_CLOUD_ACCESS_TOKEN", "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_APPLICATION_CREDENTIALS", "GEMINI_FORCE_ENCRYPTED_FILE_STORAGE", "QWEN_OAUTH_ACCESS_TOKEN",
    "CODEX_API_KEY", "OPENAI_API_KEY", "COPILOT_PROVIDER_API_KEY", "COPILOT_PROVIDER_BEARER_TOKEN",
    "COPILOT_PROVIDER_API_KEY_COMMAND", "MISTRAL_API_KEY",
    "COPILOT_PROVIDER_API_KEY_COMMAND", "GROK_API_KEY",
    "COPILOT_PROVIDER_API_KEY_COMMAND", "LLM_API_KEY",
]  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home of the test's own, with no variable that signs in or moves a login's file."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in INSTEAD + [variable for *_, moves in KEPT for variable, _ in moves]:
        monkeypatch.delenv(name, raising=False)
    return home


def own_home_run(name: str, login: str | None):
    """The login checked as a prompt run with the user's own home against the real API does it."""
    return with_login(load_target(name), login, True, "command", "own", False, False, None)


def refusal(name: str, login: str | None) -> str:
    with pytest.raises(UsageError) as refused:
        own_home_run(name, login)
    [line] = str(refused.value).splitlines()
    return line


def put(path, text='{"signed": "in"}'):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(("name", "login", "kept", "moves"), KEPT, ids=[f"{n}-{lg or 'agent'}" for n, lg, *_ in KEPT])
def test_a_login_file_is_looked_for_where_the_agent_keeps_it(home, tmp_path, monkeypatch, name, login, kept, moves):
    who = f"{name} --login {login}" if login else name
    line = refusal(name, login)
    assert line.startswith(f"{who} needs ") and f"~/{kept}" in line
    for variable, _ in moves:
        assert f"${variable}" in line
    # Empty, or a folder: no login. A link to a file that holds one: the agents read through it.
    put(home / kept, "")
    assert refusal(name, login) == line
    (home / kept).unlink()
    (home / kept).mkdir()
    assert refusal(name, login) == line
    (home / kept).rmdir()
    (home / kept).symlink_to(home / "nowhere.json")
    assert refusal(name, login) == line
    creds = put(tmp_path / "elsewhere.json")
    (home / kept).unlink()
    (home / kept).symlink_to(creds)
    own_home_run(name, login)
    assert creds.read_text() == '{"signed": "in"}' and (home / kept).is_symlink()  # looked at, not changed
    # A variable that moves it: the agent no longer looks in the home, but in the folder the variable names.
    for variable, under in moves:
        moved = tmp_path / variable.lower()
        monkeypatch.setenv(variable, str(moved))
        assert refusal(name, login) == line
        put(moved / under if under else moved)
        own_home_run(name, login)
        monkeypatch.delenv(variable)


def test_a_file_at_the_home_is_no_login_once_a_variable_moves_it_elsewhere(home, tmp_path, monkeypatch):
    put(home / ".claude/.credentials.json")
    own_home_run("claude-code", "oauth")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "config"))
    assert "$CLAUDE_CONFIG_DIR/.credentials.json" in refusal("claude-code", "oauth")
    # Claude Code's secure storage folder comes before its config folder; an empty variable is an unset one.
    put(tmp_path / "secure/.credentials.json")
    monkeypatch.setenv("CLAUDE_SECURESTORAGE_CONFIG_DIR", str(tmp_path / "secure"))
    own_home_run("claude-code", "oauth")
    monkeypatch.setenv("CLAUDE_SECURESTORAGE_CONFIG_DIR", "")
    refusal("claude-code", "oauth")


@pytest.mark.parametrize(
    ("name", "login", "variables", "enough"),
    [
        ("claude-code", "oauth", {"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-users-own"}, True),
        # gemini-cli takes the token of the environment only with GOOGLE_GENAI_USE_GCA, which only a private home sets.
        ("gemini", "google", {"GOOGLE_CLOUD_ACCESS_TOKEN": "ya29.users-own"}, False),
        ("gemini", "google", {"GOOGLE_CLOUD_ACCESS_TOKEN": "ya29.users-own", "GOOGLE_GENAI_USE_GCA": "true"}, True),
        ("gemini", "google", {"GOOGLE_APPLICATION_CREDENTIALS": "/some/adc.json"}, True),
        ("gemini", "google", {"GEMINI_FORCE_ENCRYPTED_FILE_STORAGE": "true"}, True),
        ("codex", "api-key", {"CODEX_API_KEY": "sk-users-own"}, True),
        ("opencode", None, {"OPENAI_API_KEY": "sk-users-own"}, True),
        ("kilo", None, {"OPENAI_API_KEY": "sk-users-own"}, True),
        # Copilot with a provider named sends the provider only the provider's key, from its environment; its own
        # GitHub login never goes there, so an own home holds nothing for it.
        ("copilot", None, {}, False),
        ("copilot", None, {"GITHUB_TOKEN": "ghp_users-own"}, False),
        ("copilot", None, {"COPILOT_PROVIDER_BEARER_TOKEN": "users-own"}, True),
        ("copilot", None, {"COPILOT_PROVIDER_API_KEY_COMMAND": "pass show openai"}, True),
        ("grok-cli", None, {"GROK_API_KEY": "xai-users-own"}, True),
        ("grok-cli", None, {"XAI_API_KEY": "xai-users-own"}, False),  # not a variable Grok CLI 0.0.34 reads
    ],
)
def test_what_the_environment_gives_instead_of_a_file(home, monkeypatch, name, login, variables, enough):
    put(home / ".copilot/config.json")  # a GitHub sign-in's folder
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    if enough:
        own_home_run(name, login)
    else:
        refusal(name, login)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--target", "claude-code", "--login", "oauth"], "~/.claude/.credentials.json"),
        (["--target", "gemini", "--login", "google"], "~/.gemini/oauth_creds.json"),
        (["--target", "qwen-code", "--login", "qwen-oauth"], "~/.qwen/oauth_creds.json"),
        (["--target", "codex"], "~/.codex/auth.json or $CODEX_HOME/auth.json"),
        (["--target", "copilot"], "COPILOT_PROVIDER_API_KEY set in your environment"),
    ],
)
def test_the_pipeline_with_the_own_home_stops_in_one_line_and_starts_nothing(tmp_path, options, named):
    home = tmp_path / "home"
    home.mkdir()
    moving = [variable for *_, moves in KEPT for variable, _ in moves]
    environ = {key: value for key, value in os.environ.items() if key not in INSTEAD + moving}
    # Where a run would leave anything: its folder, agent-probe's state (mitmproxy's certificates), the agent's data.
    environ.update(HOME=str(home), PROBE_DATA_DIR=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"))
    environ.update(SHARED_CACHE, XDG_DATA_HOME=str(tmp_path / "share"))
    command = [sys.executable, "-m", "probe.pipeline", *options, "--home", "own", "--prompt", "hi"]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=environ)
    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {options[1]} ") and named in line and "Traceback" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home"] and not any(home.iterdir())


def test_on_macos_claude_codes_login_is_in_the_keychain_and_not_looked_for(home, monkeypatch):
    assert "keychain" not in refusal("claude-code", "oauth")
    monkeypatch.setattr(sys, "platform", "darwin")
    own_home_run("claude-code", "oauth")
