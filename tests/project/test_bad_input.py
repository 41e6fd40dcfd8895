"""Bad input of every kind gets one `error:` line and exit code 2, never a traceback, and touches nothing."""

import hashlib
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange

from probe.read import traffic

VALID_TARGET = """name: x
description: d
renderer: {renderer}
proxies: [{{name: model, listen: 0, upstream: "https://x/"}}]
agent: {{command: ["true"]}}
"""
GOOD_TARGET = VALID_TARGET.format(renderer="probe.apis.generic.report")
EXCHANGE = captured_exchange(
    "/v1/responses",
    {"model": "m", "input": "hi"},
    {"ok": True},
    host="https://x",
    request_headers=[],
    response_headers=[],
)


def probe_cli(*argv: str, cwd=PROJECT_ROOT, env: dict | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def one_error_line(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def a_capture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    capture = folder / "traffic.jsonl"
    capture.write_text(json.dumps(EXCHANGE) + "\n")
    return capture


@pytest.fixture
def renderers(tmp_path):
    """A folder of broken renderer modules on PYTHONPATH, each broken in its own way."""
    folder = tmp_path / "renderers"
    folder.mkdir()
    (folder / "raising.py").write_text("raise RuntimeError('boom at import')\n")
    (folder / "broken_syntax.py").write_text("def render_request(:\n")
    (folder / "exiting.py").write_text("import sys\nsys.exit(3)\n")
    (folder / "needs_missing.py").write_text("import no_such_dependency_anywhere\n")
    (folder / "not_renderer.py").write_text("x = 1\n")
    return folder


@pytest.mark.parametrize(
    "renderer, message",
    [
        ("nosuchmodule", 'renderer "nosuchmodule": no module named "nosuchmodule"'),
        ("raising", 'renderer "raising": cannot import it: RuntimeError: boom at import'),
        ("broken_syntax", 'renderer "broken_syntax": cannot import it: SyntaxError: '),
        ("exiting", 'renderer "exiting": cannot import it: it called exit(3)'),
        ("needs_missing", "cannot import it: ModuleNotFoundError: No module named 'no_such_dependency_anywhere'"),
        (
            "not_renderer",
            'renderer "not_renderer": is not a renderer '
            "(missing read_request, read_response, render_request, render_response)",
        ),
        ("not_renderer:nothing", 'module "not_renderer" has no attribute "nothing"'),
    ],
)
def test_a_renderer_that_fails_to_import_is_one_line(tmp_path, renderers, renderer, message):
    target = tmp_path / "x.yaml"
    target.write_text(VALID_TARGET.format(renderer=renderer))
    capture = a_capture(tmp_path / "run")
    result = probe_cli(
        "probe.analysis.analyze",
        "--input",
        str(capture),
        "--target",
        str(target),
        env={"PYTHONPATH": f"{renderers}{os.pathsep}{PROJECT_ROOT}"},
    )
    assert message in one_error_line(result)


@pytest.mark.parametrize("renderer", [".relative", "..up", "a-b", "a/b", "a:", ":b", "a::b", "a.", "exec('x')"])
def test_a_renderer_reference_that_is_not_a_module_path_is_refused_when_the_target_loads(tmp_path, renderer):
    target = tmp_path / "x.yaml"
    target.write_text(VALID_TARGET.format(renderer=json.dumps(renderer)))
    result = probe_cli("probe.analysis.analyze", "--input", str(a_capture(tmp_path / "run")), "--target", str(target))
    assert one_error_line(result).endswith(
        'renderer: expected a module path, "package.module" or "package.module:attribute"'
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("name: " + "[" * 20000 + "]" * 20000, "invalid YAML: nested too deeply"),
        ("a: &a [1, 2]\nb: *a\n" + "c: [" * 3000 + "]" * 3000, "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: x\n1: one\n", "1: unknown key"),
        (GOOD_TARGET.replace("listen: 0", "listen: true"), "proxies[0].listen: expected an integer"),
        (GOOD_TARGET.replace("listen: 0", "listen: 1e9"), "proxies[0].listen: expected an integer"),
        (
            GOOD_TARGET.replace("listen: 0", "listen: 99999999999999999999"),
            "proxies[0].listen: expected a port number between 0 and 65535",
        ),
        ('name: x\n"\\e[31mred": 1\n', "\\x1b[31mred: unknown key"),  # a YAML escape for ESC: shown, not obeyed
        (GOOD_TARGET.replace('["true"]', '["true"], env: {"A=B": "x"}'), "agent.env: 'A=B': expected a variable name"),
        (GOOD_TARGET.replace('["true"]', '["true"], env: {"": "x"}'), "agent.env: '': expected a variable name"),
        (GOOD_TARGET.replace('["true"]', '["true"], env: {"A": "x\\0y"}'), "agent.env.A: cannot hold a NUL character"),
        (GOOD_TARGET.replace('["true"]', '["tr\\0ue"]'), "agent.command[0]: cannot hold a NUL character"),
        (GOOD_TARGET + 'redact_headers: ["x-a\\0b"]\n', "redact_headers[0]: 'x-a\\x00b': expected a header name"),
        (GOOD_TARGET + 'redact_headers: ["x-a,b"]\n', "redact_headers[0]: 'x-a,b': expected a header name"),
        (GOOD_TARGET.replace("description: d", 'description: "a\\0"'), "description: cannot hold a NUL character"),
        (GOOD_TARGET + "stall_timeout: .inf\n", "stall_timeout: expected a number of seconds"),
        (
            GOOD_TARGET.replace("https://x/", "http://[::1/"),
            "proxies[0].upstream: expected http(s)://host[:port], with no path, query or user:password",
        ),
        (GOOD_TARGET.replace("https://x/", "https://x:99999/"), "proxies[0].upstream: its port is outside 0-65535"),
        (GOOD_TARGET + "upstream_proxy: http://h:70000\n", "upstream_proxy: its port is outside 0-65535"),
    ],
)
def test_bad_target_files_are_one_line(tmp_path, content, message):
    target = tmp_path / "x.yaml"
    target.write_text(content)
    assert message in one_error_line(probe_cli("probe.pipeline", "--target", str(target), "--prompt", "hi"))


def test_a_huge_target_file_is_refused_before_it_is_parsed(tmp_path):
    target = tmp_path / "x.yaml"
    target.write_text("name: x\ndescription: " + "a" * (18 << 20) + "\n")  # 18 MB: parsing it took 67 s
    line = one_error_line(probe_cli("probe.pipeline", "--target", str(target), "--prompt", "hi"))
    assert line.endswith("x.yaml: over the 1,000,000-byte limit for a target file")


def test_special_files_never_hang(tmp_path):
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    assert one_error_line(probe_cli("probe.pipeline", "--target", str(fifo), "--prompt", "hi", timeout=30)).endswith(
        "x.yaml: not a regular file"
    )
    (tmp_path / "dir.yaml").mkdir()
    assert "not a regular file" in one_error_line(
        probe_cli("probe.pipeline", "--target", str(tmp_path / "dir.yaml"), "--prompt", "hi")
    )
    run = tmp_path / "20261122-120000-devices"
    run.mkdir()
    (run / "traffic.jsonl").symlink_to("/dev/zero")
    assert "no such file" in one_error_line(probe_cli("probe.analysis.analyze", "--run", str(run), timeout=30))
    (tmp_path / "t.bin").write_bytes(b"\xff\xfe\x00name")
    os.rename(tmp_path / "t.bin", tmp_path / "latin.yaml")
    assert one_error_line(
        probe_cli("probe.pipeline", "--target", str(tmp_path / "latin.yaml"), "--prompt", "x")
    ).endswith("latin.yaml: not UTF-8 text")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--port", "model=70000"], "expected NAME=PORT with PORT from 0 to 65535"),
        (["--port", "model=-1"], "expected NAME=PORT"),
        (["--port", "model=\u0663"], "expected NAME=PORT"),  # an Arabic-Indic digit passes str.isdigit()
        (["--port", "nope=1"], "has no proxy 'nope'"),
        (["--timeout", "-1"], "argument --timeout: expected a positive number of seconds"),
        (["--timeout", "nan"], "argument --timeout: expected a positive number of seconds"),
        (["--timeout", "inf"], "argument --timeout: expected a positive number of seconds"),
        (["--prompt", ""], "argument --prompt: must not be empty"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (
            ["--scenario", "../x"],
            "argument --scenario: expected a scenario's name, 1 to 40 letters, digits or -, got '../x'",
        ),
        (["--scenario", "a" * 41], "argument --scenario: expected a scenario's name"),
        (["--target", "../../etc/passwd"], "target name '../../etc/passwd': expected lowercase letters"),
        (
            ["--upstream", "ftp://x"],
            "--upstream ftp://x: expected http(s)://host[:port], with no path, query or user:password, or `mock`",
        ),
        (["--upstream", "https://x:70000"], "--upstream https://x:70000: its port is outside 0-65535, or `mock`"),
        (
            ["--upstream-proxy", "http://x:99999"],
            "--upstream-proxy http://x:99999: its port is outside 0-65535, or none",
        ),
    ],
)
def test_bad_capture_options_are_one_line(argv, message):
    base = {"--target": "tests/data/itest.yaml", "--prompt": "hi"}
    for option in argv[::2]:
        base.pop(option, None)
    args = [item for pair in base.items() for item in pair] + argv
    for script in (["probe.pipeline"], ["probe.record", "capture"]):
        assert message in one_error_line(probe_cli(*script, *args))


