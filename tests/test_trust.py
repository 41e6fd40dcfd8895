"""A run folder from someone else is data: analysing it never imports or runs anything it names."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from probe.analyze import build_report, choose_renderer
from probe.errors import TargetError
from probe.runs import create_run, read_manifest
from probe.targets import load_target, parse_target

EXCHANGE = {"schema": 1, "kind": "http", "proxy": "model", "complete": True,
            "request": {"method": "POST", "url": "https://x/v1/responses", "path": "/v1/responses", "headers": [],
                        "body": {"model": "m", "input": "hi"}, "body_format": "json"},
            "response": {"status": 200, "headers": [], "body": {"ok": True}, "body_format": "json"}}


def crafted_run(folder: Path, manifest_target) -> tuple[Path, Path]:
    """A run folder whose manifest names `manifest_target`, beside a target file and a module that, if ever
    imported, leaves a marker file: what an attacker would send."""
    run = folder / "20261122-120000-shared"
    run.mkdir(parents=True)
    marker = folder / "IMPORTED"
    (run / "evilrenderer.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                         "def render_request(*a): pass\ndef render_response(*a): pass\n")
    (run / "t.yaml").write_text("name: t\ndescription: d\nrenderer: evilrenderer\n"
                                "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n")
    (run / "traffic.jsonl").write_text(json.dumps(EXCHANGE) + "\n")
    (run / "manifest.json").write_text(json.dumps({"target": manifest_target, "status": "complete"}))
    return run, marker


HOSTILE_TARGETS = ["t.yaml", "./t.yaml", "{run}/t.yaml", "../../t", "codex/../../x", "/etc/passwd", "t",
                   "../t.yaml", "CODEX", {"name": "codex"}, ["codex"], 7, "codex\n", ""]


@pytest.mark.parametrize("named", HOSTILE_TARGETS, ids=[repr(value) for value in HOSTILE_TARGETS])
def test_a_manifest_never_makes_analysis_import_anything(tmp_path, named):
    run, marker = crafted_run(tmp_path, named)
    if isinstance(named, str) and "{run}" in named:
        (run / "manifest.json").write_text(json.dumps({"target": named.format(run=run)}))
    # Run from inside the shared folder, where its module is importable: the worst case.
    result = subprocess.run([sys.executable, "-m", "probe.analyze", "--run", str(run)], cwd=run,
                            capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert "which is not a target in targets/: the report uses the generic renderer" in warning
    assert "Request JSON" in (run / "report.md").read_text()  # the generic renderer's section


def test_sample_replay_follows_the_same_rule(tmp_path):
    """CI replays bundled samples through choose_renderer: a sample in a pull request gets no further."""
    run, marker = crafted_run(tmp_path, str(tmp_path / "20261122-120000-shared" / "t.yaml"))
    sys.path.insert(0, str(run))
    try:
        warnings = []
        renderer, _ = choose_renderer(None, read_manifest(run), warnings)
        report, _ = build_report(run / "traffic.jsonl", renderer, read_manifest(run))
    finally:
        sys.path.remove(str(run))
    assert renderer.__name__ == "probe.renderers.generic" and "evilrenderer" not in sys.modules
    assert not marker.exists() and len(warnings) == 1


def test_a_manifest_naming_a_known_target_gets_its_renderer(tmp_path):
    run, _ = crafted_run(tmp_path, "claude-code")
    warnings = []
    renderer, _ = choose_renderer(None, read_manifest(run), warnings)
    assert renderer.__name__ == "probe.renderers.anthropic_messages" and warnings == []


@pytest.mark.parametrize("name", ["../../x", "../x", "/abs", "a/b", "x..y/..", ".hidden", "-flag", "Upper", "a b",
                                  "", "a" * 65, "codex\x1b[31m"])
def test_a_target_name_cannot_place_a_run_outside_data(name):
    text = (f"name: {json.dumps(name)}\ndescription: d\nrenderer: probe.renderers.generic\n"
            "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n")
    with pytest.raises(TargetError, match=r"targets/x.yaml: name: expected lowercase letters"):
        parse_target(text, "targets/x.yaml")


@pytest.mark.parametrize("name", ["codex", "claude-code", "gemini-cli", "qwen.code_2", "0day"])
def test_ordinary_target_names_are_accepted(name, tmp_path):
    text = (f"name: {name}\ndescription: d\nrenderer: probe.renderers.generic\n"
            "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n")
    target = parse_target(text, "targets/x.yaml")
    run = create_run(target.name, root=tmp_path)
    assert run.parent == tmp_path / name


def test_a_name_given_as_a_name_never_reaches_outside_targets(tmp_path):
    (tmp_path / "outside.yaml").write_text("name: outside\n")
    for name in ("../outside", "../../tmp/x", "/etc/passwd", "codex/../../outside"):
        with pytest.raises(TargetError, match="expected lowercase letters"):
            load_target(name)
