"""A PyPI agent may need a newer Python than the one running agent-probe (`agent.install.python`): its virtualenv is
made with the oldest interpreter that is at least that version, found on PATH or under pyenv's versions folder."""

import sys

import pytest

from probe.capture import pythons
from probe.common.errors import ToolMissing


def fake_python(folder, minor: int, works: bool = True):
    """A program answering as Python 3.`minor` would to the finder's question, or failing as an unselected pyenv
    shim does."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / f"python3.{minor}"
    program.write_text(f"#!/bin/sh\n{'echo ' + str(minor) if works else 'echo not selected >&2; exit 127'}\n")
    program.chmod(0o755)
    return program


def test_the_running_python_serves_when_it_is_new_enough():
    assert pythons.interpreter(None) == sys.executable
    assert pythons.interpreter(f"3.{sys.version_info[1]}") == sys.executable


def test_a_newer_one_is_found_past_a_shim_that_refuses_it(tmp_path, monkeypatch):
    wanted = sys.version_info[1] + 7  # newer than any Python this runs on
    shims = fake_python(tmp_path / "shims", wanted, works=False)
    real = fake_python(tmp_path / "pyenv" / "versions" / f"3.{wanted}.1" / "bin", wanted)
    older = fake_python(tmp_path / "pyenv" / "versions" / f"3.{wanted}.0" / "bin", wanted)
    monkeypatch.setenv("PATH", f"{shims.parent}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    assert pythons.interpreter(f"3.{wanted}") == str(real)  # the shim is passed over, the newest patch taken
    assert older.is_file()
    newer = fake_python(tmp_path / "bin", wanted + 1)
    monkeypatch.setenv("PATH", f"{newer.parent}:{shims.parent}:/usr/bin:/bin")
    assert pythons.interpreter(f"3.{wanted}") == str(real)  # the oldest that is new enough, wherever it is
    assert pythons.interpreter(f"3.{wanted + 1}") == str(newer)


def test_none_found_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    wanted = sys.version_info[1] + 7
    with pytest.raises(ToolMissing) as missing:
        pythons.interpreter(f"3.{wanted}")
    assert str(missing.value) == (
        f"this agent needs Python 3.{wanted} or newer, and none was found (python3.{wanted} or newer on PATH or "
        "under pyenv's versions): install one, or run agent-probe itself with it"
    )
