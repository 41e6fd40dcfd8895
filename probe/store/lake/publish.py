"""Adding runs to the team lake: each run's rows of every view, masked, keyed by their content, a group of runs in
one transaction under each run's lock, so that a run lands once, a run published again adds nothing, and a run that
changed adds what is new and takes back what is gone."""

import hashlib
import re
from dataclasses import dataclass

from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.label_names import LABEL_NAMES
from probe.store.columns import view_columns
from probe.store.identity_columns import CREDIT, IDENTITY
from probe.store.json_rows import as_json, rows_of, texts_of
from probe.store.lake.basics import PUBLICATIONS, ROW_KEY, LakeSettings, lock_key, rollback
from probe.store.lake.connection import first_line, lock, retried
from probe.store.lake.tables import PUBLICATION_COLUMNS, PUBLISHED_BY
from probe.store.masked_rows import masked_columns
from probe.store.views import VIEWS

STAGED = "staged_{view}"  # a view's masked rows, with their run and key, made before the lake's transaction
RUN_COLUMN = "run"  # every view names the run folder a row is of
CREDITED = "runs"  # the table whose row of a run says whom the lake credits it to (every run has one)
EMPTY_DIGEST = hashlib.md5(b"").hexdigest()  # of the keys of no row
# What each run of a group gives the rows it adds, by its folder's name: its id, whom it is credited to, who publishes.
GIVEN = {RUN_COLUMN: "VARCHAR", "run_id": "VARCHAR", **dict.fromkeys(CREDIT, "VARCHAR"),
         **dict.fromkeys(PUBLISHED_BY, "VARCHAR")}  # fmt: skip


@dataclass(frozen=True)
class RunIdentity:
    """A run as its rows were staged (masked): its id, its folder's name, its target and the labels it is credited
    to; and who publishes it."""

    run_id: str
    run: str  # the run folder's name, masked, which every staged row's `run` column holds
    target: str
    labels: dict[str, str | None]  # by the names of CREDIT
    publisher: tuple[str, str]  # machine and user


def staged_identity(connection, name: str, lake: LakeSettings) -> RunIdentity | None:
    """The identity of the run folder `name` as its `runs` row was staged; None for a run not loaded."""
    credit = ", ".join(f's."{column}"' for column in CREDIT)
    found = connection.execute(
        f"SELECT run_id, run, target, {credit} FROM {STAGED.format(view=CREDITED)} s WHERE run = $run",
        {"run": mask_tokens_and_urls(name)},
    ).fetchone()
    if found is None:
        return None
    run_id, run, target, *labels = found
    return RunIdentity(run_id, run, target, dict(zip(CREDIT, labels)), (lake.machine, lake.user))


def stage(connection) -> None:
    """Each view's rows as they go into the lake, masked, with each row's key: the digest of its own columns (not
    the run's identity, which a lake may re-label) and its place among the equal rows of its run. Made in memory,
    before any transaction on the lake (DuckDB writes to one database in a transaction)."""
    for view in VIEWS:
        masked = masked_columns(connection, view)
        own = [name for name, _ in view_columns(connection, view) if name not in IDENTITY]
        # (the text DuckDB gives the row of these columns, `{'run': …, 'n': 1, …}`, as a lake made before the views
        # had the identity keyed them)
        row = "struct_pack(" + ", ".join(f'"{name}" := m."{name}"' for name in own) + ")"
        connection.execute(
            f"""CREATE OR REPLACE TEMP TABLE {STAGED.format(view=view)} AS
            SELECT r.*, digest || ':' || row_number() OVER (PARTITION BY r.{RUN_COLUMN}, digest) AS {ROW_KEY}
            FROM (SELECT m.*, md5(CAST({row} AS VARCHAR)) AS digest
                  FROM (SELECT {", ".join(masked)} FROM {view}) m) r"""
        )


def local_digests(connection, runs: list[str]) -> dict[str, dict[str, tuple[int, str]]]:
    """Each view's rows of each of `runs` as staged: how many, and a digest of their keys; by run, then view."""
    found: dict[str, dict[str, tuple[int, str]]] = {run: {} for run in runs}
    for view in VIEWS:
        rows = connection.execute(
            f"SELECT {RUN_COLUMN}, count(*), md5(coalesce(string_agg({ROW_KEY}, ',' ORDER BY {ROW_KEY}), '')) "
            f"FROM {STAGED.format(view=view)} WHERE {RUN_COLUMN} IN ({texts_of('runs')}) GROUP BY ALL",
            {"runs": as_json(runs)},
        ).fetchall()
        counted_runs = {run: (count, keys) for run, count, keys in rows}
        for run in runs:  # (a run with no row of the view: the digest of no keys)
            found[run][view] = counted_runs.get(run, (0, EMPTY_DIGEST))
    return found


