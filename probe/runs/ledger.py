"""What each derived file in a run folder is made from, and whether it is out of date, decided as make does:
an output is rebuilt when it is missing or older than anything it is made from.

This is the one place the dependencies are declared. A step that makes more files from a run (the HTML viewer,
the exports) adds its Rule here, and `analyze --run all` and the sample replay pick it up.
"""

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from probe.common.paths import display
from probe.runs.code_files import source_files
from probe.runs.folders import private_replacement

STAMP_LIMIT = 64 * 1024  # bytes of an output's head searched for its stamp line
LEDGER = ".made-here.json"  # beside the outputs: which files this machine made (see not_made_here)
LEDGER_LIMIT = 64 * 1024  # bytes; the ledger may come with a run folder from elsewhere, like everything in it
SAMPLE_MARK = "-sample-"  # in a run folder's name: a bundled sample, with committed derived files
SAMPLE_PRICES = "sample-prices.yaml"  # in the data folder, beside the samples' folders: what they are priced with
# What the viewer's page is made of besides the run's data: its script and style, inlined into every report.html
# (probe.write.viewer.page reads them from here, so the list is kept once).
VIEWER_FOLDER = Path(__file__).resolve().parents[1] / "write" / "viewer"
# The script's parts, joined in this order into one inline script (they share its scope: each uses what the ones
# before it define), and the style sheets, joined likewise. live.js comes last: it asks a live page's server for
# more once the page is built.
# The vendored chart library (vendor/README.md) comes right after base.js, whose "use strict" opens the script.
VIEWER_SCRIPTS = tuple(
    VIEWER_FOLDER / name
    for name in (
        "js/base.js", "vendor/uPlot.iife.min.js", "js/turn_facts.js", "js/window_words.js", "js/sidebar_facts.js",
        "js/sidebar_filter.js", "js/sidebar_fold.js", "js/sidebar.js", "js/run_panel.js", "js/chart.js",
        "js/overview_data.js", "js/overview_window.js", "js/overview_charts.js", "js/overview_cost.js",
        "js/overview_cache.js", "js/overview_tools.js", "js/mcp.js", "js/overview_agents.js", "js/overview.js",
        "js/timeline_data.js", "js/timeline.js", "js/timeline_keys.js", "js/turn_view.js", "js/turn_context.js",
        "js/turn_items.js", "js/turn_details.js", "js/copy.js", "js/navigation.js", "js/search.js", "js/compare.js",
        "js/start.js", "js/live.js", "js/live_cache.js",
    )
)  # fmt: skip
VIEWER_STYLES = tuple(
    VIEWER_FOLDER / name
    for name in ("style.css", "sidebar.css", "vendor/uPlot.min.css", "overview.css", "timeline.css")
)
VIEWER_ASSETS = VIEWER_SCRIPTS + VIEWER_STYLES


@dataclass(frozen=True)
class Rule:
    """Files one step makes together, what in the run folder they are made from, and the code that makes them.

    Per run, the step adds what only the run can name: the renderer its manifest chooses (with the probe modules
    it imports) and that target's file. `stamp` starts the line the first output holds to say how it was made
    (the renderer, and whether text was masked), which mtimes cannot tell.
    """

    outputs: tuple[str, ...]
    inputs: tuple[str, ...]  # the first is required; the others count when present
    code: tuple[str, ...]  # modules whose files, and those of the probe modules they import, make the outputs
    stamp: str
    assets: tuple[Path, ...] = ()  # other files of ours that go into the outputs (the viewer's script and style)


REPORT = Rule(
    outputs=("report.md", "turns.jsonl", "report.html", "insight.jsonl"),
    inputs=("traffic.jsonl", "manifest.json", "mcp.jsonl"),  # (the MCP servers' record, joined: probe.analyse.mcp)
    code=("probe.analysis.report",),
    stamp="- Made with: ",
    assets=VIEWER_ASSETS,
)
# HAR 1.2 of the capture (probe.analysis.export): only the capture goes into it.
HAR = Rule(outputs=("traffic.har",), inputs=("traffic.jsonl",), code=("probe.write.har",), stamp="")
# mitmproxy's flow file (probe.analysis.export --format mitm), made from the capture too: the capture no longer
# writes it.
FLOWS = Rule(outputs=("flows.mitm",), inputs=("traffic.jsonl",), code=("probe.write.flow_file",), stamp="")
# A VCR.py cassette of the capture's HTTP exchanges (probe.analysis.export --format vcr), made from the capture alone.
VCR = Rule(outputs=("traffic.vcr.yaml",), inputs=("traffic.jsonl",), code=("probe.write.vcr",), stamp="")
# The run's time model as a Chrome Trace Event JSON file (probe.analysis.export --format perfetto), made from
# insight.jsonl, which the export brings up to date first.
PERFETTO = Rule(outputs=("trace.perfetto.json",), inputs=("insight.jsonl",), code=("probe.write.perfetto",), stamp="")
RULES = (REPORT, HAR, FLOWS, VCR, PERFETTO)


def sources(run: Path, rule: Rule, extra: tuple[Path, ...] = ()) -> list[Path]:
    """Everything `rule`'s outputs in `run` are made from: run files, code files, and the run's own `extra`."""
    code = [path for module in rule.code for path in source_files(module)]
    return [run / name for name in rule.inputs] + code + list(rule.assets) + list(extra)


