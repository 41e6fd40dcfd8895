"""Opens a run's report.html in the default browser, bringing it up to date first; prints its path either way.
With --live, serves the viewer from 127.0.0.1 instead, growing while the run is recorded, until Ctrl-C."""

import sys
import webbrowser

from probe.analysis.report import refresh, viewer_reading
from probe.common import cli
from probe.common.errors import run_main, warn
from probe.common.paths import display
from probe.runs.folders import resolve_run
from probe.runs.targets import load_target
from probe.write.live.run_data import LiveData
from probe.write.live.viewer import open_viewer, wait_until_stopped
from probe.write.report_paths import viewer_path


def open_in_browser(path) -> bool:
    """Whether a browser took the page: False on a machine without one (a server, CI), where only the path helps."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return browser.open(path.resolve().as_uri())


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.view", description=__doc__)
    parser.add_argument("--run", type=cli.not_empty, metavar="RUN", default="latest",
                        help="`latest` (default), a run folder name, or a run folder path")  # fmt: skip
    parser.add_argument("--target", metavar="NAME|FILE", help="with --run latest, the newest run of this target")
    parser.add_argument("--live", action="store_true",
                        help="serve the viewer from 127.0.0.1 at an address with a random token, following the run "
                        "while it is recorded, until Ctrl-C")  # fmt: skip
    args = parser.parse_args(argv)
    target = load_target(args.target) if args.target else None
    run = resolve_run(args.run, target.name if target else None)
    if args.live:
        reading, job = viewer_reading(run, target)
        viewer = open_viewer(LiveData(job.traffic, reading, job.warnings))
        wait_until_stopped()
        viewer.close()
        return 0
    refreshed = refresh(run, target)
    for warning in refreshed.warnings:
        warn(warning)
    page = viewer_path(refreshed.report)
    if open_in_browser(page):
        print(f"viewer: {display(page)} (opened in the browser)")
    else:
        print(f"viewer: {display(page)} (no browser found here: open it in one)")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
