"""A newcomer's first run says what it would cost: `invoke pipeline --upstream mock` for codex and Claude Code ends
with a dollar figure in report.md, costed with the mock's price file (probe/analyse/mock_prices.yaml, copied from
genai-prices 0.2.3) and named there, equal to genai-prices' own price of the usage the capture holds wherever the
installed genai-prices knows the model. And against any local test server, not only the bundled mock, the agent
gets the target's stand-in key."""

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest
from conftest import PROJECT_ROOT, read_traffic
from price_oracle import counts_as_sent, lines, price_file, spends, turn_cost

from probe.capture.environment import target_environment
from probe.redact.secrets import fingerprint
from probe.runs.targets import load_target

pytestmark = pytest.mark.e2e
PROMPT = "write a hello world function"
COST = re.compile(r"^- Cost: \$([0-9,.]+) for (\d+) turns?;", re.MULTILINE)
MOCK_KEY = "sk-" + "ant-mock-not-a-real-key"  # what claude-code's mock_env gives it
MOCK_PRICES = PROJECT_ROOT / "probe/analyse/mock_prices.yaml"


def pipeline(data_dir: Path, program: str, target: str, upstream: str, env: dict | None = None) -> Path:
    env = dict(env or os.environ, PROBE_DATA_DIR=str(data_dir))
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    argv = [sys.executable, "-m", "invoke", "pipeline", "--target", target, "--upstream", upstream]
    result = subprocess.run(
        [*argv, "--prompt", PROMPT, "--timeout", "120"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (data_dir / target).iterdir()
    return run


def known(model: str, provider: str) -> bool:
    try:
        genai_prices.calc_price(genai_prices.Usage(input_tokens=1), model, provider_id=provider)
    except LookupError:
        return False
    return True


def oracle_cost(run: Path) -> tuple[Decimal, int]:
    """The run's cost worked out here from each turn's usage as the API sent it: by genai-prices where it knows
    the model (then the mock's price file must agree with it), else by the mock's price file."""
    prices = price_file(MOCK_PRICES)
    total, priced = Decimal(0), 0
    for turn in lines(run / "turns.jsonl"):
        if not spends(turn):
            continue
        from_file = turn_cost(turn, prices)
        if known(turn["model"], turn["provider"]):
            every, read, write, _long, output = counts_as_sent(turn["api"], turn["usage"]["raw"])
            usage = genai_prices.Usage(
                input_tokens=every, cache_read_tokens=read, cache_write_tokens=write, output_tokens=output
            )
            database = genai_prices.calc_price(usage, turn["model"], provider_id=turn["provider"]).total_price
            assert from_file is None or from_file == database, (turn["model"], from_file, database)
            from_file = database
        total += from_file
        priced += 1
    return total, priced


@pytest.mark.parametrize("target", ["codex", "claude-code"])
def test_the_first_mock_run_ends_with_what_it_would_cost(target, tmp_path, codex_program, claude_program):
    run = pipeline(tmp_path, codex_program if target == "codex" else claude_program, target, "mock")
    report = (run / "report.md").read_text()
    found = COST.search(report)
    assert found, report[:3000]
    expected, priced = oracle_cost(run)
    assert priced >= 2 and int(found.group(2)) == priced
    assert Decimal(found.group(1).replace(",", "")) == expected.quantize(Decimal("0.0001")) > 0
    # The report names the price file it was costed with.
    assert re.search(r"prices `mock_prices\.yaml \(sha256 [0-9a-f]{12}\)", report), found.group(0)
    # Made anew (--force), and made anew from a copy that came without this machine's ledger of what it made (a
    # run folder from elsewhere): a run recorded against the mock keeps the mock's prices.
    for forget in (False, True):
        if forget:
            (run / ".made-here.json").unlink()
        env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path))
        env.pop("PROBE_PRICES", None)
        again = subprocess.run(
            [sys.executable, "-m", "invoke", "analyze", "--run", str(run), "--force"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr[-2000:]
        remade = COST.search((run / "report.md").read_text())
        assert remade and remade.group(0) == found.group(0), (forget, remade)


def test_a_local_test_server_gets_the_stand_in_key(tmp_path, claude_program):
    """A plain local server (the mock started on its own): Claude Code, given no key, gets the stand-in key and
    finishes, rather than failing for want of one."""
    server = subprocess.Popen([sys.executable, "-m", "probe.mock", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split("mock listening on ", 1)[1].strip().rstrip("/")
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
        run = pipeline(tmp_path, claude_program, "claude-code", url, env)
    finally:
        server.terminate()
        server.wait(timeout=10)
    posts = [entry for entry in read_traffic(run) if entry["request"]["method"] == "POST"]
    assert posts and all(entry["complete"] for entry in posts)
    headers = {name.lower(): value for name, value in posts[0]["request"]["headers"]}
    assert headers["x-api-key"] == fingerprint(MOCK_KEY)
    assert "Here is my answer to" in (run / "report.md").read_text()


def test_a_local_gateway_keeps_the_users_own_key():
    target = load_target("claude-code")
    values = {"agent_home": "/h", "run": "/r", "prompt": "p", "proxy.api": "http://127.0.0.1:1"}
    mine = target_environment(target, values, False, False, True, {"ANTHROPIC_API_KEY": "users-own"})
    assert "ANTHROPIC_API_KEY" not in mine
    keyless = target_environment(target, values, False, False, True, {})
    assert keyless["ANTHROPIC_API_KEY"] == MOCK_KEY
    # A remote upstream gets none of it; the mock, all of it.
    assert "ANTHROPIC_API_KEY" not in target_environment(target, values, False, False, False, {})
    mocked = target_environment(target, values, True, False, False, {"ANTHROPIC_API_KEY": "users-own"})
    assert mocked["ANTHROPIC_API_KEY"] == MOCK_KEY