def published_digests(connection, ids: list[str]) -> dict[str, dict[str, str]]:
    """What the lake holds of each run, by run id and table: the digest of its newest publication."""
    rows = connection.execute(
        f"""SELECT run_id, table_name, digest FROM lake.{PUBLICATIONS} WHERE run_id IN ({texts_of("ids")})
        QUALIFY row_number() OVER (PARTITION BY run_id, table_name ORDER BY seq DESC) = 1""",
        {"ids": as_json(ids)},
    ).fetchall()
    held: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    for run_id, table, digest in rows:
        held[run_id][table] = digest
    return held


def left_null(lake_columns: dict[str, str], given: set[str]) -> str:
    """The columns of the lake's table that a row does not give, each as NULL: a column the row leaves out would
    otherwise take its default, an expression anyone who can write the catalog may have set."""
    return "".join(f', NULL AS "{name}"' for name in lake_columns if name not in given)


def held_credits(connection, ids: list[str]) -> dict[str, dict[str, str | None]]:
    """Whom the lake credits each run to (its `runs` row's labels), by run id, where it holds the run."""
    credit = ", ".join(f'"{column}"' for column in CREDIT)
    found = connection.execute(
        f"SELECT DISTINCT ON (run_id) run_id, {credit} FROM lake.{CREDITED} WHERE run_id IN ({texts_of('ids')})",
        {"ids": as_json(ids)},
    ).fetchall()
    return {row[0]: dict(zip(CREDIT, row[1:], strict=True)) for row in found}


def differs(held: dict[str, str | None] | None, identity: RunIdentity) -> bool:
    """Whether the lake credits the run to other labels than its manifest's (whose they are aside)."""
    return held is not None and any(held[name] != identity.labels[name] for name in LABEL_NAMES)


def publish_tables(connection, plans: dict[str, dict[str, str]], given: list[dict], tables: dict[str, dict[str, str]]
                   ) -> dict[str, dict[str, int]]:  # fmt: skip
    """Within the group's transaction, bring each table to the staged rows of the runs whose rows of it changed:
    add the keys the lake lacks and delete those it holds and the run no longer has. `plans`: for each view, the
    runs (by run id) whose rows changed, each `first` (never published: nothing to compare) or `again`; `given`: what
    each run gives the rows it adds (GIVEN); `tables`: the lake's tables and their columns. The rows added and
    removed, by run id."""
    counts = {row["run_id"]: {"added": 0, "removed": 0} for row in given}
    runs = f"({rows_of('given', GIVEN)})"  # (a parameter, not a table: the transaction writes to the lake alone)
    for view, plan in plans.items():
        staged = STAGED.format(view=view)
        own = {name for (name,) in connection.execute(f"SELECT name FROM pragma_table_info('{staged}')").fetchall()}
        replaced = [name for name in (*CREDIT, *PUBLISHED_BY) if name in own]
        excluded = ", ".join(["digest", *(f'"{name}"' for name in replaced)])
        put = "".join(f', i."{name}"' for name in (*CREDIT, *PUBLISHED_BY))
        columns = f"s.* EXCLUDE ({excluded}){put}"
        columns += left_null(tables.get(view, {}), (own - {"digest"}) | set(CREDIT) | set(PUBLISHED_BY))
        joined = f"FROM {staged} s JOIN {runs} i USING ({RUN_COLUMN}) WHERE i.run_id IN ({texts_of('changed')})"
        again = [run_id for run_id, how in plan.items() if how == "again"]
        parameters = {"given": as_json(given), "changed": as_json(list(plan))}
        if again:
            parameters["again"] = as_json(again)
            held_keys = f"SELECT run_id, {ROW_KEY} FROM lake.{view} WHERE run_id IN ({texts_of('again')})"
            staged_keys = f"SELECT i.run_id, s.{ROW_KEY} {joined}"
            gone = connection.execute(
                f"SELECT run_id, count(*) FROM ({held_keys} EXCEPT ALL {staged_keys}) GROUP BY ALL", parameters
            ).fetchall()
            for run_id, removed in gone:
                counts[run_id]["removed"] += removed
            if gone:
                connection.execute(
                    f"DELETE FROM lake.{view} WHERE run_id IN ({texts_of('again')}) AND run_id || ':' || {ROW_KEY} "
                    f"NOT IN (SELECT i.run_id || ':' || s.{ROW_KEY} {joined})",
                    parameters,
                )
            joined += (
                f" AND (i.run_id NOT IN ({texts_of('again')}) OR i.run_id || ':' || s.{ROW_KEY} NOT IN "
                f"(SELECT run_id || ':' || {ROW_KEY} FROM lake.{view} WHERE run_id IN ({texts_of('again')})))"
            )
        new = dict(connection.execute(f"SELECT i.run_id, count(*) {joined} GROUP BY ALL", parameters).fetchall())
        if any(new.values()):
            connection.execute(f"INSERT INTO lake.{view} BY NAME SELECT {columns} {joined}", parameters)
        for run_id in plan:
            counts[run_id]["added"] += new.get(run_id, 0)
    return counts


