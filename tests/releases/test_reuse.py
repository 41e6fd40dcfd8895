"""Make-style: which earlier run of a version in a scenario is reused, and which is made again."""

import json

import pytest

from probe.releases import job, runs
from probe.releases.scenarios import Scenario, load
from probe.runs.release_runs import COMPLETE, FAILED, NOT_OFFERED, rows_from_json, rows_json
from probe.runs.targets import load_target

ANSWER = Scenario("answer", "answer in words only: say hello")


def run_folder(data_dir, name: str, **fields) -> object:
    """A codex run folder under `data_dir` whose manifest is a release run's, with `fields` laid over it."""
    manifest = {
        "target": "codex",
        "label": name.split("-", 2)[-1],
        "prompt": ANSWER.prompt,
        "upstream_override": "mock",
        "agent": {"requested_version": "0.169.0"},
        "all_hosts": False,
        "scenario": "answer",
        "status": "complete",
        "agent_exit_code": 0,
    } | fields
    run = data_dir / "codex" / name
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


class Making(runs.Player):
    """A player that says what it would make instead of starting the pipeline."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.made: list[tuple[str, str]] = []

    def install(self, version):
        return None

    def make(self, version, scenario):
        self.made.append((version, scenario.name))
        return runs.ReleaseRun("codex", version, scenario.name, COMPLETE, None, None, True)


def player(**options) -> Making:
    return Making(load_target("codex"), "codex", 60.0, **options)


def test_a_complete_run_is_reused_the_newest_first(private_data_dir):
    run_folder(private_data_dir, "20261128-100000-v0.169.0-answer")
    newest = run_folder(private_data_dir, "20261128-110000-v0.169.0-answer")
    playing = player()
    row = playing.play("0.169.0", ANSWER)
    assert row == runs.ReleaseRun("codex", "0.169.0", "answer", COMPLETE, newest, None, False)
    assert playing.made == []
    remaking = player(remake=True)
    assert remaking.play("0.169.0", ANSWER).made and remaking.made == [("0.169.0", "answer")]


def test_a_run_that_failed_is_reused_as_the_failure_it_was(private_data_dir):
    failed = run_folder(private_data_dir, "20261128-100000-v0.169.0-answer", status="agent-failed", agent_exit_code=3)
    playing = player()
    row = playing.play("0.169.0", ANSWER)
    assert (row.outcome, row.run, row.why, row.made) == (FAILED, failed, "agent-failed, agent exit code 3", False)
    assert playing.made == []


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "interrupted", "agent_exit_code": 130},  # stopped, or past its timeout
        {"status": "running"},  # being recorded, or killed with its watchdog
        {"prompt": "answer in words only: say goodbye"},  # another prompt
        {"agent": {"requested_version": "0.166.0"}},  # another version
        {"agent": {"requested_version": None}},  # the agent on PATH
        {"scenario": "tool"},
        {"all_hosts": True},  # other options
        {"upstream_override": None},  # against the real API
    ],
)
def test_a_run_that_does_not_show_the_same_thing_ended_is_not_reused(private_data_dir, fields):
    run_folder(private_data_dir, "20261128-100000-v0.169.0-answer", **fields)
    playing = player()
    assert playing.play("0.169.0", ANSWER).made and playing.made == [("0.169.0", "answer")]


def test_a_telemetry_run_is_reused_only_with_the_telemetry_on(private_data_dir):
    telemetry = next(scenario for scenario in load() if scenario.name == "telemetry")
    fields = {"scenario": "telemetry", "prompt": telemetry.prompt}
    run_folder(private_data_dir, "20261128-100000-v0.169.0-telemetry", **fields)
    playing = player()
    playing.play("0.169.0", telemetry)
    assert playing.made == [("0.169.0", "telemetry")]
    on = run_folder(
        private_data_dir, "20261128-110000-v0.169.0-telemetry", **fields, account={"telemetry": {"state": "on"}}
    )
    assert player().play("0.169.0", telemetry).run == on


def test_a_scenario_a_target_cannot_play_is_not_offered(private_data_dir):
    telemetry = next(scenario for scenario in load() if scenario.name == "telemetry")
    playing = runs.Player(load_target("pi"), "pi", 60.0)
    row = playing.play("0.73.1", telemetry)
    assert (row.outcome, row.run) == (NOT_OFFERED, None)
    assert (
        row.why == "pi 0.73.1 exports no telemetry of its own (its only OpenTelemetry code is a bundled SDK's, unused)"
    )
    assert playing.installs == {}  # nothing was installed for it


def test_the_rows_go_to_the_changelog_with_the_scenario_it_compares_by(private_data_dir, monkeypatch, capsys):
    """Every version × scenario is a row, in order, handed to the changelog writer before the exit code says
    whether any failed; here every run exists, so nothing is installed or made."""
    tool = next(scenario for scenario in load() if scenario.name == "tool")
    for version, minute in (("0.169.0", 10), ("0.171.0", 20)):
        run_folder(private_data_dir, f"20261128-10{minute}00-v{version}-answer", agent={"requested_version": version})
        fields = {"scenario": "tool", "prompt": tool.prompt, "agent": {"requested_version": version}}
        if version == "0.171.0":
            fields |= {"status": "agent-failed", "agent_exit_code": 1, "note": "the agent exited with 1"}
        run_folder(private_data_dir, f"20261128-10{minute + 1}00-v{version}-tool", **fields)
    listing = ["0.168.0", "0.169.0", "0.170.0-alpha.1", "0.171.0", "0.171.0-linux-x64"]
    monkeypatch.setattr(job.versions, "listed_versions", lambda install: listing)
    handed = []
    monkeypatch.setattr(job.outputs, "write", lambda *given: handed.append(given))
    out = private_data_dir.parent / "pages"
    assert job.main(["--target", "codex", "--since", "0.169.0", "--scenario", "answer,tool", "--output", str(out)]) == 1
    [(script, rows, where, options)] = handed
    assert (script, where, options) == ("probe.write.releases_page", out, ["--compares", "tool"])
    assert rows_from_json(rows_json(rows)) == rows  # what the writer's script reads back
    assert [(row.version, row.scenario, row.outcome, row.made, row.run.name) for row in rows] == [
        ("0.169.0", "answer", COMPLETE, False, "20261128-101000-v0.169.0-answer"),
        ("0.169.0", "tool", COMPLETE, False, "20261128-101100-v0.169.0-tool"),
        ("0.171.0", "answer", COMPLETE, False, "20261128-102000-v0.171.0-answer"),
        ("0.171.0", "tool", FAILED, False, "20261128-102100-v0.171.0-tool"),
    ]
    assert rows[3].why == "agent-failed, agent exit code 1: the agent exited with 1"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "codex: 2 version(s) (0.169.0, 0.171.0) × 2 scenario(s)"
    assert printed[4].startswith("codex 0.171.0 tool: failed, reused (agent-failed, agent exit code 1: the agent ")
    assert printed[-1] == "1 of 4 failed: codex 0.171.0 tool"
