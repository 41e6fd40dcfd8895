"""What reaches npm's command line: only plain package names at exact versions, for the package and for each one
installed beside it; anything else is refused in one line before npm runs or a folder is made."""

import pytest

from probe.capture import npm
from probe.common.errors import ToolMissing


@pytest.mark.parametrize(
    ("package", "version", "beside", "refused"),
    [
        ("--prefix=/", "1.0.0", (), "'--prefix=/' at version '1.0.0'"),
        ("secretlint", "latest", (), "'secretlint' at version 'latest'"),
        ("secretlint", "13.0.6", (("@scope/rules", "^13"),), "'@scope/rules' at version '^13'"),
        ("secretlint", "13.0.6", (("git+https://x/y.git", "1.0.0"),), "'git+https://x/y.git' at version '1.0.0'"),
    ],
)
def test_only_plain_names_at_exact_versions_reach_npm(tmp_path, monkeypatch, package, version, beside, refused):
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm-here"))  # were npm reached, it would say it is missing
    with pytest.raises(ToolMissing) as error:
        npm.install(package, version, tmp_path / "folder", beside=beside)
    assert str(error.value) == f"will not ask npm for {refused}"
    assert list(tmp_path.iterdir()) == []
