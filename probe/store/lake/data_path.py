"""The lake's data path on this machine: the folder (or object-store prefix) its files may be read from and written
to, and a line when every user of the machine may write that folder."""

import os
import stat
from pathlib import Path

from probe.common.errors import UsageError, warn
from probe.common.paths import display


def is_url(path: str) -> bool:
    return "://" in path


def as_prefix(path: str) -> str:
    """The data path as DuckDB's allowed_directories takes it: a folder absolute, with its links followed (DuckDB
    checks the path it opens), and a trailing slash, so that `/lake` does not also allow `/lake-other`."""
    if is_url(path):
        return path if path.endswith("/") else path + "/"
    return os.path.join(os.path.realpath(Path(path).expanduser()), "")


def refuse_broad(folder: str) -> None:
    """A data path named only by the catalog that is the root, or holds, is or lies in the user's home, is a
    UsageError: the lake's lock lets DuckDB read and write in it, and a catalog writer chose it."""
    if not folder or is_url(folder):
        return
    where = Path(os.path.realpath(Path(folder).expanduser()))
    home = Path(os.path.realpath(Path.home()))
    if where == where.parent or where == home or where in home.parents or home in where.parents:
        raise UsageError(
            f"lake: its catalog names {display(where)} as the lake's data path, which is the root or your home: give "
            "--lake-data PATH (or PROBE_LAKE_DATA, or data in the config file) to say where the lake's files are"
        )


def writable_by_everyone(path: str) -> str | None:
    """Why others may write the data path, or None: the folder it names (its links followed) is writable by every
    user of this machine, who could then add, replace or remove the lake's files."""
    if is_url(path):
        return None
    given = Path(path).expanduser()
    try:
        mode = given.stat().st_mode
    except OSError:
        return None  # (not made yet: DuckLake makes it, with the user's umask)
    if not mode & stat.S_IWOTH:
        return None
    where = os.path.realpath(given)
    if given.is_symlink() or where != os.path.abspath(given):
        return f"lake data path {display(given)} leads to {where}, which every user of this machine may write"
    return f"lake data path {display(given)} is a folder every user of this machine may write"


def say_if_writable_by_everyone(path: str | None) -> None:
    why = writable_by_everyone(path) if path else None
    if why:
        warn(f"{why}: anyone here can change the lake's files")
