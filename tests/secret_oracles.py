"""Two established secret scanners as oracles: detect-secrets (PyPI, every plugin, its keyword detector among them)
and secretlint with its recommended preset (npm, pinned in tests/secretlint_install.py, installed into
.agents/secretlint on first use). Each returns what it found, as (scanner, file, the text it flagged).

Both are started once for all the files of a test, not once per file: secretlint's start costs seconds, and
detect-secrets loads its plugins anew each time its settings are entered."""

import contextlib
import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import detect_secrets.core.scan
import secretlint_install
from conftest import PROJECT_ROOT
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings
from detect_secrets.util.code_snippet import get_code_snippet

SECRETLINT_RULES = {"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}

Finding = tuple[str, str, str]


def detect_secrets_findings(paths: list[Path]) -> list[Finding]:
    """detect-secrets with every plugin over every file, each file's findings its own (as a scan of it alone)."""
    collection = SecretsCollection()
    with default_settings(), lines_judged_once():  # every plugin
        for path in paths:
            collection.scan_file(str(path))
    return [("detect-secrets", shown(Path(name)), secret.secret_value or "") for name, secret in collection]


@contextlib.contextmanager
def lines_judged_once() -> Iterator[None]:
    """detect-secrets judges a line by the line, its file's name and the five lines either side of it, nothing
    else. A recorded answer repeats its events (a large body is one answer fifty times, and the flows and the
    exports hold it again): a line met again in the same file, with the same lines about it, gets the verdict it
    got the first time instead of running every plugin and filter on it again. That is where the scan of a run
    folder spends its minutes; what is found is the same (test_secret_oracles checks it against the plain scan)."""
    scan = detect_secrets.core.scan
    original = scan._process_line_based_plugins
    scan._process_line_based_plugins = remembered_verdicts
    try:
        yield
    finally:
        scan._process_line_based_plugins = original


def remembered_verdicts(lines: list[tuple[int, str]], filename: str) -> Iterator:
    """detect-secrets 1.5.0's `_process_line_based_plugins` (pinned in pyproject.toml), with each line's verdict
    kept by what it depends on; a secret found again is reported at the line it is found at."""
    scan = detect_secrets.core.scan
    line_content = [line for _, line in lines]
    verdicts: dict[tuple[tuple[str, ...], int], list] = {}
    for line_number, line in lines:
        code_snippet = get_code_snippet(lines=line_content, line_number=line_number)
        seen = (tuple(code_snippet.lines), code_snippet.target_index)
        if seen not in verdicts:
            verdicts[seen] = list(line_verdict(scan, filename, line.rstrip(), line_number, code_snippet))
        for secret in verdicts[seen]:
            found_here = copy.copy(secret)
            found_here.line_number = line_number
            yield found_here


def line_verdict(scan, filename: str, line: str, line_number: int, code_snippet) -> Iterator:
    """The body of detect-secrets 1.5.0's loop over a file's lines, as it is there: the line's filters, then each
    plugin with the filters of what it found."""
    if scan._is_filtered_out(required_filter_parameters=["line"], filename=filename, line=line, context=code_snippet):
        return
    yield from (
        secret
        for plugin in scan.get_plugins()
        for secret in scan._scan_line(
            plugin=plugin, filename=filename, line=line, line_number=line_number, context=code_snippet
        )
        if not scan._is_filtered_out(
            required_filter_parameters=["context"],
            filename=secret.filename,
            secret=secret.secret_value,
            plugin=plugin,
            line=line,
            context=code_snippet,
        )
    )


def secretlint_findings(paths: list[Path], scratch: Path) -> list[Finding]:
    return secretlint_read(secretlint_started(paths, scratch))


def scanners_findings(paths: list[Path], scratch: Path) -> list[Finding]:
    """Both scanners over every file, each started once: secretlint runs while detect-secrets scans."""
    secretlint = secretlint_started(paths, scratch)
    try:
        found = detect_secrets_findings(paths)
    except BaseException:
        secretlint.kill()
        secretlint.wait()
        raise
    return found + secretlint_read(secretlint)


def secretlint_started(paths: list[Path], scratch: Path) -> subprocess.Popen:
    secretlint = secretlint_install.ensure_installed()
    rules = scratch / "secretlintrc.json"
    rules.write_text(json.dumps(SECRETLINT_RULES))
    command = [str(secretlint), "--secretlintrc", str(rules), "--format", "json", "--no-maskSecrets", *map(str, paths)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def secretlint_read(process: subprocess.Popen) -> list[Finding]:
    """What secretlint found, once it has ended."""
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert stdout.strip().startswith("["), stderr
    found = []
    for report in json.loads(stdout):
        source = report.get("sourceContent") or Path(report["filePath"]).read_text(errors="replace")
        for message in report["messages"]:
            start, end = message["range"]
            found.append(("secretlint", shown(Path(report["filePath"])), source[start:end]))
    return found


def shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def leaks(found: list[Finding], secrets: list[str]) -> list[Finding]:
    """The findings that are one of the corpus's secrets, hold one, or are a long enough piece of one."""
    return [
        finding
        for finding in found
        if any(secret in finding[2] or (len(finding[2]) >= 8 and finding[2] in secret) for secret in secrets)
    ]


def probe(*argv: str, data_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """A command of the project (`probe.analysis.analyze`, …) run as a user runs it, on the data folder given."""
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PROBE_DATA_DIR": str(data_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result


def flows_as_text(path: Path) -> str:
    """mitmproxy's flow file as mitmproxy reads it back: each request's and response's URL, headers and body."""
    from mitmproxy import io

    lines = []
    with path.open("rb") as stream:
        for flow in io.FlowReader(stream).stream():
            for message in (flow.request, flow.response):
                if message is not None:
                    lines += [f"{name}: {value}" for name, value in message.headers.items(multi=True)]
                    lines.append(message.get_text(strict=False) or "")
            lines.append(flow.request.url)
    return "\n".join(lines)
