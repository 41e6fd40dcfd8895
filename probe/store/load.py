"""Loading what the SQL views show from the run files into tables, a few runs at a time within DuckDB's memory limit:
a run that cannot be loaded alone is left out with one line naming it, and the other runs answer."""

import re
from pathlib import Path

from probe.common.counting import counted
from probe.common.errors import one_line
from probe.common.paths import display
from probe.store.files import INSIGHT_COLUMNS, MANIFEST_COLUMNS, TURN_COLUMNS, file_size, file_source
from probe.store.views import (
    LOADED_VALUES,
    NEW_FIELDS,
    NUMBERED_CALLS,
    NUMBERED_FACTS,
    OUTPUT_CALLS,
    PART_ELEMENTS,
    PART_FACTS,
    PART_NUMBERS,
    TURN_PARTS,
)

# Runs are loaded together until their files hold this many bytes, so that a few statements read many small runs;
# a batch that fails is loaded again run by run, to name the run that failed.
BATCH_BYTES = 32 << 20
FILES = ("turns.jsonl", "manifest.json", "insight.jsonl")
# A turns.jsonl names values by number, and what its lines name is read once for each distinct list of numbers:
# for every run an agent makes, about as much as the file holds or less (a session's tools are one list). But a
# hand-made file of a few MB can name a table of thousands of tools once per line with one more each time: billions
# of values. What a run's lists name is reckoned first, as the bytes of the values plus NAMED_EACH for each (what
# names it, as it is read); a run over NAMED_FACTOR times its file's size and over NAMED_FLOOR is left out before
# any of it is read.
NAMED_EACH = 64
NAMED_FACTOR = 16
NAMED_FLOOR = 64 << 20


class TooMuchNamed(Exception):
    """A batch's turns.jsonl names more values than the budget allows (the message says which and how much)."""


def over(sql: str, **names: str) -> str:
    """`sql` reading other tables in place of the views it names: `over(PART_VALUES, turn_parts="load_parts")`."""
    return re.sub(r"\b(" + "|".join(names) + r")\b", lambda match: names[match.group()], sql)


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


# The views a batch is loaded through (probe.store.views), in place of those a query reads the files through.
LOADING = {
    "turn_files": "load_turns",
    "turn_rows": "load_rows",
    "turn_values": "load_values",
    "turn_parts": "load_parts",
    "part_numbers": "load_numbers",
    "part_elements": "load_elements",
    "numbered_facts": "load_facts",
    "numbered_calls": "load_calls",
}


def load_batch(connection, runs: list[Path], create: bool = False) -> None:
    """Load the files of `runs` into the kept tables, all or nothing; with `create`, make those tables (empty, typed
    as the files are read, when `runs` is). turns.jsonl is read once; its values are taken from what was read, what
    the views show of each is worked out once, and each distinct list of numbers its lines hold is read once, after
    the budget above is checked (probe.store.views)."""
    turns, manifests, insights = ([run / name for run in runs if (run / name).is_file()] for name in FILES)

    made: list[str] = []  # the batch's own tables and views, dropped after it

    def make(kind: str, name: str, query: str) -> None:
        if kind == "keep":
            connection.execute(f"CREATE TABLE {name} AS {query}" if create else f"INSERT INTO {name} {query}")
        else:
            connection.execute(f"CREATE TEMP {kind} {name} AS {query}")
            made.append(f"{kind} IF EXISTS temp.{name}")  # (gone already after a rollback)

    def loading(view: str) -> str:  # (only a view's text: a file's path may hold a view's name)
        return over(view, **LOADING)

    connection.execute("BEGIN TRANSACTION")
    try:
        make("table", "load_turns", file_source(turns, TURN_COLUMNS | {"new": NEW_FIELDS}))
        make("view", "load_rows", "SELECT * EXCLUDE (new) FROM load_turns WHERE number IS NOT NULL")
        damaged = "SELECT folder, count(*) AS lines FROM load_turns WHERE number IS NULL GROUP BY folder"
        make("keep", "damaged_counts", damaged)
        make("keep", "turn_heads", "SELECT * FROM load_rows")
        make("view", "load_values", loading(LOADED_VALUES))
        make("table", "load_parts", loading(TURN_PARTS))
        check_named(connection, runs)
        make("view", "load_numbers", loading(PART_NUMBERS))
        make("view", "load_elements", loading(PART_ELEMENTS))
        make("table", "load_facts", loading(NUMBERED_FACTS))
        make("table", "load_calls", loading(NUMBERED_CALLS))
        make("keep", "part_facts", loading(PART_FACTS))
        make("keep", "output_calls", loading(OUTPUT_CALLS))
        make("keep", "manifest_files", f"SELECT * FROM ({file_source(manifests, MANIFEST_COLUMNS, lines=False)})")
        # A damaged line of an insight file is left out as turns.jsonl's are: a record names its kind.
        insight = f"SELECT * FROM ({file_source(insights, INSIGHT_COLUMNS)}) WHERE record IS NOT NULL"
        make("keep", "insight_lines", insight)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        for made_one in reversed(made):  # (each reads only those made before it)
            connection.execute(f"DROP {made_one}")


