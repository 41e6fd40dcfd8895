"""A publisher's connection to the lake: attached, the names it writes checked to be tables, not SQL a catalog
holds, and confined to the lake's data path and the runs' own files."""

from pathlib import Path

from probe.store.connection import turns_files
from probe.store.lake.basics import PUBLICATIONS, LakeSettings
from probe.store.lake.catalog_paths import refuse_dot_segments
from probe.store.lake.code import (
    catalog_code,
    refuse_code_among,
    refuse_foreign_inlined_tables,
    refuse_sort_expressions,
)
from probe.store.lake.connection import attach, confine
from probe.store.lake.data_path import is_url
from probe.store.views import VIEWS


def open_for_publishing(connection, lake: LakeSettings, runs: list[Path]) -> None:
    """Attach the lake to `connection` (which holds the views over `runs`) for writing. A view or macro of the
    catalog where one of its tables belongs is a UsageError before anything is written; from then on the connection
    reads no file but the lake's and the runs' turns.jsonl, and opens no connection but the catalog's."""
    if lake.data and not is_url(lake.data):
        # DuckLake makes the folder it was given when it first writes, from the top down, which a confined
        # connection cannot do outside it; a folder named only by the catalog is never made here.
        Path(lake.data).expanduser().mkdir(parents=True, exist_ok=True)
    attach(connection, lake)
    refuse_foreign_inlined_tables(connection)
    refuse_dot_segments(connection)
    refuse_sort_expressions(connection)
    refuse_code_among(catalog_code(connection), {*VIEWS, PUBLICATIONS})
    confine(connection, lake, [str(path) for path in turns_files(runs)])
