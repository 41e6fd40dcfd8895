"""gemini-cli with the user's own home (`--home own`): a prepared home holding its settings (the API-key login), a
memory file, its trusted folders, a stand-in Google login and the state of a finished first run, and the key in the
environment. The agent reaches the mock through its base URL alone; nothing of the home is edited."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import read_traffic

from probe.capture.forward import LOOPBACK
from probe.capture.refusal import EVERY_PROXY_VARIABLE
from probe.redact.secrets import fingerprint

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function"
MEMORY = "Always mention the owl named Quillfeather-4471 when you answer."
OWN_KEY = "AIza" + "OwnKeyOfTheUserNotARealOne-0000000000"
# New files that may appear in the home, and why; every file that was there before must be byte for byte the same.
WRITTEN_BY_THEM = (
    # gemini-cli's own record of the folders it has worked in, and its chat log and project marker for this one.
    ".gemini/projects.json",
    ".gemini/history/",
    ".gemini/tmp/",
    # agent-probe's own cache of compiled secret rules ($XDG_CACHE_HOME/agent-probe, the user's as for any run).
    ".cache/agent-probe/",
    # mitmdump's certificate authority, made at its first start in any home (the reverse proxies do not use it).
    ".mitmproxy/",
)


def hashes(home: Path) -> dict[str, str]:
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def without_refusal(env: dict[str, str]) -> dict[str, str]:
    """The agent's variables but those a run against the mock points at its refusing listener (one URL on loopback)."""
    refusing = {env[name] for name in EVERY_PROXY_VARIABLE}
    assert len(refusing) == 1 and refusing.pop().startswith("http://127.0.0.1:")
    assert env["NO_PROXY"] == env["no_proxy"] == LOOPBACK
    return {name: value for name, value in env.items() if name not in {*EVERY_PROXY_VARIABLE, "NO_PROXY", "no_proxy"}}


