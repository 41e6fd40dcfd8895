"""report.html as a file: where it is written, its policy, its inert data, its masking, its size and its rebuilds."""

import base64
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_budget import examples
from test_inert_reports import PAYLOADS
from test_viewer import SCRIPT_PAYLOADS, hostile_capture

from probe.analysis import analyze, view
from probe.analysis.report import write_report
from probe.common.errors import RunError
from probe.read.whole_turns import whole_turns
from probe.runs import ledger as derived
from probe.runs.ledger import VIEWER_ASSETS, VIEWER_SCRIPTS, VIEWER_STYLES
from probe.runs.targets import load_target
from probe.write import unchanged

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import conversation, template_request  # bench/ is not a package: its folder is put on the path

SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
DATA = re.compile(r'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)


def page_of(traffic: Path, folder: Path, target: str | None = "codex") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    report, _ = write_report(traffic, folder / "report.md", load_target(target) if target else None, folder)
    return report.with_suffix(".html").read_text()


def data_of(page: str) -> dict:
    return json.loads(DATA.search(page).group(1))


def test_output_y_md_writes_y_html_beside_it(tmp_path, capsys):
    output = tmp_path / "out" / "mine.md"
    output.parent.mkdir()
    assert analyze.main(["--input", str(SAMPLE / "traffic.jsonl"), "--output", str(output), "--target", "codex"]) == 0
    assert capsys.readouterr().out == (
        f"report: {output}\nviewer: {output.with_suffix('.html')}\nturns: {output.parent / 'mine.turns.jsonl'}\n"
        f"insight: {output.parent / 'mine.insight.jsonl'}\n"
    )
    data = data_of(output.with_suffix(".html").read_text())
    # Every file derived from the report is named after it: two reports in one folder never share one.
    assert not (output.parent / "turns.jsonl").exists()
    turns = list(whole_turns(output.parent / "mine.turns.jsonl"))
    assert [turn["n"] for turn in data["turns"]] == [turn["number"] for turn in turns]
    assert [turn["usage"] for turn in data["turns"]] == [turn["usage"] for turn in turns]
    assert data["header"]["run"] == SAMPLE.name
    facts = dict(data["header"]["facts"])
    assert facts["Prompt"] == "write a hello world function" and facts["Agent version"] == "codex-cli 0.169.0"
    spent = [turn["usage"] for turn in turns if turn["usage"]]
    total = sum(usage["input"] for usage in spent)
    assert facts["Tokens"].startswith(f"{len(spent)} turns with usage: input {total:,}, cache read 0, output ")


def test_an_html_output_name_is_refused_in_one_line(tmp_path):
    with pytest.raises(RunError, match=r"name the report \.md \(its viewer and turns are named after it: mine\.html"):
        analyze.main(["--input", str(SAMPLE / "traffic.jsonl"), "--output", str(tmp_path / "mine.html")])


def test_only_the_viewers_own_script_and_style_may_run(tmp_path):
    page = page_of(SAMPLE / "traffic.jsonl", tmp_path)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'none'"
    assert directives["img-src"] == "'none'" and directives["base-uri"] == "'none'"
    script, style = ("\n".join(path.read_text() for path in paths) for paths in (VIEWER_SCRIPTS, VIEWER_STYLES))
    for text, directive in ((script, "script-src"), (style, "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert directives[directive] == f"'sha256-{digest}'"
    assert f"<script>{script}</script>" in page and f"<style>{style}</style>" in page
    assert page.count("<script") == 2 and page.count("</script>") == 2 and page.count("<style") == 1
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", code)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to load from anywhere


def test_each_part_of_the_script_declares_its_own_names():
    """The parts share one scope: a function declared twice is no error there, the later one silently wins."""
    declared: dict[str, list[str]] = {}
    for path in VIEWER_SCRIPTS:
        for match in re.finditer(r"^(?:function\s+(\w+)|(?:const|let|var|class)\s+(\w+))", path.read_text(), re.M):
            declared.setdefault(match.group(1) or match.group(2), []).append(path.name)
    assert {name: parts for name, parts in declared.items() if len(parts) > 1} == {}
    assert {"TURNS", "current", "select", "renderTurn", "buildSidebar"} <= declared.keys()  # the pattern finds them


def test_the_hostile_capture_stays_inside_the_data_and_comes_back_whole(tmp_path):
    traffic, hostile_manifest = hostile_capture(tmp_path / "run")
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(hostile_manifest))
    page = page_of(traffic, tmp_path / "run")
    raw = DATA.search(page).group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert dict(data["header"]["facts"])["Prompt"] == SCRIPT_PAYLOADS[0]
    assert data["turns"][0]["model"] == SCRIPT_PAYLOADS[2]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=st.lists(st.sampled_from(SCRIPT_PAYLOADS + PAYLOADS) | st.text(), min_size=1, max_size=6))
def test_any_captured_text_is_inert_in_the_page(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("inert-page")
    text = "".join(texts)
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    body = {"model": text, "input": [message]}
    entry = captured_exchange(
        "/v1/responses", body, {"output_text": text}, host="http://127.0.0.1:1",
        request_headers=[["x-note", text.replace("\n", " ")]], response_headers=[], timing={"start": 1.0, "end": 2.0},
    )  # fmt: skip
    (folder / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    page = page_of(folder / "traffic.jsonl", folder)
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<" not in DATA.search(page).group(1)
    data_of(page)  # parses back: the escapes are JSON's own


def test_secrets_are_masked_in_the_page(tmp_path):
    key = "sk-proj-" + "Zq8xW2vN5mR7tY1uI3oP6aS9dF4gH0jK"
    request = {
        "model": "m",
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"my key is {key}"}]}],
    }
    entry = captured_exchange(
        f"/v1/responses?api_key={key}", request, {"output_text": f"echo {key}"}, host="http://127.0.0.1:1",
        request_headers=[["authorization", f"Bearer {key}"], ["content-type", "application/json"]],
        response_headers=[], timing={"start": 1.0, "end": 2.0},
    )  # fmt: skip
    (tmp_path / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(json.dumps({"target": "codex", "prompt": f"use {key}"}))
    page = page_of(tmp_path / "traffic.jsonl", tmp_path / "run")
    assert key not in page and key[8:20] not in page
    assert page.count("[REDACTED sha256:") >= 5  # the header, the URL, the path, the message and the prompt
    assert dict(data_of(page)["header"]["facts"])["Prompt"].startswith("use [REDACTED sha256:")


def test_a_history_resent_every_turn_is_stored_once(tmp_path):
    template = template_request()
    sizes = {}
    for turns in (50, 200):
        traffic = tmp_path / f"{turns}.jsonl"
        traffic.write_text("".join(json.dumps(entry) + "\n" for entry in conversation(template, turns, 1, False)))
        page = page_of(traffic, tmp_path / str(turns))
        sizes[turns] = len(page.encode())
        data = data_of(page)
        assert len(data["turns"]) == turns
        last = data["turns"][-1]
        assert len(last["input"]) > turns  # the whole history is referenced by the last turn...
        assert len(set(last["input"])) == len(last["input"])
        users = [value for value in data["values"] if isinstance(value, dict) and value.get("role") == "user"]
        first_user = users[0]["parts"][0]["text"]
        # ...and stored once as an item, once in the first request's raw body, and once as the raw item later raw
        # bodies refer to (they name the history they carry instead of repeating it).
        assert json.dumps(data).count(json.dumps(first_user)) == 3
    assert sizes[200] < 6_000_000  # (the raw history items, interned for whole copies of each request, add ~4%)
    assert sizes[200] / sizes[50] < 4.5  # linear in the turns, not quadratic


def test_a_missing_or_outdated_page_is_rebuilt(private_data_dir, capsys, monkeypatch, tmp_path):
    run = private_data_dir / "codex" / SAMPLE.name
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(SAMPLE / name, run / name)
    assert analyze.main(["--run", "latest"]) == 0
    capsys.readouterr()
    (run / "report.html").unlink()
    code, out = analyze.main(["--run", "all"]), capsys.readouterr().out
    assert code == 0 and f"rebuilt {run}: report.html is missing" in out
    assert (run / "report.html").is_file()
    # The viewer's script changed (a copy stands in for it, so the checkout's file times stay as they are).
    script = tmp_path / "base.js"
    shutil.copy(VIEWER_ASSETS[0], script)
    later = (run / "report.html").stat().st_mtime + 10
    os.utime(script, (later, later))
    monkeypatch.setattr(derived, "REPORT", dataclasses.replace(derived.REPORT, assets=(script, *VIEWER_ASSETS[1:])))
    code, out = analyze.main(["--run", "all"]), capsys.readouterr().out
    assert code == 0 and f"rebuilt {run}: {script} is newer than" in out


def test_view_opens_the_page_in_the_browser_or_prints_its_path(private_data_dir, tmp_path, capsys, monkeypatch):
    run = private_data_dir / "codex" / SAMPLE.name
    run.mkdir(parents=True)
    shutil.copy(SAMPLE / "traffic.jsonl", run / "traffic.jsonl")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    assert view.main([]) == 0
    assert capsys.readouterr().out == f"viewer: {run}/report.html (opened in the browser)\n"
    assert (run / "report.md").is_file()  # brought up to date first
    for _ in range(100):  # the browser is started in the background
        if opened.exists() and opened.read_text():
            break
        time.sleep(0.05)
    assert opened.read_text().strip() == (run / "report.html").as_uri()
    monkeypatch.setattr(view, "open_in_browser", lambda path: False)
    assert view.main(["--run", SAMPLE.name]) == 0
    assert capsys.readouterr().out == f"viewer: {run}/report.html (no browser found here: open it in one)\n"


def test_a_body_nested_too_deeply_still_gets_its_page(tmp_path):
    deep: object = 1
    for _ in range(900):
        deep = [deep]
    entry = json.loads((SAMPLE / "traffic.jsonl").read_text().splitlines()[1])
    entry["request"]["body"]["deep"] = deep
    (tmp_path / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    page = page_of(tmp_path / "traffic.jsonl", tmp_path / "run")
    [turn] = data_of(page)["turns"]
    assert turn["n"] == 1 and turn["path"] == "/v1/responses"
    assert (tmp_path / "run" / "report.md").read_text().startswith("# agent-probe report")


def test_the_viewer_is_never_written_over_the_capture(tmp_path):
    capture = tmp_path / "capture.html"
    shutil.copy(SAMPLE / "traffic.jsonl", capture)
    before = capture.read_bytes()
    with pytest.raises(RunError, match=r"capture\.html, and that is the capture itself"):
        analyze.main(["--input", str(capture), "--output", str(tmp_path / "capture.md")])
    assert capture.read_bytes() == before


def test_the_same_page_again_is_kept_as_it_was(tmp_path, monkeypatch):
    output = tmp_path / "report.md"
    argv = ["--input", str(SAMPLE / "traffic.jsonl"), "--output", str(output), "--target", "codex"]
    assert analyze.main(argv) == 0
    first = output.with_suffix(".html").stat().st_ino
    # The generated-at line changes: the second page is made at a later time (told, instead of waited for).
    monkeypatch.setattr(time, "strftime", later_generated_at(time.strftime))
    assert analyze.main(argv) == 0
    assert output.with_suffix(".html").stat().st_ino == first


def later_generated_at(strftime):
    """`time.strftime`, but a time long after now where a report says when it was generated."""
    return lambda form, *moment: (
        "2099-01-01 00:00:00 +0000" if form == "%Y-%m-%d %H:%M:%S %z" else strftime(form, *moment)
    )


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_a_capture_no_reader_understands_still_makes_a_page_that_opens(tmp_path):
    template = template_request()
    traffic = tmp_path / "traffic.jsonl"
    lines = []
    for entry in conversation(template, 200, 1, False):  # made unlike any API: paths, bodies and events renamed
        entry["request"]["body"] = {"payload": entry["request"]["body"]}
        lines.append(json.dumps(entry).replace("responses", "things").replace("response.", "thing.") + "\n")
    traffic.write_text("".join(lines))
    page = page_of(traffic, tmp_path / "run", target=None)  # no renderer reads an API of its own
    # No model call, so no turn: the 200 exchanges are other requests, counted by host, their 65 MB of bodies left
    # out of the page (the report's Other hosts section lists them too).
    data = data_of(page)
    assert data["turns"] == [] and data["values"] == []
    [host] = data["header"]["other_hosts"]
    assert host[:4] == ["api.openai.com", "model-api", 200, "POST \u00d7200"] and host[4] > 60_000_000
    assert len(page.encode()) < 1_000_000


@pytest.mark.slow
def test_the_page_leaves_raw_bodies_out_once_its_budget_for_them_is_spent(tmp_path):
    template = template_request()
    traffic = tmp_path / "traffic.jsonl"
    lines = []
    for entry in conversation(template, 200, 1, False):  # each request with an item no reader knows: 60 MB raw
        entry["request"]["body"]["input"].append({"type": "weird_item", "payload": "x" * 300_000})
        lines.append(json.dumps(entry) + "\n")
    traffic.write_text("".join(lines))
    page = page_of(traffic, tmp_path / "run", target=None)
    kept = [turn["raw_request"]["kept"] for turn in data_of(page)["turns"]]
    assert len(kept) == 200 and kept[0] == "head" and kept[-1] == "omitted"
    assert len(page.encode()) < 40_000_000


def test_a_lone_surrogate_stays_in_its_own_value(tmp_path):
    entry = json.loads((SAMPLE / "traffic.jsonl").read_text().splitlines()[1])
    entry["request"]["body"]["input"] += [
        {"type": "message", "role": "user", "content": "caf\u00e9 \ud800 end"},
        {"type": "message", "role": "user", "content": "na\u00efve text"},
    ]
    (tmp_path / "traffic.jsonl").write_text(json.dumps(entry) + "\n")
    page = page_of(tmp_path / "traffic.jsonl", tmp_path / "run")
    texts = json.dumps(data_of(page)["values"], ensure_ascii=False)
    assert "caf\u00e9 \ud800 end" in texts and "na\u00efve text" in texts
    # Each value is written on its own: only the one holding the lone surrogate is escaped to ASCII.
    assert "caf\\u00e9 \\ud800 end" in page and "na\u00efve text" in page


def test_pages_compare_apart_from_when_they_were_made_even_with_lines_of_megabytes(tmp_path):
    data = b"x" * 3_000_000
    old, new, other = tmp_path / "old.html", tmp_path / "new.html", tmp_path / "other.html"
    old.write_bytes(b"<head>\n" + unchanged.GENERATED + b'1">\n' + data + b"\n</html>\n")
    new.write_bytes(b"<head>\n" + unchanged.GENERATED + b'2">\n' + data + b"\n</html>\n")
    other.write_bytes(b"<head>\n" + unchanged.GENERATED + b'2">\n' + data[:-1] + b"y\n</html>\n")
    assert unchanged.same_page(old, new)
    assert not unchanged.same_page(old, other)
