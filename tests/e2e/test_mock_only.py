"""A run against the mock reaches nothing but the mock, whatever the home and the login: every target's pinned agent,
with each of its logins, in a private home and in the user's own (a fake HOME holding fake logins, with every XDG
folder inside it), behind an upstream proxy that records and refuses everything, which gets no request. A login that
only a private home can point at the mock is refused with `--home own` before anything starts. The own home keeps
every file it had, byte for byte (gemini-cli's and Qwen Code's a chat of another session too, which no run reads: their
agents send no session id, so with the own home no transcript is kept); a private home leaves the user's HOME and XDG
folders as they were; and every model the agents ask the mock for is priced by the mock's own price file."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, SHARED_CACHE
from refusing_proxy import RefusingProxy

from probe.capture import agents
from probe.runs.targets import load_target

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PROMPT = "write a hello world function"
MOCK_PRICES = yaml.safe_load((PROJECT_ROOT / "probe/analyse/mock_prices.yaml").read_text())["models"]
XDG = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}
AGENT_PROBE_OWN = (".cache/agent-probe/", ".local/state/agent-probe/")
# A fake login of each kind, as the agent's own sign-in would have saved it (files) or the user exported it (env).
CLAUDE_OAUTH = {
    "claudeAiOauth": {
        "accessToken": "sk-ant-oat01-fake-own-login",
        "refreshToken": "sk-ant-ort01-fake",
        "expiresAt": 4102444800000,
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
    }
}
CODEX_CHATGPT = load_target("codex").logins[1].mock_files["auth.json"]


def gemini_settings(kind: str) -> str:
    return json.dumps({"security": {"auth": {"selectedType": kind}}})


# A chat of another session the user's own home already holds, in each agent's place for them: no run reads it.
OTHER_CHAT = "a-chat-of-another-session-no-run-reads"
GEMINI_CHAT = {
    ".gemini/tmp/0a0a0a0a/chats/session-2026-01-01T00-00-0a0a0a0a.jsonl": json.dumps(
        {"type": "user", "content": [{"text": OTHER_CHAT}]}
    )
}


# (target, login) -> (the own home's files, the user's variables, the agent's own flags); None: refused with own.
OWN_HOMES = {
    ("claude-code", "api-key"): ({}, {"ANTHROPIC_API_KEY": "sk-ant-api03-fake-own-key"}, ()),
    ("claude-code", "oauth"): ({".claude/.credentials.json": json.dumps(CLAUDE_OAUTH)}, {}, ()),
    ("codex", "api-key"): (
        {".codex/auth.json": json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-fake-own"})},
        {},
        (),
    ),
    ("codex", "chatgpt"): ({".codex/auth.json": CODEX_CHATGPT}, {}, ()),
    ("gemini", "api-key"): (
        {".gemini/settings.json": gemini_settings("gemini-api-key"), **GEMINI_CHAT},
        {"GEMINI_API_KEY": "AIzaFakeOwnKeyNotARealOne-000000000000"},
        ("--skip-trust",),
    ),
    # A Google login's access token, as gemini-cli takes it from the environment: from its credentials file it would
    # first check it at oauth2.googleapis.com, which is refused.
    ("gemini", "google"): (
        {".gemini/settings.json": gemini_settings("oauth-personal"), **GEMINI_CHAT},
        {"GOOGLE_GENAI_USE_GCA": "true", "GOOGLE_CLOUD_ACCESS_TOKEN": "ya29.FakeOwnGoogleToken"},
        ("--skip-trust",),
    ),
    ("gemini", "vertex"): (
        {".gemini/settings.json": gemini_settings("vertex-ai"), **GEMINI_CHAT},
        {"GOOGLE_API_KEY": "AIzaFakeOwnVertexKeyNotARealOne-0000000"},
        ("--skip-trust",),
    ),
    ("qwen-code", "api-key"): (
        {".qwen/projects/-home-user-elsewhere/chats/0a0a0a0a.jsonl": json.dumps({"message": OTHER_CHAT})},
        {"OPENAI_API_KEY": "sk-fake-own-key", "OPENAI_MODEL": "gpt-4.1"},
        (),
    ),
    ("qwen-code", "qwen-oauth"): None,
    ("opencode", None): ({}, {"OPENAI_API_KEY": "sk-fake-own-key"}, ()),
    ("kilo", None): ({}, {"OPENAI_API_KEY": "sk-fake-own-key"}, ()),
    ("copilot", None): ({}, {"COPILOT_PROVIDER_API_KEY": "sk-fake-own-key", "COPILOT_MODEL": "gpt-4.1"}, ()),
    ("aider", None): ({}, {"OPENAI_API_KEY": "sk-fake-own-key"}, ()),
    ("smolagents", None): ({}, {"OPENAI_API_KEY": "sk-fake-own-key"}, ()),
    # Its key in its own settings file, as its key prompt saves it (0.0.34's settings version, which it keeps as is).
    ("grok-cli", None): (
        {".grok/user-settings.json": json.dumps({"apiKey": "xai-fake-own-key", "settingsVersion": 2})},
        {},
        (),
    ),
    # mini's own settings file, as `mini-extra config setup` writes it: its model and key (the mock's key is used).
    ("mini-swe-agent", None): (
        {".config/mini-swe-agent/.env": "MSWEA_MODEL_NAME='openai/gpt-5-mini'\nOPENAI_API_KEY='sk-fake-own-key'\n"},
        {},
        (),
    ),
    ("pi", None): None,
    ("kimi-cli", None): ({}, {"KIMI_API_KEY": "sk-fake-own-key", "KIMI_MODEL_NAME": "kimi-k2.7-code"}, ()),
    ("openhands", None): ({}, {"LLM_API_KEY": "sk-fake-own-key", "LLM_MODEL": "openai/gpt-4.1"}, ()),
    ("cline", None): None,
    ("continue", None): None,
    ("mistral-vibe", None): ({}, {"MISTRAL_API_KEY": "fake-own-mistral-key"}, ()),
}


def every_target_and_login() -> list[tuple[str, str | None]]:
    """Each login of each bundled target with an agent of its own (None: a target without logins)."""
    found = []
    for path in sorted((PROJECT_ROOT / "targets").glob("*.yaml")):
        target = load_target(path.stem)
        if target.command:
            found += [(target.name, login.name) for login in target.logins] or [(target.name, None)]
    return found


def test_every_target_and_login_is_tried_here():
    assert sorted(every_target_and_login(), key=str) == sorted(OWN_HOMES, key=str)


def hashes(home: Path) -> dict[str, str]:
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def fake_home(folder: Path, files: dict[str, str]) -> Path:
    """A fake user's home holding `files` (fake logins) and agent-probe's compiled secret rules, copied there so
    that the run does not compile them again."""
    home = folder / "home"
    for name, text in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text)
    shutil.copytree(Path(SHARED_CACHE["XDG_CACHE_HOME"]) / "agent-probe", home / ".cache/agent-probe")
    return home


def pipeline(target: str, login: str | None, home: str, user_home: Path, proxy: RefusingProxy, variables, flags):
    """`pipeline --upstream mock --home HOME` with a fake user's home (every XDG folder in it) and every proxy
    variable at the refusing proxy: the finished process and its run folder (None if it made none)."""
    program = str(agents.ensure_installed(load_target(target)))
    environ = {name: value for name, value in os.environ.items() if not name.startswith(("XDG_", "ANTHROPIC_"))}
    environ |= {name: str(user_home / place) for name, place in XDG.items()}
    environ |= {"HOME": str(user_home), "PROBE_DATA_DIR": str(user_home.parent / "data"), **variables}
    environ["PATH"] = f"{Path(program).parent}{os.pathsep}{environ['PATH']}"
    ports = [option for each in load_target(target).proxies for option in ("--port", f"{each.name}=0")]
    argv = ["--target", target, "--upstream", "mock", "--home", home, *(("--login", login) if login else ()), *ports]
    argv += ["--workdir", "fresh", "--prompt", PROMPT, "--timeout", "120", *(("--", *flags) if flags else ())]
    result = subprocess.run([sys.executable, "-m", "probe.pipeline", *argv], cwd=PROJECT_ROOT,
                            env=proxy.environment(environ), capture_output=True, text=True, timeout=300)  # fmt: skip
    made = sorted((user_home.parent / "data" / target).glob("*"))
    return result, (made[0] if made else None)


def one_worker_per_case(case: tuple[str, str | None]):
    """Each case's runs are made once, by the worker its tests are grouped on (under xdist a module fixture is the
    worker's own)."""
    name = "-".join(filter(None, case))
    return pytest.param(case, id=name, marks=pytest.mark.xdist_group(f"mock-only-{name}"))


