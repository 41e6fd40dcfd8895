"""The bundled targets' subscription logins: what each lays over its agent, and stand-in credentials that the agent
takes for a login of that kind (codex's JWT claims, Qwen Code's credential fields) without reaching a real host."""

import base64
import json

from probe.runs.logins import choose_login
from probe.runs.targets import load_target


def claims(jwt: str) -> dict:
    """A JWT's payload, as codex reads it: the middle part, base64url without padding; no part may be empty."""
    header, payload, signature = jwt.split(".")
    assert header and payload and signature
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_codex_lists_its_api_key_login_first_and_its_chatgpt_login_on_a_proxy_of_its_own():
    target = load_target("codex")
    assert [login.name for login in target.logins] == ["api-key", "chatgpt"]
    assert choose_login(target, None).login.name == "api-key"
    chatgpt = choose_login(target, "chatgpt")
    assert chatgpt.login.proxies == ("chatgpt",)
    # Given after the agent's own -c options, the login's win: the model's base on the chatgpt proxy, the ChatGPT
    # backend's from a variable that is chatgpt.com against the real API and the backend proxy against the mock.
    assert chatgpt.command[-5:] == (
        "{prompt}",
        "-c",
        'openai_base_url="{proxy.chatgpt}/backend-api/codex"',
        "-c",
        'chatgpt_base_url="{env.PROBE_CHATGPT_BASE_URL}"',
    )
    assert chatgpt.interactive[-4:] == chatgpt.command[-4:]
    assert chatgpt.env["PROBE_CHATGPT_BASE_URL"] == "https://chatgpt.com/backend-api/"
    assert chatgpt.mock_env == {"CODEX_HOME": "{agent_home}", "PROBE_CHATGPT_BASE_URL": "{proxy.backend}/backend-api/"}
    # The stand-in ChatGPT login, written over the agent's API-key one only against the mock.
    assert json.loads(chatgpt.files["auth.json"])["auth_mode"] == "apikey"
    auth = json.loads(chatgpt.mock_files["auth.json"])
    assert auth["auth_mode"] == "chatgpt" and auth["OPENAI_API_KEY"] is None
    tokens = auth["tokens"]
    identity = claims(tokens["id_token"])["https://api.openai.com/auth"]
    assert identity["chatgpt_account_id"] == tokens["account_id"] == "acct-mock-not-a-real-account"
    assert identity["chatgpt_plan_type"] == "plus"
    # codex refreshes when the access token's own exp is near: both expire in 2100.
    assert claims(tokens["access_token"])["exp"] == claims(tokens["id_token"])["exp"] == 4102444800
    assert "mock-not-a-real" in tokens["refresh_token"]


def test_claude_code_s_oauth_login_sends_a_stand_in_token_with_no_key_beside_it():
    target = load_target("claude-code")
    assert [login.name for login in target.logins] == ["api-key", "oauth"]
    api_key = choose_login(target, "api-key")
    assert api_key.mock_env == {"ANTHROPIC_API_KEY": "sk-ant-mock-not-a-real-key"}
    oauth = choose_login(target, "oauth")
    assert oauth.login.proxies == ("api",)
    # An empty ANTHROPIC_API_KEY: Claude Code sends a key before an OAuth token.
    assert oauth.env["ANTHROPIC_API_KEY"] == ""
    assert oauth.mock_env == {"ANTHROPIC_API_KEY": "", "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-mock-not-a-real-token"}
    assert oauth.command == api_key.command  # the same -p run, signed in another way


def test_qwen_code_s_oauth_login_names_the_portal_proxy_in_its_credentials():
    target = load_target("qwen-code")
    assert [login.name for login in target.logins] == ["api-key", "qwen-oauth"]
    assert [proxy.upstream for proxy in target.proxies] == ["https://api.openai.com/", "https://portal.qwen.ai/"]
    oauth = choose_login(target, "qwen-oauth")
    assert oauth.login.proxies == ("portal",)
    credentials = json.loads(oauth.files[".qwen/oauth_creds.json"])
    # The fields Qwen Code 0.24.4 requires, the endpoint it derives from resource_url, and an expiry ahead.
    assert credentials == {
        "access_token": "{env.QWEN_OAUTH_ACCESS_TOKEN}",
        "refresh_token": "none-agent-probe-never-refreshes",
        "token_type": "Bearer",
        "resource_url": "{proxy.portal}",
        "expiry_date": 4102444800000,
    }
    assert oauth.mock_env["QWEN_OAUTH_ACCESS_TOKEN"] == "mock-qwen-oauth-not-a-real-token"
    settings = json.loads(oauth.files[".qwen/settings.json"])
    assert settings["security"] == {"auth": {"selectedType": "qwen-oauth", "useExternal": True}}
    # The rest of the agent's settings is kept: no statistics, no memory extraction.
    agent_settings = json.loads(target.files[".qwen/settings.json"])
    assert {key: settings[key] for key in agent_settings} == agent_settings
