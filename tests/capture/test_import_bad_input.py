"""Bad input to `python -m probe.import_capture`, run as a user runs it: a file of no known format, or a HAR or flow
file that is damaged (cut off, wrong types, hostile strings, a million entries) gets a one-line error, or a one-line
warning per bad entry (capped, then counted), never a traceback; what can be read is imported, inert."""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from probe.analysis import export
from probe.capture.imports.formats import detect
from probe.common.errors import RunError
from probe.common.paths import PROJECT_ROOT

ESCAPE = "\x1b[2J\x1b]0;owned\x07"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HUGE = "h" * 2_000_000  # a 2 MB header value
MEMORY_CAP = 3 * 1024**3  # address space, in bytes, for an import of these small files


def bounded_memory() -> None:
    """What a hostile file would make the import hold ends in a MemoryError (a traceback the test sees), not in a
    machine out of memory."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def importing(path: Path, data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "probe.import_capture", str(path), *options],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PROBE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=bounded_memory,
    )


def the_run(data_dir: Path) -> Path:
    [run] = [path for path in data_dir.glob("*/*") if path.is_dir()]
    return run


def entry(url: str, headers=(), response=None, **more) -> dict:
    return {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "url": url, "headers": [{"name": n, "value": v} for n, v in headers], **more},
        "response": response or {"status": 200, "content": {"text": '{"ok": true}', "mimeType": "application/json"}},
    }


def test_a_file_of_no_known_format_is_one_line_naming_the_formats_tried(tmp_path):
    for name, content in (("notes.har", b"just some notes\n"), ("empty.mitm", b""), ("list.json", b"[1, 2]")):
        source = tmp_path / name
        source.write_bytes(content)
        with pytest.raises(RunError, match=r"not a recording this can import \(tried: HAR, mitmproxy flows"):
            detect(source)
    result = importing(source, tmp_path / "data")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.startswith("error: ")
        and "list.json: not a recording this can import (tried: HAR" in result.stderr
    )
    result = importing(tmp_path / "missing.har", tmp_path / "data")
    assert result.returncode != 0 and result.stderr.count("\n") == 1 and "no such file" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing made of a file that is not imported


@pytest.fixture(scope="module")
def hostile_har(tmp_path_factory):
    """One HAR holding every kind of bad entry and hostile string, cut off at its end, imported once."""
    root = tmp_path_factory.mktemp("hostile")
    entries = [
        1,
        "an entry",
        {"request": []},
        {"request": {"method": 5, "url": "http://x/"}},
        {"response": {"status": 200}},
        {"request": {"method": "GET", "url": "http://x/", "headers": {"not": "a list"}}, "timings": "soon"},
        entry(
            f"http://{ESCAPE}host/../../etc/passwd?q={HTML}",
            headers=[(f"x-{ESCAPE}", HTML), ("x-huge", HUGE)],
            postData={"text": HTML, "params": [{"name": "f", "fileName": "/etc/passwd"}]},
            response={
                "status": 200,
                "statusText": ESCAPE,
                "content": {"text": f"{ESCAPE}{HTML}", "encoding": "base64"},
            },
        ),
        entry("file:///etc/passwd", response={"status": 0, "_error": f"failed {ESCAPE}"}),
    ]
    text = json.dumps({"log": {"version": "1.2", "entries": entries}})
    # An entry nested 200,000 levels deep (ijson's own `items` would take gigabytes), then one cut off.
    deep = '{"_x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    source = root / f"capture{ESCAPE}<b>.har"
    source.write_text(text[: text.rindex("]")] + f", {deep}" + ', {"request": {"method": "GET", "url": "http://cut')
    data_dir = root / "data"
    result = importing(source, data_dir, "--label", f"../../{ESCAPE}")
    return result, the_run(data_dir), data_dir


def test_a_damaged_har_warns_once_per_bad_entry_and_imports_the_rest(hostile_har):
    result, run, _ = hostile_har
    assert result.returncode == 0 and "Traceback" not in result.stderr
    warnings = result.stderr.splitlines()
    skipped = [line for line in warnings if ": skipped: " in line]
    assert [line.split(": skipped:")[0] for line in skipped] == [
        *(f"warning: entry {number}" for number in range(1, 6)),
        "warning: entry 9",
        "warning: after entry 9",
    ]
    assert skipped[-2] == "warning: entry 9: skipped: nested more than 64 levels deep: not an exchange"
    assert "the file ends or is damaged here" in skipped[-1] and "an entry is an object, not int" in skipped[0]
    assert all(line.startswith("warning: ") for line in warnings) and ESCAPE not in result.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["imported"]["entries"] == 3 and manifest["imported"]["skipped"] == 7
    lines = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    # Headers that are not a list are no headers; timings that are not an object, no times; no answer, an error.
    assert lines[0]["request"]["headers"] == [] and lines[0]["error"] == "no response recorded"
    assert lines[0]["timing"] == {"start": None, "request_end": None, "end": None}
    lines = lines[1:]
    assert lines[0]["request"]["headers"][1] == ["x-huge", HUGE] and lines[0]["request"]["body"] == HTML
    assert lines[0]["response"]["reason"] == ESCAPE  # kept as captured in traffic.jsonl, made inert where shown
    assert lines[1]["response"] is None and lines[1]["error"] == f"failed {ESCAPE}"
    assert lines[0]["timing"] == {"start": 1767225600.0, "request_end": None, "response_headers": None,
                                  "first_byte": None, "end": None}  # fmt: skip


def test_a_hostile_har_stays_in_its_run_folder_and_opens_nothing_it_names(hostile_har):
    _, run, data_dir = hostile_har
    assert run.parent == data_dir / "imported" and "/" not in run.name and "\x1b" not in run.name
    assert [path for path in data_dir.rglob("*") if run not in path.parents and path != run] == [run.parent]
    for path in run.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "root:x:0:0" not in text, path.name  # /etc/passwd, named twice, was never opened
            if path.suffix in (".md", ".html"):
                assert "\x1b" not in text and "<script>alert(1)" not in text, path.name


def test_a_million_bad_entries_are_counted_not_listed(tmp_path):
    source = tmp_path / "many.har"
    source.write_text('{"log": {"version": "1.2", "entries": [' + ",".join(["0"] * 1_000_000) + "]}}")
    result = importing(source, tmp_path / "data")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 21 and warnings[-1] == "warning: 999,980 more entries skipped"
    manifest = json.loads((the_run(tmp_path / "data") / "manifest.json").read_text())
    assert manifest["imported"] | {"sha256": None} == {
        "source": "many.har", "format": "HAR", "sha256": None, "lost": manifest["imported"]["lost"], "entries": 0,
        "skipped": 1_000_000,
    }  # fmt: skip


def test_a_damaged_flow_file_warns_in_one_line_and_keeps_the_flows_before(tmp_path):
    sample = sorted((PROJECT_ROOT / "data" / "claude-code").glob("*-sample-*"))[0]
    flows = tmp_path / "whole.mitm"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROBE_DATA_DIR", str(tmp_path / "unused"))
        assert export.main(["--run", str(sample), "--format", "mitm", "--output", str(flows)]) == 0
    whole = flows.read_bytes()
    first = int(whole.split(b":", 1)[0])
    damaged = tmp_path / "damaged.mitm"
    # The first flow whole, then a second cut off, then what no flow file holds.
    damaged.write_bytes(whole[: len(whole) - 50] + b"9999:7:version;2:13#")
    assert len(whole) - 50 > first + len(str(first)) + 2
    result = importing(damaged, tmp_path / "data")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("warning: ")] == [
        "warning: flow 2: skipped: the file ends or is damaged here (FlowReadException: Invalid data format.)"
    ]
    run = the_run(tmp_path / "data")
    lines = (run / "traffic.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["request"]["path"].startswith("/v1/messages")
    not_a_flow = tmp_path / "odd.mitm"
    not_a_flow.write_bytes(b"26:7:version;2:13#4:type;1:x;}")
    result = importing(not_a_flow, tmp_path / "data2")
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert (
        warning.startswith("warning: flow 1: skipped: the file ends or is damaged here (")
        and "Traceback" not in result.stderr
    )