@pytest.fixture(scope="module", params=[one_worker_per_case(case) for case in OWN_HOMES])
def runs(request, tmp_path_factory):
    """Both homes' runs of one target and login against the mock, each behind a refusing proxy of its own: home ->
    (the process, the run folder, what the proxy was asked, the home's files before, and after)."""
    target, login = request.param
    made = {}
    for home in ("private", "own"):
        files, variables, flags = (OWN_HOMES[request.param] or ({}, {}, ())) if home == "own" else ({}, {}, ())
        user_home = fake_home(tmp_path_factory.mktemp(f"{target}-{home}"), files)
        before, proxy = hashes(user_home), RefusingProxy()
        try:
            result, run = pipeline(target, login, home, user_home, proxy, variables, flags)
        finally:
            proxy.close()
        made[home] = (result, run, proxy.seen, before, hashes(user_home))
    return target, login, made


def test_no_request_leaves_the_machine_in_either_home(runs):
    target, login, made = runs
    for home, (result, run, seen, _, _) in made.items():
        assert seen == [], (home, seen)
        if home == "own" and OWN_HOMES[(target, login)] is None:
            # Refused in one line before anything starts: no run folder, no agent.
            assert result.returncode == 2 and run is None, result.stderr
            assert result.stderr.count("\n") == 1 and "give --home private" in result.stderr
            continue
        assert result.returncode == 0, (home, result.stderr[-3000:])
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["status"] == "complete" and manifest["home"] == home
        # The mock found the prompt the user typed, whatever the agent wrapped around it (a date, reminders, context;
        # `opencode run` itself sends its words in quotes; smolagents' answer is its final_answer tool's JSON argument).
        report = (run / "report.md").read_text()
        finish = load_target(target).mock_finish_command
        if finish:  # an agent that must call a tool every turn ends on the mock's finishing command, with no words
            assert PROMPT in report and f'"command": "{finish}"' in report
        else:
            said = [f'"{PROMPT}"', f'""{PROMPT}""', f'\\"{PROMPT}\\"']
            assert any(f"Here is my answer to {quoted}" in report for quoted in said)


