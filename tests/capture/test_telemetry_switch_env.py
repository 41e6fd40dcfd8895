"""--agent-telemetry's variables reach the agent whatever else the target sets: a quiet_env that switches the same
telemetry off (Continue CLI's CONTINUE_METRICS_ENABLED=0) or a private or mock variable of the same name never
undoes the switch."""

import pytest
from conftest import PROJECT_ROOT

from probe.capture.account.telemetry import plan_telemetry
from probe.capture.environment import target_environment
from probe.runs.targets import fill_placeholders, load_target

SWITCHED = sorted(
    path.stem for path in (PROJECT_ROOT / "targets").glob("*.yaml")
    if (target := load_target(str(path))).telemetry is not None and target.telemetry.env
)  # fmt: skip
VALUES = {"proxy.api": "http://127.0.0.1:1", "agent_home": "/h", "run": "/r", "workdir": "/w", "prompt": "p",
          "telemetry": "http://127.0.0.1:2"}  # fmt: skip


def test_the_bundled_targets_with_a_switch_are_all_checked():
    assert {"claude-code", "gemini", "qwen-code", "copilot", "opencode", "continue"} <= set(SWITCHED)


@pytest.mark.parametrize("name", SWITCHED)
@pytest.mark.parametrize("home", ["private", "own"])
def test_every_variable_of_the_switch_reaches_the_agent(name, home):
    target = load_target(name)
    planned = plan_telemetry(target, wanted=True, agent=True, home=home, environ={})
    assert planned.state == "on"
    env = target_environment(planned.switched_on(target), VALUES, mock=True, full_traffic=False, home=home,
                             environ={})  # fmt: skip
    wanted = {key: fill_placeholders(value, VALUES) for key, value in target.telemetry.env.items()}
    assert {key: env.get(key) for key in wanted} == wanted


def test_the_switch_takes_what_it_sets_out_of_the_later_groups_only():
    target = load_target("continue")
    assert target.quiet_env["CONTINUE_METRICS_ENABLED"] == "0"  # what the switch must win over
    switched = plan_telemetry(target, True, True, "private", environ={}).switched_on(target)
    assert "CONTINUE_METRICS_ENABLED" not in switched.quiet_env
    assert switched.env["CONTINUE_METRICS_ENABLED"] == "1" and switched.private_env == target.private_env
    off = plan_telemetry(target, False, True, "private", environ={})
    assert off.switched_on(target) is target  # switched off: the quiet variable stays
