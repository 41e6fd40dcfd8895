"""--agent-telemetry that the run cannot honour says so on the console, in one line, before the run starts; and
--agent-telemetry with --no-agent-telemetry is refused in one line, not decided by whichever came last."""

import pytest

from probe.capture.account.telemetry import plan_telemetry
from probe.capture.options import add_capture_arguments, parse_capture_arguments
from probe.common import cli
from probe.common.errors import UsageError
from probe.runs.targets import load_target


def test_asked_for_an_agent_that_keeps_none_says_why_on_the_console(capsys):
    planned = plan_telemetry(load_target("pi"), True, True, "private", environ={})
    assert planned.state == "none"
    assert capsys.readouterr().err == (
        "agent telemetry: not recorded in this run: pi 0.73.1 exports no telemetry of its own (its only "
        "OpenTelemetry code is a bundled SDK's, unused)\n"
    )
    plan_telemetry(load_target("claude-code"), True, False, "private", environ={})  # --command: no agent of its own
    assert capsys.readouterr().err.startswith("agent telemetry: not recorded in this run: the run has no agent")
    plan_telemetry(load_target("pi"), None, True, "private", environ={})  # not asked for: the report says it
    assert capsys.readouterr().err == ""


def capture_arguments(argv: list[str]):
    parser = cli.ArgumentParser(prog="python -m probe.record capture")
    add_capture_arguments(parser)
    return parse_capture_arguments(parser, argv)


@pytest.mark.parametrize("flags", [["--agent-telemetry", "--no-agent-telemetry"],
                                   ["--no-agent-telemetry", "--agent-telemetry"]])  # fmt: skip
def test_both_ways_at_once_is_refused_in_one_line(flags):
    with pytest.raises(UsageError, match=f"{flags[0]} and {flags[1]} ask for opposite things: give one of them"):
        capture_arguments(["--target", "pi", "--upstream", "mock", *flags])
    assert capture_arguments(["--target", "pi", "--upstream", "mock", flags[0], flags[0]]).agent_telemetry is not None
