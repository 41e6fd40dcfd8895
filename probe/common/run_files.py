"""A file of a run folder opened for reading as the file it is: never through a link, never a FIFO or device."""

import os
import stat
from pathlib import Path


def opened(run: Path, name: str) -> int | None:
    """A descriptor of the run folder's `name`, a regular file opened without following a link (a link could name
    anything on this machine); None when there is no such file, or it is something else."""
    try:
        fd = os.open(run / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd
