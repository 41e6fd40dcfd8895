"""Two established secret scanners as oracles: detect-secrets (PyPI, every plugin, its keyword detector among them)
and secretlint with its recommended preset (npm, installed by .ci/run into .agents/secretlint). Each returns what
it found, as (scanner, file, the text it flagged)."""

import json
import subprocess
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