def prepared_home(home: Path, project: Path, login: str = "gemini-api-key") -> None:
    gemini = home / ".gemini"
    gemini.mkdir(parents=True)
    settings = {
        "security": {"auth": {"selectedType": login}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "ui": {"theme": "GitHub"},
    }
    (gemini / "settings.json").write_text(json.dumps(settings, indent=2))
    (gemini / "GEMINI.md").write_text(MEMORY + "\n")
    (gemini / "trustedFolders.json").write_text(json.dumps({str(project): "TRUST_FOLDER"}))
    (gemini / "state.json").write_text(json.dumps({"tipsShown": 3}))
    # A Google login the settings do not choose: it must be neither read into the capture nor changed.
    (gemini / "oauth_creds.json").write_text(json.dumps({"access_token": "ya29.stand-in", "refresh_token": "1//x"}))


def test_the_users_own_home_is_used_and_left_as_it_was(tmp_path, gemini_program):
    home, project, data = tmp_path / "home", tmp_path / "project", tmp_path / "data"
    project.mkdir()
    prepared_home(home, project.resolve())
    before = hashes(home)
    env = dict(os.environ, HOME=str(home), PROBE_DATA_DIR=str(data), GEMINI_API_KEY=OWN_KEY)
    env["PATH"] = f"{Path(gemini_program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "gemini", "--upstream", "mock", "--port", "api=0",
         "--home", "own", "--workdir", ".", "--prompt", PROMPT, "--timeout", "120"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    after = hashes(home)
    assert {name: after.get(name) for name in before} == before
    new = sorted(set(after) - set(before))
    assert [name for name in new if not name.startswith(WRITTEN_BY_THEM)] == []
    assert any(name.startswith(".gemini/tmp/") for name in new)  # the agent did run in this home

    [run] = (data / "gemini").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["home"] == "own" and manifest["session"] == "prompt"
    # Only the base URLs and the run folder's trust are set (through gemini's variable, never its settings), and
    # every proxy variable at the run's refusing listener: no HOME, no stand-in key.
    proxies = {proxy["name"]: proxy["url"] for proxy in manifest["proxies"]}
    assert without_refusal(manifest["agent"]["env"]) == {
        "GOOGLE_GEMINI_BASE_URL": proxies["api"],
        "CODE_ASSIST_ENDPOINT": proxies["codeassist"],
        "GOOGLE_VERTEX_BASE_URL": proxies["vertex"],
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    assert manifest["agent"]["cwd"] == str(project.resolve())
    entries = read_traffic(run)
    [task, *_] = [entry for entry in entries if "streamGenerateContent" in entry["request"]["path"]]
    assert MEMORY in json.dumps(task["request"]["body"])  # the user's memory file, as the agent sent it
    headers = {name.lower(): value for name, value in task["request"]["headers"]}
    assert headers["x-goog-api-key"] == fingerprint(OWN_KEY)
    assert MEMORY in (run / "report.md").read_text()
    for path in run.rglob("*"):
        if path.is_file():
            assert OWN_KEY.encode() not in path.read_bytes(), f"the user's key reached {path}"


# The user's Google access token, given as gemini-cli takes one from the environment (GOOGLE_GENAI_USE_GCA with
# GOOGLE_CLOUD_ACCESS_TOKEN): its credentials file would be checked at oauth2.googleapis.com first, which no test
# reaches offline.
OWN_TOKEN = "ya29." + "OwnGoogleTokenOfTheUserNotARealOne0000"


def test_the_users_own_google_login_is_sent_through_the_code_assist_proxy(tmp_path, gemini_program):
    home, project, data = tmp_path / "home", tmp_path / "project", tmp_path / "data"
    project.mkdir()
    prepared_home(home, project.resolve(), login="oauth-personal")
    before = hashes(home)
    env = dict(os.environ, HOME=str(home), PROBE_DATA_DIR=str(data))
    env |= {"GOOGLE_GENAI_USE_GCA": "true", "GOOGLE_CLOUD_ACCESS_TOKEN": OWN_TOKEN}
    env.pop("GEMINI_API_KEY", None)
    env["PATH"] = f"{Path(gemini_program).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "probe.pipeline", "--target", "gemini", "--upstream", "mock", "--home", "own",
         "--login", "google", "--workdir", ".", "--prompt", PROMPT, "--timeout", "120"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    after = hashes(home)
    assert {name: after.get(name) for name in before} == before
    assert [name for name in sorted(set(after) - set(before)) if not name.startswith(WRITTEN_BY_THEM)] == []

    [run] = (data / "gemini").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["home"] == "own" and manifest["login"] == "google"
    # The login's private settings and stand-in token are left out with the user's own home: only the base URLs and
    # the run folder's trust.
    base_urls = ["CODE_ASSIST_ENDPOINT", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL"]
    assert sorted(without_refusal(manifest["agent"]["env"])) == sorted([*base_urls, "GEMINI_CLI_TRUST_WORKSPACE"])
    entries = read_traffic(run)
    assert {entry["proxy"] for entry in entries} == {"codeassist"}  # nothing went to the Gemini API's proxy
    paths = [entry["request"]["path"].split("?")[0] for entry in entries]
    assert paths[:2] == ["/v1internal:loadCodeAssist", "/v1internal:onboardUser"]
    assert paths.count("/v1internal:streamGenerateContent") == 2  # the tool call, then the answer to its result
    [task, *_] = [entry for entry in entries if "streamGenerateContent" in entry["request"]["path"]]
    assert MEMORY in json.dumps(task["request"]["body"]["request"])
    headers = {name.lower(): value for name, value in task["request"]["headers"]}
    assert headers["authorization"] == fingerprint("Bearer " + OWN_TOKEN)
    report = (run / "report.md").read_text()
    assert "- Unrecognised: 0 kinds" in report and "(account set-up: the user's tier and Cloud project)" in report
    for path in run.rglob("*"):
        if path.is_file():
            assert OWN_TOKEN.encode() not in path.read_bytes(), f"the user's token reached {path}"
