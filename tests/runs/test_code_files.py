"""The code a report is made from is found by reading import statements, through every probe module on the way."""

import ast

from probe.common.paths import PROJECT_ROOT
from probe.runs.code_files import import_statements, source_files

PROBE = PROJECT_ROOT / "probe"


def names(module: str) -> set[str]:
    return {str(path.relative_to(PROBE)) if path.is_relative_to(PROBE) else path.name for path in source_files(module)}


def test_a_renderer_brings_its_reader_and_what_they_import_but_not_the_capture_side():
    found = names("probe.apis.openai_responses.report")
    assert {"apis/openai_responses/report.py", "apis/openai_responses/reader.py", "read/conversation.py",
            "read/sse.py", "apis/turn_markdown.py", "common/markdown.py", "apis/openai_responses/__init__.py",
            "apis/__init__.py", "__init__.py"} <= found  # fmt: skip
    assert not {"capture/recorder/addon.py", "capture/proxies.py", "apis/anthropic_messages/report.py",
                "analysis/report.py"} & found  # fmt: skip


def test_the_analyzer_brings_its_own_modules_and_every_built_in_reader_and_renderer_but_not_the_mock():
    """Each exchange is read by its own API's reader, so a report is made from all of them: a change to any
    reader or renderer rebuilds every report."""
    found = names("probe.analysis.report")
    assert {"analysis/report.py", "common/markdown.py", "apis/turns.py", "read/traffic.py", "runs/ledger.py",
            "write/report_header.py", "write/exchange_markdown.py", "apis/choice.py"} <= found  # fmt: skip
    apis = ("openai_responses", "anthropic_messages", "openai_chat", "gemini", "generic")
    assert {f"apis/{api}/{part}.py" for part in ("reader", "report") for api in apis} <= found
    assert {"apis/recognise.py", "apis/built_in.py"} <= found
    assert not any(name.startswith("mock/") for name in found)


def test_relative_and_attribute_imports_are_followed(tmp_path, monkeypatch):
    assert {"mock/server.py", "mock/responses_api.py", "mock/messages_api.py"} <= names("probe.mock.server")
    (tmp_path / "own_module.py").write_text(
        "import os\nimport probe.read.sse\nfrom probe.common import markdown as md\n"
        "from probe.analyse.keypaths import KeyPaths\n"
        "def later():\n    from probe.read.dedupe import changes\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = names("own_module")
    assert {
        "own_module.py",
        "read/sse.py",
        "common/markdown.py",
        "analyse/keypaths.py",
        "read/dedupe.py",
        "__init__.py",
    } <= found
    assert "os.py" not in found


def test_walking_statements_finds_every_import_a_walk_of_every_node_finds_in_the_package():
    modules = sorted(PROBE.rglob("*.py"))
    assert len(modules) > 100
    for path in modules:
        tree = ast.parse(path.read_bytes())
        every = sorted(ast.dump(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))
        assert sorted(ast.dump(node) for node in import_statements(tree)) == every, path
