"""Viewer: report.html's size, and how soon headless Chromium shows it and can search it, for one codex
conversation of 50, 100 and 200 turns (the sessions of report_growth.py).

Each page is opened in a new tab with the network blocked; "first paint" is Chromium's own first-contentful-paint
mark, "ready" is when the viewer's script has built the page, and "search" is the time to count a word's hits
across the whole run. The page's data is de-duplicated, so 4x the turns should make about 4x the page.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate_capture import conversation, template_request
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", default="50,100,200")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    template = template_request()
    print(describe_machine())
    print(f"one HTTP conversation, median of {args.runs} page loads in headless Chromium")
    print(f"{'turns':>6} {'page MB':>8} {'report.md MB':>13} {'first paint s':>14} {'ready s':>8} {'search s':>9} hits")
    sizes = {}
    with tempfile.TemporaryDirectory() as folder, chromium() as browser:
        for turns in map(int, args.turns.split(",")):
            capture, report = Path(folder) / f"{turns}.jsonl", Path(folder) / f"{turns}.md"
            with capture.open("w") as out:
                for entry in conversation(template, turns, 1, websocket=False):
                    out.write(json.dumps(entry) + "\n")
            subprocess.run(
                [sys.executable, "-m", "probe.write.analyze", "--input", str(capture), "--output", str(report),
                 "--target", "codex"],
                cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            page = report.with_suffix(".html")
            paints, readies, searches, hits = [], [], [], ""
            for _ in range(args.runs):
                started = time.perf_counter()
                watched = open_page(browser, page)
                readies.append(time.perf_counter() - started)
                paint = watched.page.evaluate(
                    "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
                )
                paints.append((paint or 0) / 1000)
                took, hits = watched.page.evaluate(SEARCH)
                searches.append(took / 1000)
                if watched.requests or watched.errors:
                    raise SystemExit(f"the page made requests or errors: {watched.requests} {watched.errors}")
                watched.page.context.close()
            sizes[turns] = page.stat().st_size
            print(
                f"{turns:>6} {sizes[turns] / 1e6:>8.2f} {report.stat().st_size / 1e6:>13.2f} "
                f"{statistics.median(paints):>14.3f} {statistics.median(readies):>8.3f} "
                f"{statistics.median(searches):>9.3f} {hits}"
            )
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        print(f"{high}-turn page / {low}-turn page: {sizes[high] / sizes[low]:.2f}x (linear would be {high / low:g}x)")


if __name__ == "__main__":
    main()
