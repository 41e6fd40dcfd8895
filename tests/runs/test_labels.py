"""The labels a run is credited to (probe.runs.labels): recorded into the manifest when the run is recorded (the
importer's, said so, for an imported run), from the environment or the config file; a label that is not one is a
one-line error before any folder is made, and a manifest's labels that are not labels are not read as any."""

import json

import pytest

from probe.capture.session import open_run
from probe.common.errors import UsageError
from probe.import_capture import import_file
from probe.runs.labels import config_file, fingerprint, recorded_labels
from probe.runs.targets import load_target
from probe.store.identity import version_parts

VARIABLES = ("PROBE_MACHINE", "PROBE_USER", "PROBE_TEAM", "PROBE_PROJECT", "PROBE_REPOSITORY")


@pytest.fixture(autouse=True)
def no_labels(tmp_path, monkeypatch):
    """A config folder of the test's own, and none of the labels' variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_a_recording_writes_its_labels_into_its_manifest_from_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_MACHINE", "laptop-a")
    monkeypatch.setenv("PROBE_TEAM", "core")
    config_file().parent.mkdir(parents=True)
    config_file().write_text('[lake]\nuser = "ana"\nproject = "probe"\nmachine = "from-file"\n')
    recording = open_run(load_target("tests/data/itest.yaml"), tmp_path / "run", "", None, None, None)
    written = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert written["status"] == "running" and written["labels"] == {
        "machine": "laptop-a", "user": "ana", "team": "core", "project": "probe", "repository": None,
        "whose": "recorder",
    }  # fmt: skip
    assert recorded_labels(written) == (
        {"machine": "laptop-a", "user": "ana", "team": "core", "project": "probe", "repository": None},
        "recorder",
    )
    recording.finish("complete", 0)
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["labels"]["machine"] == "laptop-a"


def test_without_settings_the_machine_and_user_are_fingerprints(tmp_path):
    open_run(load_target("tests/data/itest.yaml"), tmp_path / "run", "", None, None, None)
    labels = json.loads((tmp_path / "run" / "manifest.json").read_text())["labels"]
    assert labels["machine"].startswith("host-") and labels["user"].startswith("user-")
    assert len(labels["machine"]) == len(fingerprint("host", "x")) and labels["team"] is None


def test_an_imported_run_is_credited_to_its_importer_and_says_so(tmp_path, private_data_dir, monkeypatch):
    from conftest import PROJECT_ROOT

    from probe.analysis import export

    sample = sorted(PROJECT_ROOT.glob("data/*/*-sample-*"))[0]
    export.main(["--run", str(sample), "--output", str(tmp_path / "x.har")])
    monkeypatch.setenv("PROBE_MACHINE", "importer-box")
    monkeypatch.setenv("PROBE_USER", "bo")
    run = import_file(tmp_path / "x.har", "claude-code", "")
    labels = json.loads((run / "manifest.json").read_text())["labels"]
    assert (labels["machine"], labels["user"], labels["whose"]) == ("importer-box", "bo", "importer")
    assert recorded_labels({"labels": labels})[1] == "importer"


@pytest.mark.parametrize("variable", VARIABLES)
def test_a_label_that_is_not_one_is_one_line_before_any_folder_is_made(variable, private_data_dir, monkeypatch):
    monkeypatch.setenv(variable, "my laptop")
    with pytest.raises(UsageError) as raised:
        open_run(load_target("tests/data/itest.yaml"), None, "", None, None, None)
    assert str(raised.value) == (
        f"{variable} 'my laptop': a label is 1 to 64 letters, digits and . _ @ - (from {variable} or the config file)"
    )
    assert not list(private_data_dir.rglob("*"))


@pytest.mark.parametrize(
    "field",
    [None, "laptop", {"machine": "m1"}, {"machine": "m1", "user": "a b"}, {"machine": ["m1"], "user": "ana"},
     {"machine": "m1\n", "user": "ana"}],
)  # fmt: skip
def test_a_manifest_without_usable_labels_is_credited_to_no_one_of_its_own(field):
    assert recorded_labels({"labels": field}) is None


def test_a_manifests_odd_team_is_left_out_and_the_rest_kept():
    found = recorded_labels({"labels": {"machine": "m1", "user": "ana", "team": "x\x1b[31m", "whose": "me"}})
    assert found == ({"machine": "m1", "user": "ana", "team": None, "project": None, "repository": None}, "recorder")


@pytest.mark.parametrize(
    "version, parts",
    [("2.1.330 (Claude Code)", [2, 1, 330]), ("codex-cli 0.169.0", [0, 169, 0]), ("v1.2.3-beta.1", [1, 2, 3]),
     ("qwen3 0.4.1", [0, 4, 1]), ("nightly", None), ("12", None), (None, None), ("1.99999999999", [1])],
)  # fmt: skip
def test_a_version_is_read_as_numbers_that_compare(version, parts):
    assert version_parts(version) == parts
    assert version_parts("2.1.330") > version_parts("2.1.99")
