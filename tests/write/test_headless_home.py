"""The project's headless Chromium writes nothing into the user's home: with HOME and every XDG folder pointing at
folders of the test's own, a page opened and the browser closed leave them empty (its crash reports and caches go to
folders of its own, removed with it)."""

import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

OPEN_A_PAGE = """
import sys
from pathlib import Path
from probe.write.viewer.headless import chromium, open_page
page_file = Path(sys.argv[1])
page_file.write_text("<!doctype html><html data-ready='1'><p>hello from a page</p></html>")
with chromium() as browser:
    watched = open_page(browser, page_file)
    print(watched.text())
"""


@pytest.mark.browser
@pytest.mark.slow  # over five seconds: a browser of its own
def test_headless_chromium_leaves_the_users_home_and_xdg_folders_empty(tmp_path):
    folders = {name: tmp_path / name for name in ("home", "config", "cache", "data", "state")}
    for folder in folders.values():
        folder.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folders["home"]), "XDG_CONFIG_HOME": str(folders["config"]),
           "XDG_CACHE_HOME": str(folders["cache"]), "XDG_DATA_HOME": str(folders["data"]),
           "XDG_STATE_HOME": str(folders["state"]), "PYTHONPATH": str(PROJECT_ROOT)}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", OPEN_A_PAGE, str(tmp_path / "page.html")], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "hello from a page" in result.stdout
    assert {name: sorted(p.name for p in folder.rglob("*")) for name, folder in folders.items()} == {
        name: [] for name in folders
    }
