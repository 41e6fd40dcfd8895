"""Which versions a releases run takes, from the registry's listing as npm and pip print it."""

import json

import pytest

from probe.common.errors import ToolMissing, UsageError
from probe.releases import versions
from probe.runs.install import Install

CODEX = Install("@openai/codex", "0.169.0", "codex")
AIDER = Install(None, "0.86.1", "aider", pypi="aider-chat")
# As `npm view @openai/codex versions --json` prints it: platform builds and pre-releases among the releases.
NPM_OUTPUT = json.dumps(
    [
        "0.166.0",
        "0.167.0-alpha.1",
        "0.167.0",
        "0.168.0",
        "0.169.0",
        "0.169.0-linux-x64",
        "0.170.0-rc.2",
        "0.171.0-linux-x64",
        "0.171.0",
        "0.172.0-nightly.20261127",
        "0.99.0",
    ]
)
# As `pip index versions aider-chat` prints it (newest first), with its warning.
PIP_OUTPUT = """WARNING: pip index is currently an experimental command. It may be removed/changed in a future release.
aider-chat (0.87.0)
Available versions: 0.87.0, 0.87.0rc1, 0.86.2, 0.86.2.dev3, 0.86.1, 0.9.0
"""


def test_npm_listing_keeps_releases_only_in_version_order():
    listed = versions.npm_listing(NPM_OUTPUT)
    assert versions.releases(listed, "npm") == ["0.99.0", "0.166.0", "0.167.0", "0.168.0", "0.169.0", "0.171.0"]
    assert versions.npm_listing('"1.0.0"') == ["1.0.0"]  # npm prints a lone version as a string


def test_pypi_listing_keeps_releases_only_in_version_order():
    listed = versions.pypi_listing(PIP_OUTPUT)
    assert versions.releases(listed, "pypi") == ["0.9.0", "0.86.1", "0.86.2", "0.87.0"]


def test_since_takes_the_baseline_then_every_later_release():
    listed = versions.npm_listing(NPM_OUTPUT)
    assert versions.choose(listed, CODEX, since="pinned") == ["0.169.0", "0.171.0"]
    assert versions.choose(listed, CODEX) == ["0.169.0", "0.171.0"]  # --since pinned is the default
    assert versions.choose(listed, CODEX, since="0.167.0") == ["0.167.0", "0.168.0", "0.169.0", "0.171.0"]
    pip = versions.pypi_listing(PIP_OUTPUT)
    assert versions.choose(pip, AIDER, since="pinned") == ["0.86.1", "0.86.2", "0.87.0"]


def test_last_takes_the_newest_releases():
    listed = versions.npm_listing(NPM_OUTPUT)
    assert versions.choose(listed, CODEX, last=3) == ["0.168.0", "0.169.0", "0.171.0"]
    assert versions.choose(listed, CODEX, last=50)[0] == "0.99.0"


def test_versions_named_are_ordered_and_each_must_be_listed():
    listed = versions.npm_listing(NPM_OUTPUT)
    assert versions.choose(listed, CODEX, versions=["0.171.0", "0.166.0"]) == ["0.166.0", "0.171.0"]
    with pytest.raises(UsageError, match=r"^npm has no version 0\.170\.0, 9\.9\.9 of @openai/codex$"):
        versions.choose(listed, CODEX, versions=["0.170.0", "0.171.0", "9.9.9"])
    with pytest.raises(UsageError, match=r"^npm has no version 0\.170\.1 of @openai/codex$"):
        versions.choose(listed, CODEX, since="0.170.1")


def test_a_listing_that_is_not_one_is_a_one_line_error():
    with pytest.raises(ToolMissing, match="npm's list of versions is not JSON"):
        versions.npm_listing("<html>")
    with pytest.raises(ToolMissing, match="not a list of versions"):
        versions.npm_listing('{"error": 1}')
    with pytest.raises(ToolMissing, match="no `Available versions:` line"):
        versions.pypi_listing("ERROR: No matching distribution found for aider-chat")