def test_the_own_home_keeps_every_file_it_had_and_a_private_home_writes_nothing_there(runs):
    _, _, made = runs
    _, _, _, before, after = made["own"]
    assert {name: after.get(name) for name in before} == before
    # A private home covers HOME and every XDG folder: the user's are left as they were, but for agent-probe's own
    # files (its cache of secret rules, its state: the key that signs runs, mitmproxy's certificate authority).
    _, _, _, before, after = made["private"]
    assert users(after) == users(before)


def test_the_own_homes_transcript_is_read_only_where_the_wire_names_the_runs_session(runs):
    """A target whose agent sends no session id (gemini-cli, Qwen Code) keeps no transcript with the user's own home,
    and says why; the others keep the run's own. No other chat of the home reaches the run folder."""
    target, _, made = runs
    _, run, _, _, _ = made["own"]
    if run is None:  # refused before anything started (test_no_request_leaves_the_machine_in_either_home)
        return
    spec = load_target(target).transcript
    account = json.loads((run / "manifest.json").read_text())["account"]["transcript"]
    if spec is not None and spec.own:
        assert account["state"] == "kept" and account["records"] > 0
    else:
        why = spec.why if spec else f"target {target} declares no agent.transcript"
        assert account["state"] == "none" and account["why"].startswith(why) and "\n" not in account["why"]
        assert not (run / "transcript.jsonl").exists()
    if target in ("gemini", "qwen-code"):
        assert "no session id on the wire" in account["why"] and "none is read with your own home" in account["why"]
    for path in run.rglob("*"):
        assert not path.is_file() or OTHER_CHAT.encode() not in path.read_bytes(), path


def users(hashes: dict[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in hashes.items() if not name.startswith(AGENT_PROBE_OWN)}


def test_every_model_asked_of_the_mock_is_priced_by_the_mock_price_file(runs):
    _, _, made = runs
    for home, (_, run, _, _, _) in made.items():
        if run is None:
            continue
        models = {json.loads(line).get("model") for line in (run / "turns.jsonl").read_text().splitlines()}
        assert models - {None} and not models - {None} - set(MOCK_PRICES), (home, models)
        assert "cost unknown" not in (run / "report.md").read_text()
