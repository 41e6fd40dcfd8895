"""A run counts as recorded on this machine only with the signature its capture made with this machine's key, over
what a replay takes from it (target, prompt, agent version, the capture's sha256): whoever wrote the run folder
cannot make one, change what it covers, or carry one from another machine; a capture that went on from traffic it
found in its folder, or a run the watchdog closed, is not signed."""

import hashlib
import json
import os
from pathlib import Path

import pytest

from probe.capture import session
from probe.runs import provenance
from probe.runs.folders import read_manifest
from probe.runs.targets import load_target

MANIFEST = {
    "target": "qwen-code",
    "prompt": "write a hello world function",
    "agent": {"requested_version": None, "version": "0.24.4", "argv": ["qwen"]},
    "traffic_sha256": "ab" * 32,
    "status": "complete",
}


def signed(manifest: dict) -> dict:
    return {**manifest, provenance.FIELD: provenance.sign(manifest)}


def test_a_run_signed_here_is_recorded_here_and_what_is_not_signed_may_change():
    manifest = signed(MANIFEST)
    assert len(manifest[provenance.FIELD]) == 64 and provenance.recorded_here(manifest)
    # The replay adds its record, the analysis nothing: neither is signed.
    assert provenance.recorded_here({**manifest, "replay": {"of": "x"}, "status": "interrupted", "label": "y"})


@pytest.mark.parametrize(
    "change",
    [
        {"target": "codex"},
        {"prompt": "run rm -rf ~"},
        {"traffic_sha256": "cd" * 32},
        {"traffic_sha256": None},
        {"agent": {"requested_version": "0.1.0", "version": "0.24.4"}},
        {"agent": {"version": "0.25.0"}},
        {"agent": "qwen"},
        {provenance.FIELD: "00" * 32},
        {provenance.FIELD: "not hex" * 10},
        {provenance.FIELD: 7},
        {provenance.FIELD: None},
    ],
    ids=repr,
)
def test_a_changed_or_forged_signature_is_not_recorded_here(change):
    assert not provenance.recorded_here({**signed(MANIFEST), **change})


def test_a_signature_made_with_another_machines_key_is_not_recorded_here(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another machine"))
    theirs = signed(MANIFEST)
    monkeypatch.undo()
    assert provenance.sign(MANIFEST) != theirs[provenance.FIELD] and not provenance.recorded_here(theirs)


def test_without_a_usable_key_nothing_is_signed_and_nothing_is_recorded_here(tmp_path, monkeypatch):
    manifest = signed(MANIFEST)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    key = tmp_path / "agent-probe" / "state.key"
    key.parent.mkdir()
    key.write_bytes(b"k" * 32)
    os.chmod(key, 0o644)  # readable by anyone: what it signed could have been forged
    assert provenance.sign(MANIFEST) is None and not provenance.recorded_here(manifest)


def finished(run: Path | None) -> Path:
    """A run recorded by the capture's bookkeeping, with one line of capture, closed as the capture closes it."""
    recording = session.open_run(load_target("qwen-code"), run, "", "hi", None, "mock")
    with (recording.run / "traffic.jsonl").open("a") as traffic:
        traffic.write('{"schema": 1, "kind": "http"}\n')
    recording.finish("complete", 0)
    return recording.run


def test_the_capture_signs_what_it_recorded_with_the_sha256_of_its_capture():
    run = finished(None)
    manifest = read_manifest(run)
    assert manifest["traffic_sha256"] == hashlib.sha256((run / "traffic.jsonl").read_bytes()).hexdigest()
    assert provenance.recorded_here(manifest)


def test_the_capture_signs_the_sha256_of_its_mcp_record_too():
    recording = session.open_run(load_target("qwen-code"), None, "", "hi", None, "mock")
    (recording.run / "traffic.jsonl").write_text('{"schema": 1, "kind": "http"}\n')
    (recording.run / "mcp.jsonl").write_text('{"t": 1.0, "server": "fs", "transport": "stdio", "event": "started"}\n')
    recording.finish("complete", 0)
    manifest = read_manifest(recording.run)
    assert manifest["mcp_sha256"] == hashlib.sha256((recording.run / "mcp.jsonl").read_bytes()).hexdigest()
    assert provenance.recorded_here(manifest)
    # Its record's digest is signed: changed or dropped, the run is not recorded here.
    assert not provenance.recorded_here({**manifest, "mcp_sha256": "cd" * 32})
    assert not provenance.recorded_here({key: value for key, value in manifest.items() if key != "mcp_sha256"})
    # A run without one signs as before (runs recorded before there was an MCP record stay recorded here).
    assert "mcp_sha256" not in read_manifest(finished(None)) and provenance.recorded_here(signed(MANIFEST))


def test_a_capture_into_a_folder_that_held_traffic_is_not_signed(tmp_path):
    run = tmp_path / "given"
    run.mkdir()
    (run / "traffic.jsonl").write_text('{"schema": 1, "kind": "http", "note": "written by someone else"}\n')
    manifest = read_manifest(finished(run))
    assert provenance.FIELD not in manifest and not provenance.recorded_here(manifest)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert provenance.recorded_here(read_manifest(finished(empty)))


def test_a_run_the_watchdog_closes_is_not_signed(tmp_path):
    run = tmp_path / "killed"
    recording = session.open_run(load_target("qwen-code"), run, "", "hi", None, "mock")
    os.close(recording.lock)  # the capture process is gone
    session.close_abandoned(run, "killed")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and provenance.FIELD not in manifest
