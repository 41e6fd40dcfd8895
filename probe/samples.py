"""Replays the bundled sample runs: rebuilds them in a scratch copy, as `analyze --run all` would, and compares the
reports, turns.jsonl files and diffs with the committed ones; --update writes the new ones back instead."""

import contextlib
import difflib
import io
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from probe.analyse.prices import prices_from
from probe.analysis.report import refresh_all
from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import RunError, UsageError, one_line, run_main
from probe.common.paths import checkout, data_dir, display
from probe.runs import ledger as derived
from probe.runs.folders import BODIES, CAPTURE_FILES, list_runs
from probe.runs.ledger import SAMPLE_MARK, SAMPLE_PRICES
from probe.write.diff import diff_runs
from probe.write.report_header import GENERATED_AT

DIFF_PREFIX = "diff-"  # diff-<A's folder>.md in B's folder: the diff of a bundled version pair
SHOWN_LINES = 12  # lines of a unified diff shown per mismatch
NEEDS_CHECKOUT = "samples runs from agent-probe's checkout, which holds the sample runs (data/*/*-sample-*)"


@dataclass
class Mismatch:
    """A committed file that the replay does not reproduce, with the start of the difference."""

    path: Path
    difference: list[str]


# Made on every checkout instead: the viewer page repeats its script in each sample, and tests/write/test_viewer*.py
# check what it shows.
NOT_COMMITTED = ("report.html",)


def samples(root: Path) -> list[Path]:
    return [run for run in list_runs(root=root) if SAMPLE_MARK in run.name]


def replay(root: Path, update: bool = False, out=None) -> list[Mismatch]:
    """Rebuild every sample under `root` (a data folder) in a scratch copy and compare, or with `update`, copy
    what was rebuilt over the committed files. Returns what differs (nothing, after an update)."""
    out = out or sys.stdout
    found = samples(root)
    if not found:
        raise RunError(f"no sample runs (folders named *{SAMPLE_MARK}*) in {display(root)}")
    mismatches = []
    # The samples' costs come from their own price file, whatever genai-prices this install has.
    with tempfile.TemporaryDirectory(prefix="probe-samples-") as scratch, prices_from(root / SAMPLE_PRICES):
        copies = Path(scratch) / "data"  # named as the committed diffs name their runs: data/<target>/<run>
        for run in found:
            copy = copies / run.parent.name / run.name
            copy.mkdir(parents=True)
            for name in CAPTURE_FILES:
                if (run / name).is_file():
                    shutil.copy2(run / name, copy / name)
            if (run / BODIES).is_dir():
                shutil.copytree(run / BODIES, copy / BODIES, symlinks=True)
        # The derived files are missing from the copies, so the make-style refresh rebuilds each one.
        log = io.StringIO()
        with contextlib.chdir(scratch):  # reports name their capture relative to where they are made: data/...
            counts = refresh_all(samples(copies), out=log)
        if counts["failed"] or counts["rebuilt"] != len(found):
            raise RunError(f"the samples did not all rebuild: {one_line(log.getvalue().strip())}")
        for run in found:
            copy = copies / run.parent.name / run.name
            for name in derived.REPORT.outputs:
                if name not in NOT_COMMITTED:
                    mismatches += settle(copy / name, run / name, update)
            for golden in sorted(run.glob(f"{DIFF_PREFIX}*.md")):
                older = golden.stem.removeprefix(DIFF_PREFIX)
                with contextlib.chdir(scratch):  # the diff names its runs relative to where it runs
                    text, _ = diff_runs(copy.parent.relative_to(scratch) / older, copy.relative_to(scratch))
                (copy / golden.name).write_text(text + "\n")
                mismatches += settle(copy / golden.name, golden, update)
            print(f"{'updated' if update else 'checked'} {display(run)}", file=out)
    return mismatches


def settle(rebuilt: Path, committed: Path, update: bool) -> list[Mismatch]:
    """Compare a rebuilt file with the committed one (the generated-at line aside), or copy it over."""
    if update:
        shutil.copyfile(rebuilt, committed)
        return []
    new, old = comparable(rebuilt), comparable(committed) if committed.is_file() else []
    if new == old:
        return []
    difference = difflib.unified_diff(old, new, f"{display(committed)} (committed)", "rebuilt now", lineterm="", n=1)
    return [Mismatch(committed, [one_line(line) for line in list(difference)[:SHOWN_LINES]])]


def comparable(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if not line.startswith(GENERATED_AT)]


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.samples", description=__doc__)
    parser.add_argument("--update", action="store_true", help="write the rebuilt files over the committed ones")
    args = parser.parse_args(argv)
    if checkout() is None:  # an installed agent-probe has no sample runs: they are committed in the repository
        raise UsageError(NEEDS_CHECKOUT)
    mismatches = replay(data_dir(), args.update)
    for mismatch in mismatches:
        print(f"differs: {display(mismatch.path)}", file=sys.stderr)
        for line in mismatch.difference:
            print(f"    {line}", file=sys.stderr)
    if mismatches:
        print(
            f"{counted(len(mismatches), 'committed file')} {'differs' if len(mismatches) == 1 else 'differ'} from "
            "what the analyzer makes now: if the change is meant, run `python -m probe.samples --update` and commit "
            "the result",
            file=sys.stderr,
        )
        return 1
    print("the samples' reports, turns and diffs are reproduced" if not args.update else "samples updated")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
