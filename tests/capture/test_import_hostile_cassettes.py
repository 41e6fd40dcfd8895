"""Hostile cassettes and traces: a tag that would construct an object (never constructed: the command it names does
not run), aliases that expand a billion times, nesting 100,000 deep, wrong types, a file cut off: each bad entry is
one warning, the good ones are imported, and nothing is a traceback."""

import json
import os
import subprocess
import sys

from probe.capture.imports import claude_tap, claude_tap_session, go_vcr, vcr_cassette
from probe.capture.imports.formats import Skipped
from probe.common.paths import PROJECT_ROOT

GOOD = """\
- request: {body: null, headers: {}, method: GET, uri: 'https://api.example.com/v1/models'}
  response:
    {body: {string: '{"data": []}'}, headers: {Content-Type: [application/json]}, status: {code: 200, message: OK}}
"""
LAUGHS = "\n".join(
    f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]" for level in range(1, 10)
)  # each level nine of the one before: 9^9 strings once expanded


def hostile_vcr(canary) -> str:
    return (
        "interactions:\n"
        + GOOD
        + f"- request: !!python/object/apply:os.system ['touch {canary}']\n"
        + "- request: {method: !!python/name:os.system , uri: x}\n"
        + f"- request:\n    l0: &l0 lol\n{LAUGHS}\n"
        + "- request: " + "[" * 700 + "]" * 700 + "\n"
        + "- [a, list, not, an, interaction]\n"
        + "- request: {method: GET, uri: 'https://x/'}\n  response: {status: {code: teapot}}\n"
        + "- request: {method: GET, uri: 'https://x/', headers: just a string}\n  response: {status: 200}\n"
        + GOOD
        + "- request: {method: GET, uri: 'https://x/cut"  # cut off mid-entry
    )  # fmt: skip


def read_all(module, path) -> tuple[list[dict], list[Skipped]]:
    items = list(module.read(path))
    return [i for i in items if isinstance(i, dict)], [i for i in items if isinstance(i, Skipped)]


def test_a_hostile_vcr_cassette_constructs_nothing_and_reads_what_it_can(tmp_path):
    canary = tmp_path / "ran"
    source = tmp_path / "hostile.yaml"
    source.write_text(hostile_vcr(canary))
    assert vcr_cassette.sniff(source.read_bytes()[:65536])
    lines, skipped = read_all(vcr_cassette, source)
    assert not canary.exists()
    assert [line["request"]["url"] for line in lines] == ["https://api.example.com/v1/models"] * 2
    assert [line["response"]["body"] for line in lines] == [{"data": []}] * 2
    reasons = {s.where: s.why for s in skipped}
    assert "python/object/apply:os.system" in reasons["interaction 2"] and "construct" in reasons["interaction 2"]
    assert "python/name:os.system" in reasons["interaction 3"]
    assert "MiB of text, its aliases expanded" in reasons["interaction 4"]
    assert "nested deeper than 500 levels" in reasons["interaction 5"]
    assert "not a mapping" in reasons["interaction 6"]
    assert "not an HTTP status" in reasons["interaction 7"]
    assert "headers" in reasons["interaction 8"]
    assert [s.where for s in skipped][-1].startswith("line ") and "ends or is damaged" in skipped[-1].why
    assert len(skipped) == 8 and all("\n" not in s.why and len(s.why) <= 300 for s in skipped)


def test_nesting_past_what_libyaml_parses_ends_the_file_in_one_line(tmp_path):
    source = tmp_path / "deep.yaml"
    source.write_text("interactions:\n" + GOOD + "- request: " + "[" * 100_000 + "]" * 100_000 + "\n" + GOOD)
    lines, skipped = read_all(vcr_cassette, source)
    assert len(lines) == 1 and len(skipped) == 1
    assert skipped[0].where == "line 5" and "nesting depth" in skipped[0].why


def test_a_damaged_go_vcr_cassette_warns_per_entry(tmp_path):
    source = tmp_path / "go.yaml"
    source.write_text(
        "---\nversion: 2\ninteractions:\n"
        "- request: {url: 'https://x/a', method: POST, body: 7}\n  response: {code: 200}\n"
        "- request: {url: 'https://x/b', method: GET, form: [1, 2]}\n"
        "- request: {url: 'https://x/c', method: GET}\n  response: {status: 'nonsense', duration: 1e400s}\n"
        "- request: {url: 'https://x/d', method: GET}\n  response: {status: 204 No Content, duration: 'a lot'}\n"
    )
    assert go_vcr.sniff(source.read_bytes()) and not vcr_cassette.sniff(source.read_bytes())
    lines, skipped = read_all(go_vcr, source)
    assert [s.where for s in skipped] == ["interaction 1", "interaction 2", "interaction 3"]
    # A duration that is not one is no time at all, not 0.
    assert [(line["response"]["status"], line["timing"].get("duration", "none")) for line in lines] == [(204, "none")]


