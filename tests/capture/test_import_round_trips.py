"""Every bundled sample exported as HAR, as mitmproxy's flow file and as a VCR.py cassette, then imported back
(`probe.import_capture`), gives the same turns: the same items, tools, usage and readers; and the imported run says
where it came from and what its format lost (manifest.json, report.md)."""

import hashlib
import json
import re

import pytest

from probe.analyse.prices import prices_from
from probe.analysis import analyze, export
from probe.common.paths import PROJECT_ROOT
from probe.import_capture import import_file
from probe.read.whole_turns import whole_turns

SAMPLES = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*"))
FORMATS = {"har": "HAR", "mitm": "mitmproxy flows", "vcr": "VCR.py cassette"}
# What a round trip may change: the proxy's name (an import files every exchange under `imported`) and the times
# (a flow keeps when the answer's headers came, not its first byte; HAR keeps milliseconds).
CHANGED = {"proxy", "timing"}
# HAR keeps a connection's error only for a request that got no answer (`_error`): codex's hang-up after its
# stream's last event, recorded as an error of a complete exchange, is lost.
# A cassette loses these too, and every WebSocket (VCR.py records HTTP only: the export leaves them out), so that
# its turns are the HTTP ones, numbered anew.
# A cassette keeps no times either: the cache's time since its prefix was last used is unknown after it (`cache`).
LOSES = {"har": {"errors"}, "mitm": set(), "vcr": {"errors", "number", "line", "cache"}}


def test_every_bundled_sample_is_checked():
    assert len(SAMPLES) >= 8 and {sample.parent.name for sample in SAMPLES} >= {"codex", "claude-code", "gemini"}


@pytest.fixture(scope="module")
def round_trips(tmp_path_factory) -> dict:
    """Each sample's export in each format, and the run imported from it (analysed), made once."""
    root = tmp_path_factory.mktemp("round-trips")
    made = {}
    # Priced as the samples were (probe.samples), so that each turn's window and share come out the same.
    with pytest.MonkeyPatch.context() as patch, prices_from(PROJECT_ROOT / "data" / "sample-prices.yaml"):
        patch.setenv("PROBE_DATA_DIR", str(root / "data"))
        for sample in SAMPLES:
            for form in FORMATS:
                exported = root / f"{sample.parent.name}-{sample.name}.{form}"
                assert export.main(["--run", str(sample), "--format", form, "--output", str(exported)]) == 0
                run = import_file(exported, None, form)
                assert analyze.main(["--run", str(run)]) == 0
                made[sample, form] = (exported, run)
    return made


def compared(turn: dict, form: str) -> dict:
    return {key: value for key, value in turn.items() if key not in CHANGED | LOSES[form]}


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"{sample.parent.name}/{sample.name}")
def test_an_exported_sample_imports_back_with_the_same_turns(round_trips, sample, form):
    _, run = round_trips[sample, form]
    before = list(whole_turns(sample / "turns.jsonl"))
    after = list(whole_turns(run / "turns.jsonl"))
    if form == "vcr":
        before = [turn for turn in before if turn["kind"] == "http"]
        assert all(turn["timing"]["start"] is None for turn in after)  # a cassette keeps no time: none is made up
    assert len(after) == len(before) >= (2 if form != "vcr" else 0)
    for old, new in zip(before, after, strict=True):
        assert compared(new, form) == compared(old, form)
        # What the comparison is about is there to compare: the items, the tools, the usage and the reader.
        assert new["api"] == old["api"] and new["input"] == old["input"] and new["usage"] == old["usage"]
        assert new["tools"] == old["tools"] and new["output"] == old["output"]
    if any(turn["usage"] for turn in before):  # all but codex's WebSocket samples, whose HTTP turn lists models
        assert any(turn["usage"] for turn in after) and any(turn["input"] for turn in after)
    else:
        assert form == "vcr" and sample.parent.name == "codex"


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: f"{sample.parent.name}/{sample.name}")
def test_the_imported_run_says_where_it_came_from_and_what_was_lost(round_trips, sample, form):
    exported, run = round_trips[sample, form]
    manifest = json.loads((run / "manifest.json").read_text())
    recorded = json.loads((sample / "manifest.json").read_text())
    imported = manifest["imported"]
    assert run.parent.name == "imported" and re.fullmatch(
        rf"\d{{8}}-\d{{6}}-{form}(-\d+)?", run.name
    )  # -2: same second
    assert manifest["status"] == "imported" and manifest["target"] is None
    assert imported["source"] == exported.name and imported["format"] == FORMATS[form]
    assert imported["sha256"] == hashlib.sha256(exported.read_bytes()).hexdigest()
    sockets = sum(turn["kind"] == "websocket" for turn in whole_turns(sample / "turns.jsonl")) if form == "vcr" else 0
    assert imported["entries"] == manifest["exchanges"] == recorded["exchanges"] - sockets
    assert imported["skipped"] == 0
    if form == "vcr":
        assert any(what.startswith("websocket frames") for what in imported["lost"])
    assert any(what.startswith("chunking") for what in imported["lost"])
    assert "note" not in manifest  # the samples were masked when recorded: no secret is found raw
    report = (run / "report.md").read_text()
    assert f"- Imported: from `{exported.name}`, format `{FORMATS[form]}`, sha256 `{imported['sha256']}`" in report
    lost = "; ".join(f"`{what}`" for what in imported["lost"])
    assert f"- Lost in this format: {lost}\n" in report and "`chunking: a streamed answer is one body" in lost
    assert "- Run: imported from a recording made elsewhere, status **imported**, target none named" in report


def test_a_flow_file_keeps_what_har_loses(round_trips):
    """The codex HTTP sample's exchanges ended with codex hanging up after the stream's last event: complete, with
    the connection's error. The flow file keeps that error; HAR keeps no error of an answered request."""
    [sample] = [sample for sample in SAMPLES if sample.name.endswith("sample-http")]
    errors = {
        form: [turn["errors"] for turn in whole_turns(round_trips[sample, form][1] / "turns.jsonl")] for form in FORMATS
    }
    original = [turn["errors"] for turn in whole_turns(sample / "turns.jsonl")]
    assert errors["mitm"] == original and {"connection": "Client disconnected."} in original[1]
    assert errors["har"] == [[error for error in turn if "connection" not in error] for turn in original]
    assert errors["har"] != original and errors["har"][0] == original[0] != []


def test_an_imported_run_is_filed_under_the_target_named(tmp_path, private_data_dir):
    sample = SAMPLES[0]
    exported = tmp_path / "x.har"
    export.main(["--run", str(sample), "--output", str(exported)])
    run = import_file(exported, "claude-code", "../../escape")
    assert run.parent == private_data_dir / "claude-code" and run.name.endswith("-escape")
    assert json.loads((run / "manifest.json").read_text())["target"] == "claude-code"