@pytest.mark.parametrize(
    "upstream",
    [
        "http://probeuser:Pr0beSecret@127.0.0.1:9/",
        "https://h.example/v1?key=Pr0beSecret",
        "https://h.example/Pr0beSecret/v1",
        "https://h.example/#token=Pr0beSecret",
    ],
)
def test_an_upstream_with_credentials_is_refused_without_echoing_them(tmp_path, upstream):
    """mitmproxy's reverse mode would drop them, and they would be in its argv, the manifest and the log."""
    data = tmp_path / "data"
    for script in (["probe.pipeline"], ["probe.record", "capture"], ["probe.record", "proxies"]):
        options = [] if script[-1] == "proxies" else ["--command", "true"]
        result = probe_cli(
            *script,
            "--target",
            "tests/data/itest.yaml",
            "--upstream",
            upstream,
            *options,
            env={"PROBE_DATA_DIR": str(data)},
        )
        line = one_error_line(result)
        assert "with no path, query or user:password" in line and "Pr0beSecret" not in result.stderr + result.stdout
    assert not data.exists()  # refused before a run folder, and its manifest, existed


def test_other_scripts_refuse_bad_numbers_and_empty_names_in_one_line():
    assert "argument --port: expected a port number between 0 and 65535, got '70000'" in one_error_line(
        probe_cli("probe.mock", "--port", "70000")
    )
    assert "argument --event-delay-ms: expected a number, zero or more, got 'nan'" in one_error_line(
        probe_cli("probe.mock", "--event-delay-ms", "nan")
    )
    assert "argument --run: must not be empty" in one_error_line(probe_cli("probe.analysis.analyze", "--run", ""))
    assert (
        one_error_line(probe_cli("invoke", "bench", "--runs", "abc"))
        == "error: --runs 'abc': expected a whole number, 1 or more"
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_report_never_overwrites_a_capture(tmp_path):
    capture = a_capture(tmp_path / "run")
    other = a_capture(tmp_path / "other-run")
    (tmp_path / "link.md").symlink_to(capture)
    os.link(capture, tmp_path / "hard.md")
    before = sha(capture), sha(other)
    for output in (
        capture,
        other,
        tmp_path / "link.md",
        tmp_path / "hard.md",
        tmp_path / "x" / "traffic.jsonl",
        tmp_path / "run" / "manifest.json",
    ):
        line = one_error_line(probe_cli("probe.analysis.analyze", "--input", str(capture), "--output", str(output)))
        assert "write the report elsewhere" in line
    assert (sha(capture), sha(other)) == before


def test_bad_run_and_input_arguments(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "not a folder" in one_error_line(probe_cli("probe.analysis.analyze", "--run", str(a_file)))
    assert "no run " in one_error_line(probe_cli("probe.analysis.analyze", "--run", "20990101-000000-nothing"))
    assert "not a file" in one_error_line(probe_cli("probe.analysis.analyze", "--input", str(tmp_path)))
    assert "--output goes with --input" in one_error_line(probe_cli("probe.analysis.analyze", "--output", "x.md"))


@pytest.mark.parametrize(
    "manifest, warning",
    [
        (b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}", "manifest.json is nested too deeply; ignored"),
        (b'{"target": "' + b"x" * 1_100_000 + b'"}', "manifest.json is over the 1,000,000-byte limit; ignored"),
        (b"[1, 2]", "manifest.json is not a JSON object; ignored"),
        (b"\xff\xfe", "manifest.json is not valid JSON; ignored"),
    ],
)
def test_a_bad_manifest_is_a_warning_and_the_report_is_written(tmp_path, manifest, warning):
    run = tmp_path / "20261122-120000-bad"
    a_capture(run)
    (run / "manifest.json").write_bytes(manifest)
    result = probe_cli("probe.analysis.analyze", "--run", str(run))
    assert result.returncode == 0 and f"warning: {warning}" in result.stderr and "Traceback" not in result.stderr
    assert "- Totals: 1 exchange (" in (run / "report.md").read_text()


def test_a_manifest_that_is_a_fifo_does_not_hang(tmp_path):
    run = tmp_path / "20261122-120000-fifo"
    a_capture(run)
    os.mkfifo(run / "manifest.json")
    result = probe_cli("probe.analysis.analyze", "--run", str(run), timeout=30)
    assert result.returncode == 0 and "manifest.json is not a regular file; ignored" in result.stderr


def test_a_capture_line_over_the_limit_is_skipped_without_being_held(tmp_path, monkeypatch):
    from probe.analysis.report import build_report
    from probe.runs.importer import import_renderer

    monkeypatch.setattr(traffic, "MAX_LINE_BYTES", 1 << 20)
    capture = tmp_path / "traffic.jsonl"
    huge = dict(EXCHANGE, request=dict(EXCHANGE["request"], body={"input": "x" * (8 << 20)}))
    capture.write_text(json.dumps(EXCHANGE) + "\n")
    # A report made first loads what any report loads once (the price database the windows are looked up in, some
    # megabytes), so that the peak below is the line's alone.
    build_report(capture, import_renderer("probe.apis.generic.report"), None)
    capture.write_text("\n".join(json.dumps(entry) for entry in (EXCHANGE, huge, EXCHANGE)) + "\n")
    tracemalloc.start()
    report, warnings = build_report(capture, import_renderer("probe.apis.generic.report"), None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert warnings == [
        f"line 2: {len(json.dumps(huge)) + 1:,} bytes, over the 1,048,576-byte limit for one exchange, skipped"
    ]
    assert "- Totals: 2 exchanges" in report and "### #2 " in report
    assert peak < 6 << 20  # the 8 MB line was never held


def test_errors_and_warnings_cannot_write_control_sequences_to_the_terminal(tmp_path):
    run = tmp_path / "20261122-120000-ansi"
    a_capture(run)
    (run / "manifest.json").write_text(json.dumps({"target": "x\x1b]0;owned\x07\nsecond line"}))
    result = probe_cli("probe.analysis.analyze", "--run", str(run))
    assert result.returncode == 0 and "\x1b" not in result.stderr and "\x07" not in result.stderr
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert "second line" in warning  # still one line
