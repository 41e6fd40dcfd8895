"""The code a report is made from is found by reading import statements, through every probe module on the way."""

from probe.code_files import source_files
from probe.paths import PROJECT_ROOT

PROBE = PROJECT_ROOT / "probe"


def names(module: str) -> set[str]:
    return {str(path.relative_to(PROBE)) if path.is_relative_to(PROBE) else path.name for path in source_files(module)}


def test_a_renderer_brings_its_reader_and_what_they_import_but_not_the_capture_side():
    found = names("probe.renderers.openai_responses")
    assert {"renderers/openai_responses.py", "readers/openai_responses.py", "conversation.py", "sse.py",
            "turn_markdown.py", "markdown.py", "renderers/__init__.py", "readers/__init__.py",
            "__init__.py"} <= found  # fmt: skip
    assert not {"capture_addon.py", "proxies.py", "renderers/anthropic_messages.py", "analyze.py"} & found


def test_the_analyzer_brings_its_own_modules_and_every_built_in_reader_and_renderer_but_not_the_mock():
    """Each exchange is read by its own API's reader, so a report is made from all of them: a change to any
    reader or renderer rebuilds every report."""
    found = names("probe.analyze")
    assert {"analyze.py", "markdown.py", "turns.py", "traffic.py", "derived.py", "rebuild.py"} <= found
    apis = ("openai_responses", "anthropic_messages", "openai_chat", "gemini", "generic")
    assert {f"{folder}/{api}.py" for folder in ("readers", "renderers") for api in apis} <= found
    assert {"readers/recognise.py", "renderers/built_in.py"} <= found
    assert not any(name.startswith("mock/") for name in found)


def test_relative_and_attribute_imports_are_followed(tmp_path, monkeypatch):
    assert {"mock/server.py", "mock/responses_api.py", "mock/messages_api.py"} <= names("probe.mock.server")
    (tmp_path / "own_module.py").write_text(
        "import os\nimport probe.sse\nfrom probe import markdown as md\nfrom probe.keypaths import KeyPaths\n"
        "def later():\n    from probe.dedupe import changes\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = names("own_module")
    assert {"own_module.py", "sse.py", "markdown.py", "keypaths.py", "dedupe.py", "__init__.py"} <= found
    assert "os.py" not in found