def record_publications(connection, changed: dict[str, dict[str, tuple[int, str]]], given: list[dict],
                        tables: dict) -> None:  # fmt: skip
    """A row in the book of publications for each table of each run whose rows changed, numbered among the run's
    publications under its lock, not by a clock, which differs between machines."""
    ids = [row["run_id"] for row in given if changed.get(row["run_id"])]
    if not ids:
        return
    seqs = dict(connection.execute(
        f"SELECT run_id, coalesce(max(seq), 0) + 1 FROM lake.{PUBLICATIONS} WHERE run_id IN ({texts_of('ids')}) "
        "GROUP BY ALL",
        {"ids": as_json(ids)},
    ).fetchall())  # fmt: skip
    rows = [
        row | {"table_name": view, "rows": count, "digest": digest, "seq": seqs.get(row["run_id"], 1)}
        for row in given
        for view, (count, digest) in changed.get(row["run_id"], {}).items()
    ]
    kinds = {name: PUBLICATION_COLUMNS[name] for name in rows[0]}
    others = [name for name in tables.get(PUBLICATIONS, {}) if name not in [*kinds, "published_at"]]
    nulls = "".join(f', NULL AS "{name}"' for name in others)  # (NULL, not the defaults a catalog may have set)
    connection.execute(
        f"INSERT INTO lake.{PUBLICATIONS} BY NAME SELECT *, CAST(timezone('UTC', now()) AS TIMESTAMP) AS published_at"
        f"{nulls} FROM ({rows_of('rows', kinds)})",
        {"rows": as_json(rows)},
    )


def credit_values(credit: dict[str, str | None]) -> dict[str, str | None]:
    """The labels a row carries, masked as the views' texts are (a lake's may hold anything)."""
    return {name: mask_tokens_and_urls(value) if isinstance(value, str) else None for name, value in credit.items()}


class PublishFailed(Exception):
    """A run's transaction could not be committed (the message says why, in one line)."""


def publish_runs(
    connection, lake: LakeSettings, identities: list[RunIdentity], tables: dict[str, dict[str, str]]
) -> dict[str, dict]:
    """Bring the lake to the staged rows (see stage) of each run of `identities`, in one transaction, under each
    run's lock, taken in the order of their keys (so that two writers never wait on each other in a circle). By run
    id: the rows added and removed (none for a run the lake holds as it is), and `lake_credit`, the labels the lake
    credits the run to where they are not its manifest's (the lake's are kept: re-labelling is a command of its own),
    else None. One transaction for many runs: a commit costs DuckLake a snapshot and a file for each table it adds to,
    whatever the rows. `tables`: the lake's tables and their columns."""
    import duckdb

    local = local_digests(connection, [identity.run for identity in identities])

    def attempt() -> dict[str, dict]:
        connection.execute("BEGIN TRANSACTION")
        try:
            for key in sorted({lock_key(identity.run_id) for identity in identities}):
                lock(connection, lake, key)  # (first: the lake's state is read after the locks are held)
            ids = [identity.run_id for identity in identities]
            held = published_digests(connection, ids)
            credits = held_credits(connection, [run_id for run_id in ids if held[run_id]])
            changed: dict[str, dict[str, tuple[int, str]]] = {}
            plans: dict[str, dict[str, str]] = {}
            given, kept = [], {}
            for identity in identities:
                lake_credit = credits.get(identity.run_id)
                kept[identity.run_id] = lake_credit if differs(lake_credit, identity) else None
                credit = kept[identity.run_id] or identity.labels
                given.append({RUN_COLUMN: identity.run, "run_id": identity.run_id, "target": identity.target,
                              **credit_values(credit), **dict(zip(PUBLISHED_BY, identity.publisher))})  # fmt: skip
                run_held = held[identity.run_id]
                for view, found in local[identity.run].items():
                    if run_held.get(view) == found[1] or not (found[0] or view in run_held):
                        continue
                    changed.setdefault(identity.run_id, {})[view] = found
                    plans.setdefault(view, {})[identity.run_id] = "again" if view in run_held else "first"
            rows = [{name: row[name] for name in GIVEN} for row in given]
            counts = publish_tables(connection, plans, rows, tables)
            record_publications(connection, changed, given, tables)
            connection.execute("COMMIT")
            return {run_id: count | {"lake_credit": kept[run_id]} for run_id, count in counts.items()}
        except BaseException:
            rollback(connection)
            raise

    # A commit DuckLake could not retry into place is tried again whole: nothing of it was kept.
    try:
        return retried(attempt, lambda error: isinstance(error, duckdb.TransactionException))
    except duckdb.TransactionException as error:
        raise PublishFailed(commit_failure(error)) from None


# DuckLake's message for a commit that failed quotes the catalog's statement, rows' values and all, then says what the
# catalog answered: `… Failed to execute query "INSERT INTO … VALUES …": ERROR:  permission denied for table …`.
CATALOG_ANSWER = re.compile(r'": (ERROR: .*)$')


def commit_failure(error: Exception) -> str:
    """Why a commit failed: DuckLake's words and the catalog's answer, without the statement between them."""
    text = first_line(error)
    said = text.split(" Failed to flush changes", 1)[0].split(": Failed to execute query", 1)[0][:300]
    answer = CATALOG_ANSWER.search(text)
    return said + (f" ({' '.join(answer.group(1).split())[:300]})" if answer else "")
