"""A run folder from someone else is data: analysing it never imports or runs anything it names."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, run_manifest

from probe.analysis.report import build_report
from probe.apis.choice import PER_API, choose_renderer
from probe.common.errors import TargetError
from probe.runs.folders import create_run, read_manifest
from probe.runs.targets import load_target, parse_target

EXCHANGE = {
    "schema": 1,
    "kind": "http",
    "proxy": "model",
    "complete": True,
    "request": {
        "method": "POST",
        "url": "https://x/v1/responses",
        "path": "/v1/responses",
        "headers": [],
        "body": {"model": "m", "input": "hi"},
        "body_format": "json",
    },
    "response": {"status": 200, "headers": [], "body": {"ok": True}, "body_format": "json"},
}


def crafted_run(folder: Path, manifest_target) -> tuple[Path, Path]:
    """A run folder whose manifest names `manifest_target`, beside a target file and a module that, if ever
    imported, leaves a marker file: what an attacker would send."""
    run = folder / "20261122-120000-shared"
    run.mkdir(parents=True)
    marker = folder / "IMPORTED"
    (run / "evilrenderer.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\ndef render_request(*a): pass\ndef render_response(*a): pass\n"
    )
    (run / "t.yaml").write_text(
        "name: t\ndescription: d\nrenderer: evilrenderer\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n"
    )
    (run / "traffic.jsonl").write_text(json.dumps(EXCHANGE) + "\n")
    (run / "manifest.json").write_text(json.dumps(run_manifest(manifest_target)))
    return run, marker


HOSTILE_TARGETS = [
    "t.yaml",
    "./t.yaml",
    "{run}/t.yaml",
    "../../t",
    "codex/../../x",
    "/etc/passwd",
    "t",
    "../t.yaml",
    "CODEX",
    {"name": "codex"},
    ["codex"],
    7,
    "codex\n",
    "",
]


@pytest.mark.parametrize("named", HOSTILE_TARGETS, ids=[repr(value) for value in HOSTILE_TARGETS])
def test_a_manifest_never_makes_analysis_import_anything(tmp_path, named):
    run, marker = crafted_run(tmp_path, named)
    if isinstance(named, str) and "{run}" in named:
        (run / "manifest.json").write_text(json.dumps({"target": named.format(run=run)}))
    # Run from inside the shared folder, where its module is importable: the worst case.
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run)],
        cwd=run,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert f"which is not a target in targets/: {PER_API}" in warning
    # No renderer the manifest names: the exchange is read by its own API's built-in reader.
    assert "- Read as: `openai.responses` ×1 (`probe.apis.openai_responses.report`)" in (run / "report.md").read_text()


def test_sample_replay_follows_the_same_rule(tmp_path):
    """CI replays bundled samples through choose_renderer: a sample in a pull request gets no further."""
    run, marker = crafted_run(tmp_path, str(tmp_path / "20261122-120000-shared" / "t.yaml"))
    sys.path.insert(0, str(run))
    try:
        warnings = []
        renderer, _ = choose_renderer(None, read_manifest(run), warnings)
        _report, _ = build_report(run / "traffic.jsonl", renderer, read_manifest(run))
    finally:
        sys.path.remove(str(run))
    assert renderer.__name__ == "probe.apis.generic.report" and "evilrenderer" not in sys.modules
    assert not marker.exists() and len(warnings) == 1


def test_a_manifest_naming_a_known_target_gets_its_renderer(tmp_path):
    run, _ = crafted_run(tmp_path, "claude-code")
    warnings = []
    renderer, _ = choose_renderer(None, read_manifest(run), warnings)
    assert renderer.__name__ == "probe.apis.anthropic_messages.report" and warnings == []


@pytest.mark.parametrize(
    "name",
    ["../../x", "../x", "/abs", "a/b", "x..y/..", ".hidden", "-flag", "Upper", "a b", "", "a" * 65, "codex\x1b[31m"],
)
def test_a_target_name_cannot_place_a_run_outside_data(name):
    text = (
        f"name: {json.dumps(name)}\ndescription: d\nrenderer: probe.apis.generic.report\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n"
    )
    with pytest.raises(TargetError, match=r"targets/x.yaml: name: expected lowercase letters"):
        parse_target(text, "targets/x.yaml")


@pytest.mark.parametrize("name", ["codex", "claude-code", "gemini-cli", "qwen.code_2", "0day"])
def test_ordinary_target_names_are_accepted(name, tmp_path):
    text = (
        f"name: {name}\ndescription: d\nrenderer: probe.apis.generic.report\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: [x]}\n"
    )
    target = parse_target(text, "targets/x.yaml")
    run = create_run(target.name, root=tmp_path)
    assert run.parent == tmp_path / name


def test_a_name_given_as_a_name_never_reaches_outside_targets(tmp_path):
    (tmp_path / "outside.yaml").write_text("name: outside\n")
    for name in ("../outside", "../../tmp/x", "/etc/passwd", "codex/../../outside"):
        with pytest.raises(TargetError, match="expected lowercase letters"):
            load_target(name)


def stored_manifest(renderer, file_name="custom.yaml", name="custom") -> dict:
    """A manifest naming a target not in targets/, with the target file it was made with stored in it."""
    content = yaml.safe_dump(
        {
            "name": "custom",
            "description": "d",
            "renderer": renderer,
            "proxies": [{"name": "a", "listen": 0, "upstream": "https://x/"}],
            "agent": {"command": ["x"]},
            "redact_headers": ["X-Custom-Session"],
        }
    )
    return {
        "target": name,
        "status": "complete",
        "target_file": {"name": file_name, "sha256": "0" * 64, "content": content},
    }


@pytest.mark.parametrize("renderer", ["probe.apis.anthropic_messages.report", "probe.apis.openai_responses.report"])
def test_a_stored_target_naming_a_shipped_renderer_gets_it_with_a_warning(renderer):
    warnings = []
    chosen, extra = choose_renderer(None, stored_manifest(renderer), warnings)
    assert chosen.__name__ == renderer and extra == frozenset({"x-custom-session"})
    assert warnings == [
        f"the manifest names target 'custom', which is not a target in targets/: the report uses "
        f"{renderer}, the renderer of the target file 'custom.yaml' stored in the manifest (pass "
        "--target to choose another)"
    ]


def test_a_stored_target_may_name_the_renderer_of_a_target_in_targets(tmp_path, monkeypatch):
    """The user's own targets/ may name a renderer outside probe.apis; a stored target may name it too,
    and nothing else outside probe.apis."""
    (tmp_path / "own_renderer.py").write_text(
        "def read_request(*a): pass\ndef read_response(*a): pass\n"
        "def render_request(*a): pass\ndef render_response(*a): pass\n"
    )
    (tmp_path / "outsider.py").write_text(
        f"open({str(tmp_path / 'IMPORTED')!r}, 'w')\ndef render_request(*a): pass\ndef render_response(*a): pass\n"
    )
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "mine.yaml").write_text(
        "name: mine\ndescription: d\nrenderer: own_renderer\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\n"
        "agent: {command: [x]}\n"
    )
    monkeypatch.setenv("PROBE_TARGETS_DIR", str(targets))
    monkeypatch.syspath_prepend(str(tmp_path))
    warnings = []
    assert choose_renderer(None, stored_manifest("own_renderer"), warnings)[0].__name__ == "own_renderer"
    assert "the renderer of the target file 'custom.yaml' stored in the manifest" in warnings[0]
    warnings = []
    assert choose_renderer(None, stored_manifest("outsider"), warnings)[0].__name__ == "probe.apis.generic.report"
    assert "outsider" not in sys.modules and not (tmp_path / "IMPORTED").exists()
    assert f"which is not a target in targets/: {PER_API}" in warnings[0]


HOSTILE_RENDERERS = [
    "os:system",
    "os",
    "subprocess",
    "evilmodule",
    "evilmodule:render",
    "probe.renderers.../x",
    "probe.renderers/../x",
    ".generic",
    "..renderers.generic",
    ".renderers.generic",
    "probe.renderers",
    "probe.renderers.__init__",
    "probe.apis",
    "probe.apis.__init__",
    "probe.apis.generic.report.x",
    "probe.apis.generic.report:render_request",
    "probe.analysis.analyze",
    "probe.apis.generic.report ",
    "probe.apis.generic.report\n",
    "/tmp/evilmodule.py",
    "probe.renderers.evilmodule",
    "probe\u2024renderers\u2024generic",
    ["probe.apis.generic.report"],
    {"a": 1},
    7,
    None,
]


@pytest.mark.parametrize("renderer", HOSTILE_RENDERERS, ids=[repr(value) for value in HOSTILE_RENDERERS])
def test_a_stored_target_naming_any_other_renderer_gets_the_generic_one(tmp_path, monkeypatch, renderer):
    (tmp_path / "evilmodule.py").write_text(
        f"open({str(tmp_path / 'IMPORTED')!r}, 'w')\ndef render_request(*a): pass\ndef render_response(*a): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    warnings = []
    chosen, extra = choose_renderer(None, stored_manifest(renderer), warnings)
    assert chosen.__name__ == "probe.apis.generic.report" and extra == frozenset()
    assert set(sys.modules) - before <= {"probe.apis.generic.report"}
    assert not (tmp_path / "IMPORTED").exists()
    [warning] = warnings
    assert warning.startswith(f"the manifest names target 'custom', which is not a target in targets/: {PER_API}")
    if isinstance(renderer, str):
        assert f"the target file stored in the manifest names renderer {renderer!r}" in warning


@pytest.mark.parametrize(
    "stored",
    [
        None,
        [],
        "custom.yaml",
        {"name": "x.yaml"},
        {"content": 7},
        {"content": "renderer: [unclosed"},
        {"content": "[" * 100_000},
        {"content": "- probe.apis.anthropic_messages.report"},
        {"content": "renderer: probe.apis.anthropic_messages.report\n\0"},
    ],
)
def test_a_stored_target_that_is_not_one_gets_the_generic_renderer(stored):
    warnings = []
    manifest = {"target": "custom", "target_file": stored}
    assert choose_renderer(None, manifest, warnings)[0].__name__ == "probe.apis.generic.report"
    assert len(warnings) == 1 and PER_API in warnings[0]


def test_a_stored_target_never_makes_analysis_import_a_module_beside_the_run(tmp_path):
    """From the command line, run from the folder that holds the module: the worst case."""
    run, marker = crafted_run(tmp_path, "custom")
    manifest = stored_manifest("evilrenderer")
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--run", str(run)],
        cwd=run,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "names renderer 'evilrenderer', which is not one of probe.apis or of targets/" in result.stderr
    assert "- Read as: `openai.responses` ×1 (`probe.apis.openai_responses.report`)" in (run / "report.md").read_text()


def test_a_manifest_naming_a_target_in_targets_ignores_the_stored_one():
    warnings = []
    renderer, _ = choose_renderer(None, stored_manifest("probe.apis.generic.report", name="claude-code"), warnings)
    assert renderer.__name__ == "probe.apis.anthropic_messages.report" and warnings == []
