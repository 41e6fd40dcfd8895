"""Viewer: report.html's size, and how soon headless Chromium shows it and can search it, for one codex
conversation of 50, 100 and 200 turns (the sessions of report_growth.py), a session of 1,000 turns (conversations
of 100 turns one after another), and a hostile capture of one request with 300,000 tiny input items.

Each page is opened in a new tab with the network blocked. "first paint" is Chromium's own first-contentful-paint
mark; "ready" is when the viewer's script has built the page (its own mark, from the start of the navigation);
"search" is the time to count a word's hits across the whole run; "heap" is the JS heap in use once the page is
ready, after a garbage collection (the session's is printed against the 50 MB it may take). The page's data is
de-duplicated, so 4x the turns should make about 4x the page.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import generate_capture
from generate_capture import conversation, many_items_exchange, template_request
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.write.viewer.headless import chromium, open_page  # noqa: E402  (the project's root goes on the path first)

SEARCH = """() => {
    const box = document.getElementById("search");
    const started = performance.now();
    box.value = "hello";
    box.dispatchEvent(new Event("input"));
    return new Promise((resolve) => {
        const check = () => document.getElementById("search-count").textContent
            ? resolve([performance.now() - started, document.getElementById("search-count").textContent])
            : setTimeout(check, 5);
        check();
    });
}"""


HEADER = (
    f"{'capture':>22} {'page MB':>8} {'report.md MB':>13} {'first paint s':>14} {'ready s':>8} {'search s':>9} "
    f"{'heap MB':>8} hits"
)


def session(template: dict, turns: int):
    """The lines of a session of `turns` turns: conversations of up to 100 turns, one after another."""
    first = 1
    while first <= turns:
        length = min(100, turns - first + 1)
        yield from conversation(template, length, first, websocket=False)
        first += length


HEAP_TARGET_MB = 50  # the JS heap a 1,000-turn session's page may hold once loaded


def heap_mb(page) -> float:
    """The JS heap in use, after a collection: what the page's data and views hold, not garbage."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("HeapProfiler.collectGarbage")
    return devtools.send("Runtime.getHeapUsage")["usedSize"] / 1e6


def measure(browser, folder: Path, name: str, lines, runs: int) -> tuple[int, float]:
    """Write the capture, analyse it, open its page `runs` times; print one line of medians; return its size and
    its median heap in MB."""
    capture, report = Path(folder) / f"{name}.jsonl", Path(folder) / f"{name}.md"
    with capture.open("w") as out:
        for entry in lines:
            out.write(json.dumps(entry) + "\n")
    subprocess.run(
        [sys.executable, "-m", "probe.analysis.analyze", "--input", str(capture), "--output", str(report),
         "--target", "codex"],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    page = report.with_suffix(".html")
    paints, readies, searches, heaps, hits = [], [], [], [], ""
    for _ in range(runs):
        watched = open_page(browser, page)
        # From the start of the page's navigation to the mark its script sets once built (js/start.js).
        readies.append(watched.page.evaluate("() => performance.getEntriesByName('probe-ready')[0].startTime") / 1000)
        paint = watched.page.evaluate(
            "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        paints.append((paint or 0) / 1000)
        heaps.append(heap_mb(watched.page))
        took, hits = watched.page.evaluate(SEARCH)
        searches.append(took / 1000)
        if watched.requests or watched.errors:
            raise SystemExit(f"the page made requests or errors: {watched.requests} {watched.errors}")
        watched.page.context.close()
    size = page.stat().st_size
    print(
        f"{name:>22} {size / 1e6:>8.2f} {report.stat().st_size / 1e6:>13.2f} "
        f"{statistics.median(paints):>14.3f} {statistics.median(readies):>8.3f} "
        f"{statistics.median(searches):>9.3f} {statistics.median(heaps):>8.1f} {hits}"
    )
    return size, statistics.median(heaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", default="50,100,200", help="turns of each single conversation")
    parser.add_argument("--session", type=int, default=1000, help="turns of the long session (0: none)")
    parser.add_argument("--items", type=int, default=300_000, help="input items of the hostile request (0: none)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    template = template_request()
    print(describe_machine())
    print(f"median of {args.runs} page loads in headless Chromium")
    print(HEADER)
    sizes = {}
    with tempfile.TemporaryDirectory() as folder, chromium() as browser:
        for turns in map(int, args.turns.split(",")):
            lines = conversation(template, turns, 1, websocket=False)
            sizes[turns], _heap = measure(browser, Path(folder), f"{turns} turns", lines, args.runs)
        if args.session:
            name = f"session of {args.session:,} turns"
            size, heap = measure(browser, Path(folder), name, session(template, args.session), args.runs)
            verdict = "under" if heap < HEAP_TARGET_MB else "OVER"
            print(
                f"{name}: {size / 1e6:.2f} MB page, {heap:.1f} MB of JS heap after load and a collection, "
                f"{verdict} the {HEAP_TARGET_MB} MB target"
            )
        if args.items:
            generate_capture.ITEMS_PER_REQUEST = args.items
            measure(browser, Path(folder), f"{args.items:,} input items", [many_items_exchange(1)], args.runs)
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        print(f"{high}-turn page / {low}-turn page: {sizes[high] / sizes[low]:.2f}x (linear would be {high / low:g}x)")


if __name__ == "__main__":
    main()