# How many values each run's distinct lists of numbers name, and their bytes, reckoned without reading a value more
# than once: from the values and bytes numbered up to each number, at each run of numbers' two ends.
NAMED = """
    WITH upto AS (
        SELECT folder, number, count(*) OVER numbered AS values, sum(length(value)) OVER numbered AS bytes
        FROM load_values WHERE number IS NOT NULL
        WINDOW numbered AS (PARTITION BY folder ORDER BY number)),
    spans AS (
        SELECT folder, CAST(run[1] AS HUGEINT) - 1 AS before, CAST(run[1] AS HUGEINT) + run[2] - 1 AS last
        FROM (SELECT folder, unnest(runs) AS run
              FROM (SELECT folder, TRY_CAST(key AS BIGINT[][]) AS runs FROM load_parts WHERE numbered))
        WHERE run[2] > 0)
    SELECT s.folder, sum(coalesce(l.values, 0) - coalesce(b.values, 0)),
           sum(coalesce(l.bytes, 0) - coalesce(b.bytes, 0))
    FROM spans s
    ASOF LEFT JOIN upto l ON l.folder = s.folder AND l.number <= s.last
    ASOF LEFT JOIN upto b ON b.folder = s.folder AND b.number <= s.before
    GROUP BY s.folder"""


def check_named(connection, runs: list[Path]) -> None:
    """Raise TooMuchNamed if a run's lists name more than its budget."""
    named = {folder: (values, size) for folder, values, size in connection.execute(NAMED).fetchall()}
    for run in runs:
        values, size = named.get(str(run), (0, 0))
        cost = size + NAMED_EACH * values
        budget = max(NAMED_FLOOR, NAMED_FACTOR * file_size(run / "turns.jsonl"))
        if cost > budget:
            raise TooMuchNamed(
                f"its turns.jsonl ({megabytes(file_size(run / 'turns.jsonl'))}) names {counted(values, 'value')} by "
                "number "
                f"({megabytes(cost)} to read), more than {megabytes(budget)}"
            )


def batches(runs: list[Path]) -> list[list[Path]]:
    """The runs in groups of at most BATCH_BYTES of files to read (a larger run alone)."""
    groups: list[list[Path]] = [[]]
    size = 0
    for run in runs:
        files = sum(file_size(run / name) for name in FILES)
        if groups[-1] and size + files > BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(run)
        size += files
    return [group for group in groups if group]


def load(connection, runs: list[Path], warnings: list[str]) -> list[Path]:
    """Load every run that can be loaded; the runs loaded. Each run that cannot be, even alone (its files need more
    than DuckDB's memory limit, say), is left out with a warning naming it."""
    import duckdb

    failures = (duckdb.Error, TooMuchNamed)
    load_batch(connection, [], create=True)
    loaded = []
    for batch in batches(runs):
        try:
            load_batch(connection, batch)
            loaded += batch
            continue
        except failures as error:
            if len(batch) == 1:
                warnings.append(skipped(batch[0], error))
                continue
        for run in batch:
            try:
                load_batch(connection, [run])
                loaded.append(run)
            except failures as error:
                warnings.append(skipped(run, error))
    return loaded


def skipped(run: Path, error: Exception) -> str:
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"sql: run {display(run)} skipped: {one_line(message)}"
