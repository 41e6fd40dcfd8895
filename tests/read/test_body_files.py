"""Bodies stored in files of their own (bodies/<sha256>) are read back wherever a capture is read: reports, turns,
the viewer's data, HAR, flows and replay give what they give for the same capture with its bodies in its lines.
A reference that is not a whole, well-named body file is a one-line warning, never a traceback or a read outside
bodies/."""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange, run_with_traffic
from mitmproxy.io import har as mitmproxy_har

from probe.analysis import export
from probe.analysis.report import analyze_run
from probe.read.traffic import body_bytes, iter_exchanges
from probe.replay.recorded import recorded_answers

SAMPLES = [
    PROJECT_ROOT / "data/codex/20261125-123532-sample-http",
    PROJECT_ROOT / "data/claude-code/20261125-122623-sample-mock",
    PROJECT_ROOT / "data/opencode/20261125-123535-sample-mock",
]
OUTPUTS = ("report.md", "report.html", "turns.jsonl", "insight.jsonl")


def copy_of(run: Path, into: Path, outline: bool) -> Path:
    """A copy of the run; with `outline`, its text response bodies are in bodies/, as the capture stores a large
    body."""
    copy = into / run.parent.name / run.name
    (copy / "bodies").mkdir(parents=True)
    shutil.copy2(run / "manifest.json", copy / "manifest.json")
    lines, moved = [], 0
    for line in (run / "traffic.jsonl").read_text().splitlines():
        entry = json.loads(line)
        response = entry.get("response") or {}
        if outline and response.get("body_format") == "text":
            data = response["body"].encode()
            name = hashlib.sha256(data).hexdigest()
            (copy / "bodies" / name).write_bytes(data)
            response.update(body=None, body_file=f"bodies/{name}", body_file_size=len(data))
            moved += 1
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        lines.append(line)
    assert moved >= 2 or not outline
    (copy / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    return copy


@pytest.fixture(scope="module", params=SAMPLES, ids=lambda run: run.parent.name)
def pair(request, tmp_path_factory):
    """A sample run as recorded, and the same run with its text bodies in files."""
    base = tmp_path_factory.mktemp("pair")
    return copy_of(request.param, base / "inline", False), copy_of(request.param, base / "outlined", True)


def test_exchanges_read_the_same_bodies_from_their_files(pair):
    inline, outlined_run = pair
    warnings: list[str] = []
    expected = list(iter_exchanges(inline / "traffic.jsonl", []))
    found = list(iter_exchanges(outlined_run / "traffic.jsonl", warnings))
    assert warnings == []
    assert [(exchange.response_body.value, exchange.response_body.format) for exchange in found] == [
        (exchange.response_body.value, exchange.response_body.format) for exchange in expected
    ]
    assert [body_bytes(exchange.response_body) for exchange in found] == [
        body_bytes(exchange.response_body) for exchange in expected
    ]


def test_reports_viewer_turns_and_insight_are_identical(pair):
    inline, outlined_run = pair
    made_at = re.compile(r"(Generated at: |generated\" content=\")[0-9: +-]+")
    written = {}
    for run in pair:
        _, warnings = analyze_run(run)
        assert not [warning for warning in warnings if "body" in warning]
        written[run] = {
            name: made_at.sub("WHEN", (run / name).read_text().replace(str(run), "RUN")) for name in OUTPUTS
        }
    for name in OUTPUTS:
        assert written[outlined_run][name] == written[inline][name], name


def test_har_read_back_by_mitmproxy_and_replay_have_the_bodies(pair):
    inline, outlined_run = pair
    bodies = {}
    for run in pair:
        path, _ = export.export_har(run, None)
        entries = json.loads(path.read_text())["log"]["entries"]
        flows = [mitmproxy_har.request_to_flow(entry) for entry in entries]
        bodies[run] = [flow.response.content for flow in flows if flow.response is not None]
        answers, warnings = recorded_answers(run)
        assert not warnings
        bodies[run, "replay"] = [answer.body for answer in answers]
    assert bodies[outlined_run] == bodies[inline] and any(len(body) > 1000 for body in bodies[inline])
    assert bodies[outlined_run, "replay"] == bodies[inline, "replay"]


def one_reference(tmp_path: Path, reference, data: bytes = b"data: {}\n\n", size=None) -> tuple[Path, Path]:
    exchange = captured_exchange(response_body="")
    exchange["response"].update(body=None, body_format="text", body_file=reference, body_file_size=size)
    first = captured_exchange(response_body="data: first\n\n")
    run = run_with_traffic(tmp_path, [first, exchange])
    (run / "bodies").mkdir()
    return run, run / "bodies"


NAME = hashlib.sha256(b"data: {}\n\n").hexdigest()


@pytest.mark.parametrize(
    "reference, message",
    [
        ("bodies/../../etc/passwd", "is not bodies/ and a sha256"),
        ("/etc/passwd", "is not bodies/ and a sha256"),
        ("bodies/" + NAME.upper(), "is not bodies/ and a sha256"),
        ("bodies/" + NAME[:63], "is not bodies/ and a sha256"),
        ("bodies/" + NAME + "\n", "is not bodies/ and a sha256"),
        (["bodies", NAME], "is not bodies/ and a sha256"),
        ("bodies/" + "0" * 64, "cannot be read: No such file or directory"),
    ],
)
def test_a_bad_reference_is_a_one_line_warning_and_the_body_is_left_out(tmp_path, reference, message):
    run, _ = one_reference(tmp_path, reference)
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert len(exchanges) == 2 and exchanges[0].response_body.value == "data: first\n\n"
    assert exchanges[1].response_body.value is None and body_bytes(exchanges[1].response_body) == b""
    [warning] = warnings
    assert warning.startswith("line 2: its ") and message in warning and "\n" not in warning


def test_a_short_damaged_or_linked_file_is_not_taken(tmp_path):
    data = b"data: {}\n\n"
    cases = {
        "short": (data[:-3], len(data), "has 7 bytes where the line says 10"),
        "damaged": (data.replace(b"{", b"["), len(data), "does not hash to its name"),
        "link": (None, len(data), "cannot be read: Too many levels of symbolic links"),
        "folder": ("dir", len(data), "is not a regular file"),
    }
    for case, (content, size, message) in cases.items():
        run, bodies = one_reference(tmp_path / case, f"bodies/{NAME}", size=size)
        target = bodies / NAME
        if content is None:
            outside = tmp_path / case / "outside"
            outside.write_bytes(data)
            target.symlink_to(outside)
        elif content == "dir":
            target.mkdir()
        else:
            target.write_bytes(content)
        warnings: list[str] = []
        exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
        assert exchanges[1].response_body.value is None, case
        [warning] = warnings
        assert message in warning and "\n" not in warning, case


def test_a_bodies_folder_that_is_a_link_is_not_followed(tmp_path):
    run, bodies = one_reference(tmp_path, f"bodies/{NAME}", size=10)
    bodies.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / NAME).write_bytes(b"data: {}\n\n")
    os.symlink(elsewhere, bodies)
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert exchanges[1].response_body.value is None
    [warning] = warnings
    assert "no usable bodies/ folder" in warning


def test_a_good_reference_is_read(tmp_path):
    run, bodies = one_reference(tmp_path, f"bodies/{NAME}", size=10)
    (bodies / NAME).write_bytes(b"data: {}\n\n")
    warnings: list[str] = []
    exchanges = list(iter_exchanges(run / "traffic.jsonl", warnings))
    assert warnings == [] and exchanges[1].response_body.value == "data: {}\n\n"


def test_a_report_of_a_run_with_a_bad_reference_warns_in_one_line(tmp_path):
    run, _ = one_reference(tmp_path, "bodies/../../etc/passwd")
    _, warnings = analyze_run(run)
    [warning] = [warning for warning in warnings if "body_file" in warning]
    assert "line 2" in warning and "'bodies/../../etc/passwd'" in warning
