"""Which prices bringing a run's report up to date keeps: those asked for, else a bundled sample's own price file,
else the price file the report was made with (recorded in the ledger, probe.runs.ledger), else, for a run recorded
against the bundled mock, the mock's own price file, else the database."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from probe.analyse.prices import MOCK_PRICES, PRICES_ENV, prices_from
from probe.common.paths import display
from probe.runs.folders import read_manifest
from probe.runs.ledger import REPORT, SAMPLE_MARK, SAMPLE_PRICES, prices_made_with


def kept_prices(run: Path, warnings: list[str]) -> Path | None:
    """The price file to analyse `run` with when no other was asked for (None: as asked, or the database alone);
    a price file the report was made with that is gone is said in `warnings`."""
    if os.environ.get(PRICES_ENV):  # --prices, or the user's own default: asked for, so it wins
        return None
    own = run.parent.parent / SAMPLE_PRICES
    if SAMPLE_MARK in run.name and own.is_file():  # a bundled sample is priced as its committed report was
        return own
    known, made_with = prices_made_with(run, REPORT)
    if not known or made_with is None:
        return against_the_mock(run)
    if not made_with.is_file():
        warnings.append(f"price file {display(made_with)}, which the report was made with, is gone: priced anew")
        return None
    return made_with


def against_the_mock(run: Path) -> Path | None:
    """The mock's price file for a run its manifest says was recorded against the bundled mock, or forked to it (a
    file of this install, never one the manifest names), as `pipeline` priced it; else None."""
    manifest = read_manifest(run)
    if not isinstance(manifest, dict):
        return None
    origin = manifest.get("origin") if isinstance(manifest.get("origin"), dict) else {}
    # (a fork to the mock: its live answers are the mock's, and those served up to its point the recording's)
    return MOCK_PRICES if "mock" in (manifest.get("upstream_override"), origin.get("upstream")) else None


@contextlib.contextmanager
def keeping_prices(run: Path, warnings: list[str]) -> Iterator[None]:
    """Analyse `run` inside the block with the prices its report keeps (kept_prices)."""
    with prices_from(kept_prices(run, warnings)):
        yield