def test_hostile_claude_tap_files_warn_per_record(tmp_path):
    trace = tmp_path / "trace.jsonl"
    good = {"timestamp": "x", "request_id": "1", "request": {"method": "GET", "path": "/v1/models"}}
    trace.write_text(
        "\n".join(
            [
                json.dumps(good | {"response": {"status": 200, "headers": {}, "body": {}}}),
                "{not json",
                "[" * 5000 + "]" * 5000,
                json.dumps(good | {"response": {"status": "200"}}),
                json.dumps(good | {"response": {"status": 200, "sse_events": ["not an event"]}}),
            ]
        )
    )
    lines, skipped = read_all(claude_tap, trace)
    assert len(lines) == 1 and lines[0]["timing"]["start"] is None  # a timestamp that is not one: no time
    assert [s.where for s in skipped] == ["line 2", "line 3", "line 4", "line 5"]
    session = tmp_path / "session.json"
    deep = "[" * 200_000 + "]" * 200_000  # passed over, never built (memory would grow with its square)
    session.write_text(
        '{"session": "s", "packets": [{"method": "GET"}, 42, ' + deep + ', {"request": {"path": "/a"}, "resp'
    )
    lines, skipped = read_all(claude_tap_session, session)
    assert lines == [] and [s.where for s in skipped] == ["packet 1", "packet 2", "packet 3", "after packet 3"]
    assert "nested more than 256 levels" in skipped[2].why


def test_thousands_of_bad_interactions_are_counted_in_one_line_each_up_to_twenty(tmp_path):
    """The whole command on a file of bad entries but one: warnings capped, a count for the rest, no traceback."""
    bad = 5000
    source = tmp_path / "many.yaml"
    source.write_text("interactions:\n" + "- request: [1]\n" * bad + GOOD + "version: 1\n")
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), CI="true")
    done = subprocess.run(
        [sys.executable, "-m", "probe.import_capture", str(source)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "skipped" in line]
    assert len(warnings) == 21 and warnings[-1].endswith(f"{bad - 20:,} more entries skipped")
    run = next((tmp_path / "data/imported").iterdir())
    imported = json.loads((run / "manifest.json").read_text())["imported"]
    assert (imported["entries"], imported["skipped"]) == (1, bad)


# Terminal escapes, HTML and a Markdown link in every field a cassette has (YAML's own escapes: the file is text).
HOSTILE_STRINGS = r"""interactions:
- request:
    body: "{\"model\": \"<script>alert(1)</script>\x1b[31m\", \"messages\": [{\"role\": \"user\", \"content\": \"](javascript:alert(1)) \u202e\"}]}"
    headers:
      "X-Evil\x1b[2J": ["<img src=x onerror=alert(1)>"]
    method: "POST\x1b[31m"
    uri: "https://api.openai.com/v1/chat/completions?<script>=\x1b]8;;http://evil\x07"
  response:
    body: {string: "{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": \"<script>x</script>\x1b[5m\"}}]}"}
    headers: {"Content-Type": ["application/json"]}
    status: {code: 200, message: "OK\x1b[31m<b>"}
version: 1
"""  # noqa: E501


def test_hostile_strings_in_a_cassette_are_read_and_reported_inert(tmp_path):
    source = tmp_path / "strings.yaml"
    source.write_text(HOSTILE_STRINGS)
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), CI="true")
    done = subprocess.run(
        [sys.executable, "-m", "probe.import_capture", str(source)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "\x1b" not in done.stdout + done.stderr
    run = next((tmp_path / "data/imported").iterdir())
    (line,) = [json.loads(text) for text in (run / "traffic.jsonl").read_text().splitlines()]
    # Kept as sent (a raw escape makes the body text, not JSON), and shown inert.
    assert line["request"]["method"] == "POST\x1b[31m" and "<script>alert(1)</script>\x1b" in line["request"]["body"]
    report = (run / "report.md").read_text()
    assert "chat/completions" in report and "\x1b" not in report and "<script>" not in report
