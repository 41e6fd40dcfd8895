"""Two established secret scanners as oracles: detect-secrets (PyPI, every plugin, its keyword detector among them)
and secretlint with its recommended preset (npm, installed by .ci/run into .agents/secretlint). Each returns what
it found, as (scanner, file, the text it flagged)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

SECRETLINT = PROJECT_ROOT / ".agents/secretlint/node_modules/.bin/secretlint"
SECRETLINT_RULES = {"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}


def detect_secrets_findings(paths: list[Path]) -> list[tuple[str, str, str]]:
    found = []
    for path in paths:
        collection = SecretsCollection()
        with default_settings():  # every plugin
            collection.scan_file(str(path))
        found += [("detect-secrets", shown(path), secret.secret_value or "") for _, secret in collection]
    return found


def secretlint_findings(paths: list[Path], scratch: Path) -> list[tuple[str, str, str]]:
    assert SECRETLINT.is_file(), f"secretlint is not installed at {SECRETLINT}: .ci/run installs it"
    rules = scratch / "secretlintrc.json"
    rules.write_text(json.dumps(SECRETLINT_RULES))
    result = subprocess.run(
        [str(SECRETLINT), "--secretlintrc", str(rules), "--format", "json", "--no-maskSecrets", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip().startswith("["), result.stderr
    found = []
    for report in json.loads(result.stdout):
        source = report.get("sourceContent") or Path(report["filePath"]).read_text(errors="replace")
        for message in report["messages"]:
            start, end = message["range"]
            found.append(("secretlint", shown(Path(report["filePath"])), source[start:end]))
    return found


def shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def leaks(found: list[tuple[str, str, str]], secrets: list[str]) -> list[tuple[str, str, str]]:
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
