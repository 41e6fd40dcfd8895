"""Run folders: names, privacy, `latest`, and the manifest written atomically."""

import json
import stat

import pytest

from probe.common.errors import RunError
from probe.runs import folders
from probe.runs.folders import create_run, resolve_run, sanitise_label, write_manifest


def test_labels_cannot_escape_the_data_folder(tmp_path):
    run = create_run("codex", "../../x", tmp_path)
    assert run.parent == tmp_path / "codex" and run.name.endswith("-x")
    assert sanitise_label("a b/c") == "a-b-c"


def test_run_folders_are_private_and_never_reused(tmp_path, monkeypatch):
    # Both in one second, as two runs started together are (two calls may otherwise straddle a second's turn).
    monkeypatch.setattr(folders.time, "strftime", lambda pattern: "20261128-120000")
    first, second = create_run("codex", "same", tmp_path), create_run("codex", "same", tmp_path)
    assert first != second and second.name.startswith(first.name)
    assert stat.S_IMODE(first.stat().st_mode) == 0o700


def test_latest_is_per_target_or_across_targets(tmp_path):
    for target, name in (("codex", "20260101-000000"), ("other", "20260102-000000"), ("codex", "20251231-000000")):
        (tmp_path / target / name).mkdir(parents=True)
    assert resolve_run("latest", "codex", tmp_path).name == "20260101-000000"
    assert resolve_run("latest", None, tmp_path).name == "20260102-000000"
    assert resolve_run("20251231-000000", None, tmp_path).parent.name == "codex"
    with pytest.raises(RunError, match='no run "nope"'):
        resolve_run("nope", None, tmp_path)
    with pytest.raises(RunError, match="no runs yet"):
        resolve_run("latest", "empty", tmp_path)


def test_manifest_is_replaced_whole_and_private(tmp_path):
    write_manifest(tmp_path, {"status": "running"})
    write_manifest(tmp_path, {"status": "complete"})
    manifest = tmp_path / "manifest.json"
    assert json.loads(manifest.read_text()) == {"schema": 1, "status": "complete"}
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]  # no temporary file left
