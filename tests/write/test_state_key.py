"""The key that signs saved readings is used only when it and its folder are the analysing user's own and closed to
others: a saved reading is a pickle, so a key another user could have written would let that user run code as
whoever analyses next (root, say). Otherwise nothing is signed or loaded, and the analysis says so in one line."""

import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from test_resume import analyse, append, full_analysis, grown_run, outputs

from probe.analysis.resume import FOLDER, MAGIC
from probe.common import state_key as state_key_module
from probe.common.state_key import signature, state_dir, state_key

ANOTHER_USER = 65534  # nobody


class Planted:
    """What a forged saved reading holds: loading it writes a file, as any code it might run could."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    """A state folder of the test's own, whose key and modes it may spoil; and the refusal heard anew (the key module
    says a problem once a process)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    state_key_module.said.clear()


def key_path() -> Path:
    return state_dir() / "state.key"


def make_foreign(monkeypatch, *paths: Path) -> None:
    """Make `paths` another user's: given to `nobody` when the tests run as root (as in CI), else seen from another
    user id (a user cannot give files away)."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, ANOTHER_USER, ANOTHER_USER, follow_symlinks=False)
    else:
        monkeypatch.setattr(state_key_module.os, "geteuid", lambda: os.getuid() + 1)


def forged_reading(run: Path, marker: Path) -> None:
    """Replace the run's saved reading with one that runs code when loaded, signed with this machine's key as the
    owner of a key could sign it; its description of the capture is kept, so that it would be started from."""
    path = run / FOLDER / "state"
    data = path.read_bytes()
    body = data[len(MAGIC) + 32 :]
    size = int.from_bytes(body[:8], "big")
    meta = json.loads(body[8 : 8 + size]) | {"after": 0}  # (nothing saved after the run's end)
    described = json.dumps(meta).encode()
    forged = len(described).to_bytes(8, "big") + described + pickle.dumps(Planted(marker))
    path.write_bytes(MAGIC + signature(key_path().read_bytes(), forged) + forged)


def test_the_key_is_made_private_in_a_private_folder():
    key = state_key()
    assert key is not None and len(key) == 32
    assert key_path().read_bytes() == key
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir().stat().st_mode) == 0o700
    assert state_key() == key


def test_a_forged_reading_signed_with_a_trusted_key_would_run_code(tmp_path):
    """The control for the tests below: with the key trusted, the forgery is loaded and its code runs."""
    run, more = grown_run(tmp_path)
    marker = tmp_path / "PWNED"
    forged_reading(run, marker)
    append(run, more[0])
    with pytest.raises(Exception):  # noqa: B017 (what the planted object becomes breaks the analysis after)
        analyse(run)
    assert marker.read_text() == "code ran"


@pytest.mark.parametrize("foreign", ["key", "folder", "both"])
def test_a_key_or_folder_of_another_user_signs_and_loads_nothing(tmp_path, monkeypatch, capsys, foreign):
    run, more = grown_run(tmp_path)
    marker = tmp_path / "PWNED"
    forged_reading(run, marker)
    forged = (run / FOLDER / "state").read_bytes()
    owned = {"key": [key_path()], "folder": [state_dir()], "both": [key_path(), state_dir()]}[foreign]
    make_foreign(monkeypatch, *owned)
    append(run, more[0])
    analyse(run)
    assert not marker.exists()
    assert (run / FOLDER / "state").read_bytes() == forged  # nothing new signed and saved
    assert outputs(run) == full_analysis(run, None)[0]  # read whole, as if nothing had been saved
    told = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    # One line, however many times the analysis asked for the key; the folder is checked first.
    what = "key" if foreign == "key" else "folder"
    assert len(told) == 1, told
    assert f"the {what} belongs to another user (uid " in told[0]
    assert "nothing is saved to pick up" in told[0]


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777, 0o1777])
def test_a_folder_others_may_write_to_signs_and_loads_nothing(tmp_path, capsys, mode):
    run, more = grown_run(tmp_path)
    marker = tmp_path / "PWNED"
    forged_reading(run, marker)
    forged = (run / FOLDER / "state").read_bytes()
    state_dir().chmod(mode)
    append(run, more[0])
    analyse(run)
    assert not marker.exists()
    assert (run / FOLDER / "state").read_bytes() == forged
    assert f"the folder has mode {mode:04o}, open to other users" in capsys.readouterr().err


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o606])
def test_a_key_others_may_read_or_write_is_not_used(mode, capsys):
    state_key()
    key_path().chmod(mode)
    assert state_key() is None
    assert f"the key has mode {mode:04o}, open to other users" in capsys.readouterr().err


def test_a_link_in_the_keys_place_or_the_folders_is_not_followed(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "state.key").write_bytes(b"k" * 32)
    (elsewhere / "state.key").chmod(0o600)
    state_dir().parent.mkdir(parents=True)
    state_dir().symlink_to(elsewhere)
    assert state_key() is None  # the folder is a link
    state_dir().unlink()
    state_dir().mkdir(mode=0o700)
    key_path().symlink_to(elsewhere / "state.key")
    assert state_key() is None
    assert "state.key: it cannot be opened" in capsys.readouterr().err


def test_a_key_that_is_not_a_file_of_32_bytes_is_not_used(capsys):
    state_dir().mkdir(parents=True, mode=0o700)
    key_path().write_bytes(b"short")
    key_path().chmod(0o600)
    assert state_key() is None
    key_path().unlink()
    os.mkfifo(key_path(), 0o600)
    assert state_key() is None  # and does not wait for a writer
    err = capsys.readouterr().err
    assert "it holds 5 bytes, not 32" in err and "it is not a regular file" in err


def test_with_a_folder_of_another_user_no_reading_is_saved(tmp_path, monkeypatch, capsys):
    state_dir().mkdir(parents=True, mode=0o700)
    make_foreign(monkeypatch, state_dir())
    run, _ = grown_run(tmp_path)
    assert not (run / FOLDER / "state").exists()
    assert "the folder belongs to another user" in capsys.readouterr().err
