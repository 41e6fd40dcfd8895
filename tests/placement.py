"""A pytest plugin: which test runs where. A test that starts a real agent is marked `e2e`, whether its module says
so or a fixture it uses starts the agent, so that the older Python's session can leave it out (docs/development.md,
"Where each test runs"); with PROBE_NO_AGENTS set, a test that would start one unmarked fails saying so."""

import os

import pytest

# The fixtures that start a real agent, or hand one to the test to start.
AGENT_FIXTURES = frozenset(
    {
        "codex_program",
        "older_codex_program",
        "claude_program",
        "opencode_program",
        "kilo_program",
        "qwen_program",
        "gemini_program",
        "copilot_program",
        "continue_program",
        "pi_program",
        "vibe_program",
        "kimi_program",
        "grok_program",
        "openhands_program",
        "fresh_runs",
        "subagent_runs",
        # Module fixtures that install or look up a real agent themselves.
        "recorded_agents",  # tests/replay/test_bundled_samples.py: every sample's agent, at its recorded version
        "llm_program",  # tests/capture/test_pypi_agents.py: llm from PyPI
        "first_runs",  # tests/replay/test_first_run.py: three agents, asked for by name (getfixturevalue)
    }
)


def pytest_collection_modifyitems(config, items):
    """Marks `e2e` every test that reaches an agent fixture, directly or through another fixture: the fixture
    closure is what pytest will set up, so no test that starts an agent this way can be left unmarked."""
    for item in items:
        if AGENT_FIXTURES.intersection(item.fixturenames) and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """In a session that leaves out the `e2e` tests (PROBE_NO_AGENTS), an agent installed or looked up through the
    project's installer while an unmarked test (or a fixture it set up) runs fails that test at once, naming the
    mark it lacks, instead of running the agent unnoticed."""
    if not os.environ.get("PROBE_NO_AGENTS") or item.get_closest_marker("e2e") is not None:
        return (yield)
    from probe.capture import agents

    def refuse(target, version=None):
        pytest.fail(
            f"{item.nodeid} starts a real agent ({target.name}) but is not marked e2e, which this session leaves "
            "out (PROBE_NO_AGENTS): mark it so (docs/development.md, 'Where each test runs')"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agents, "ensure_installed", refuse)
        return (yield)
