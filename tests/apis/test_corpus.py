"""The readers' conformance corpus: every capture in tests/corpus/<api>/ must read into the turns beside it, and
every text of those turns must reach report.md and the viewer's data.

A shape is added as files, not as code: `<shape>.jsonl` (a capture, in this project's format or the original
tool's) and `<shape>.turns.jsonl` (the model it must produce). `PROBE_CORPUS_UPDATE=1 pytest tests/apis/test_corpus.py`
writes the expected turns of captures that have none yet (`=all` rewrites every one): read what it wrote before
committing it, since it is what the reader is then held to.
"""

import json
import os
import re
from pathlib import Path

import pytest

from probe.analysis.report import write_report
from probe.apis.built_in import BY_API
from probe.read.whole_turns import whole_turns
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.targets import parse_target
from probe.write.insight_lines import turn_line_fields

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = sorted(path for path in CORPUS.glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl"))
DATA = re.compile(r'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)
ZERO_WIDTH_SPACE = "\u200b"  # what the report puts after `<` in code, so that no HTML parser reads markup there


def expected_path(case: Path) -> Path:
    return case.with_name(case.name.removesuffix(".jsonl") + ".turns.jsonl")


def case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.stem}"


def renderer_of(api: str) -> str:
    """The built-in renderer module whose reader reads `api`: the folder a case lies in names its API."""
    assert api in BY_API, f"tests/corpus/{api}: no renderer in probe/apis reads API {api!r}"
    return BY_API[api].__name__


def target_for(api: str, tmp_path: Path):
    """A target file naming the renderer of `api`, as a user's target would."""
    text = (
        f"name: corpus\ndescription: corpus case\nrenderer: {renderer_of(api)}\n"
        "proxies:\n  - {name: model, listen: 0, upstream: 'https://example.invalid/'}\nagent:\n  command: ['true']\n"
    )
    path = tmp_path / "corpus.yaml"
    path.write_text(text)
    return parse_target(text, str(path), path)


def analysed(case: Path, tmp_path: Path, target) -> tuple[list[dict], str, str]:
    """turns.jsonl, report.md and the viewer's page written for the case, as `invoke analyze --input` writes them."""
    folder = tmp_path / ("with-target" if target is not None else "without-target")
    folder.mkdir()
    capture = folder / "capture.jsonl"
    capture.write_bytes(case.read_bytes())
    report, warnings = write_report(capture, folder / "report.md", target, folder)
    assert not [warning for warning in warnings if "failed" in warning], warnings  # no reader or renderer failed
    # The reader's model alone: the window, share and cache lifetime a line carries are the analysis's, and depend
    # on the price table installed (tested in tests/analyse and tests/write/test_window_outputs.py).
    analysis = set(turn_line_fields({}))
    turns = [{key: value for key, value in turn.items() if key not in analysis}
             for turn in whole_turns(folder / "turns.jsonl")]  # fmt: skip
    return turns, report.read_text(), report.with_suffix(".html").read_text()


def texts_of(turn: dict) -> list[str]:
    """Every text the turn holds that a reader of the report must be able to find: instructions, tool names and
    descriptions, the texts, names, call ids and argument values of every part, and error messages."""
    found = [block["text"] for block in turn.get("system") or []]
    for tool in turn.get("tools") or []:
        found += [tool["name"], tool["description"]]
    for item in (turn.get("input") or []) + (turn.get("output") or []):
        for part in item["parts"]:
            found += [part[field] for field in ("text", "name", "call_id") if isinstance(part.get(field), str)]
            found += string_leaves(part.get("arguments"))
    for error in turn.get("errors") or []:
        found += string_leaves(error)
    return [text for text in found if text.strip()]


def string_leaves(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in string_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in string_leaves(item)]
    return []


def shown_in(text: str, document: str) -> bool:
    """Whether the text is in the document as it is, or as a JSON string holds it (tool definitions and
    arguments are shown as JSON)."""
    text = mask_tokens_and_urls(text)
    return text in document or json.dumps(text, ensure_ascii=False)[1:-1] in document


def viewer_strings(page: str) -> str:
    """Every string of the viewer's embedded data, one per line, to search in."""
    return "\n".join(string_leaves(json.loads(DATA.search(page).group(1))))


@pytest.fixture(scope="module")
def updating() -> str:
    return os.environ.get("PROBE_CORPUS_UPDATE", "")


def test_the_corpus_covers_every_api_with_its_shapes():
    apis = {case.parent.name for case in CASES}
    assert apis == {"openai.responses", "anthropic.messages", "openai.chat_completions", "gemini.generate_content"}
    assert len(CASES) >= 40
    for case in CASES:
        assert expected_path(case).is_file(), f"{case_id(case)}: no expected turns (PROBE_CORPUS_UPDATE=1 writes them)"
    for expected in CORPUS.glob("*/*.turns.jsonl"):
        assert expected.with_name(expected.name.replace(".turns.jsonl", ".jsonl")).is_file(), expected


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_reader_reads_its_cases_into_the_expected_turns_with_or_without_a_target(case, tmp_path, updating):
    api = case.parent.name
    turns, report, page = analysed(case, tmp_path, target_for(api, tmp_path))
    expected = expected_path(case)
    if updating == "all" or (updating and not expected.exists()):
        expected.write_text("".join(json.dumps(turn, ensure_ascii=False) + "\n" for turn in turns))
    wanted = [json.loads(line) for line in expected.read_text().splitlines()]
    assert turns == wanted
    # With no target, each exchange is recognised by its path and shape and read by its API's reader all the same.
    assert analysed(case, tmp_path, None)[0] == wanted
    assert {turn["api"] for turn in turns} <= {api, "generic"}
    viewer = viewer_strings(page)
    report = report.replace(ZERO_WIDTH_SPACE, "")
    for turn in wanted:
        for text in texts_of(turn):
            assert shown_in(text, report), f"#{turn['number']}: not in report.md: {text[:200]!r}"
            assert shown_in(text, viewer), f"#{turn['number']}: not in the viewer's data: {text[:200]!r}"
