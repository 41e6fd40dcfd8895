"""Starts a run's live viewer (its traffic.jsonl followed from the first line, the page served), says where it
is, and ends it: when the run has ended, the page is told so; when the viewer closes, the server stops."""

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from probe.common.errors import ProbeError, warn
from probe.common.lines import MAX_LINE_BYTES
from probe.read.follow import Follower
from probe.runs.folders import being_recorded
from probe.write.live.run_data import LiveData
from probe.write.live.server import LiveServer

DRAIN_TIMEOUT = 30.0  # seconds the viewer gets, once mitmdump has stopped, to read what it wrote last
RECORDING_CHECK = 0.5  # seconds between looks at whether another process still records the run


class LiveViewer:
    """One run's viewer: `start` it, call `run_ended` once the run is over (its manifest says how), `close` it."""

    def __init__(self, data: LiveData) -> None:
        self.data = data
        # It keeps its priority (the terminal's live feed gives way): someone watches the page.
        self.follower = Follower(
            self.data.traffic, self.data.take, self.data.failed, MAX_LINE_BYTES, from_start=True, humble=False
        )
        self.server = LiveServer(self.data)

    def start(self, out: TextIO | None = None) -> "LiveViewer":
        # While the agent starts up, before its first exchange: the page's first news is not kept waiting by it.
        threading.Thread(target=LiveData.warm_up, name="probe-live-warm-up", daemon=True).start()
        self.follower.start()
        self.server.start()
        print(f"live viewer: {self.server.url} (Ctrl-C stops it)", file=out or sys.stdout, flush=True)
        return self

    def drain(self, timeout: float | None = DRAIN_TIMEOUT) -> None:
        """Read what was written up to now, then stop following."""
        self.follower.stop(timeout)

    def run_ended(self) -> None:
        """Every line is written and the manifest says how the run ended: the page is told once it has them all."""
        self.drain(None)
        self.data.end()

    def close(self) -> None:
        self.server.close()
        self.follower.stop(0)


def open_viewer(data: LiveData) -> LiveViewer:
    """The viewer of a run folder, recorded now by another process or long done: it follows the run until that
    process has closed it."""
    run = data.run
    viewer = LiveViewer(data).start()

    def follow_to_the_end() -> None:
        while being_recorded(run):
            time.sleep(RECORDING_CHECK)
        viewer.run_ended()

    threading.Thread(target=follow_to_the_end, name="probe-live-end", daemon=True).start()
    return viewer


def wait_until_stopped() -> None:
    """Serve until Ctrl-C (or a stop signal the caller turns into KeyboardInterrupt)."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return


class PipelineViewer:
    """The viewer of the run a capture is about to record, its data made by `data_of(run folder)`: `watch` is the
    capture's (started once the run folder exists, its stop called once mitmdump has stopped)."""

    def __init__(self, data_of: Callable[[Path], LiveData]) -> None:
        self.data_of = data_of
        self.viewer: LiveViewer | None = None

    def watch(self, traffic: Path) -> Callable[[], None]:
        try:
            self.viewer = LiveViewer(self.data_of(traffic.parent)).start()
        except (ProbeError, OSError) as error:
            warn(f"no live viewer: {error}")
            return lambda: None
        return self.viewer.drain