def out_of_date(run: Path, rule: Rule, extra: tuple[Path, ...] = (), stamp: str | None = None) -> str | None:
    """Why `rule`'s outputs in `run` must be rebuilt (one line), or None if they are up to date.

    `stamp` is the stamp line the outputs would get now; a different one means they were made another way.
    """
    oldest = None
    for name in rule.outputs:
        try:
            modified = (run / name).stat().st_mtime_ns
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as error:  # a link loop, a folder in its place: the build replaces it
            return f"{name} cannot be read ({error.strerror})"
        if oldest is None or modified < oldest[0]:
            oldest = (modified, name)
    for source in sources(run, rule, extra):
        try:
            modified = source.stat().st_mtime_ns
        except OSError:
            continue  # a missing or unreadable input is the build's to report (or ignore), not a reason to rebuild
        if modified > oldest[0]:
            return f"{shown(source, run)} is newer than {oldest[1]}"
    stranger = not_made_here(run, rule)
    if stranger is not None:
        return f"{stranger} was not made here (it came with the run folder, or was copied)"
    if stamp is not None:
        found = stamp_of(run / rule.outputs[0], rule.stamp)
        if found is None:
            return f"{rule.outputs[0]} does not say how it was made (an older agent-probe wrote it)"
        if found != stamp:
            was, now = (line.removeprefix(rule.stamp)[:200] for line in (found, stamp))
            return f"{rule.outputs[0]} was made with {was}; now: {now}"
    return None


def stamp_of(output: Path, prefix: str) -> str | None:
    """The first line of `output` that starts with `prefix`, looked for in its head only. A run folder may come
    from anyone: a FIFO or a device in place of the file is not read."""
    if not output.is_file():
        return None
    try:
        with output.open("rb") as file:
            head = file.read(STAMP_LIMIT)
    except OSError:
        return None
    for line in head.decode("utf-8", "replace").splitlines():
        if line.startswith(prefix):
            return line
    return None


def shown(path: Path, run: Path) -> str:
    """A source as the user should read it: by name inside the run folder, else as a path."""
    return path.name if path.parent == run else display(path)


def record_made(folder: Path, rule: Rule, prices: Path | None = None) -> None:
    """Note, beside `rule`'s outputs just written into `folder`, that this machine made them, and with which price
    file (`prices`; None: the price database alone), so that bringing them up to date keeps those prices.

    File times can be set to anything, so a report that came inside someone else's run folder could pass for up
    to date and never be made again by our renderers. A file's inode and change time cannot be set: they are
    recorded here, and anything else in the outputs' place is rebuilt.
    """
    recorded = read_ledger(folder)
    files = recorded["files"] | {name: identity(folder / name) for name in rule.outputs}
    priced = recorded["prices"] | {rule.outputs[0]: str(prices.resolve()) if prices is not None else None}
    with contextlib.suppress(OSError), private_replacement(folder / LEDGER) as file:  # without it: made again once
        file.write(json.dumps({"schema": 1, "files": files, "prices": priced}) + "\n")


def prices_made_with(folder: Path, rule: Rule) -> tuple[bool, Path | None]:
    """Whether the ledger says which prices `rule`'s outputs in `folder` were made with, and the price file (None:
    the price database alone). Only for outputs this machine made: a ledger from elsewhere names nothing to open."""
    if not_made_here(folder, rule) is not None:
        return False, None
    priced = read_ledger(folder)["prices"]
    if rule.outputs[0] not in priced:
        return False, None
    path = priced[rule.outputs[0]]
    return True, Path(path) if isinstance(path, str) else None


def not_made_here(folder: Path, rule: Rule) -> str | None:
    """The first of `rule`'s outputs in `folder` that is not the very file this machine made (record_made)."""
    files = recorded_files(folder)
    for name in rule.outputs:
        found = identity(folder / name)
        if found is None or files.get(name) != found:
            return name
    return None


def recorded_files(folder: Path) -> dict:
    """What the ledger says this machine made in `folder` (each rule's outputs); nothing if it cannot be read."""
    return read_ledger(folder)["files"]


def read_ledger(folder: Path) -> dict:
    """The ledger in `folder`: `files` (what this machine made) and `prices` (the price file each rule's first
    output was made with), each empty if it cannot be read."""
    ledger = folder / LEDGER
    try:
        if not stat.S_ISREG(os.lstat(ledger).st_mode):
            return {"files": {}, "prices": {}}
        with ledger.open("rb") as file:
            data = file.read(LEDGER_LIMIT + 1)
        recorded = json.loads(data) if len(data) <= LEDGER_LIMIT else None
    except (OSError, ValueError, RecursionError):
        return {"files": {}, "prices": {}}
    recorded = recorded if isinstance(recorded, dict) else {}
    files, prices = recorded.get("files"), recorded.get("prices")
    return {"files": files if isinstance(files, dict) else {}, "prices": prices if isinstance(prices, dict) else {}}


def identity(path: Path) -> list[int] | None:
    """A regular file's device, inode, change time and size; None for anything else, a link included."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [info.st_dev, info.st_ino, info.st_ctime_ns, info.st_size]
