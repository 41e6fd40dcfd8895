"""Adding runs to the team lake: each run's rows of every view, masked, keyed by their content, in one transaction
under the run's lock, so that a run lands once, a run published again adds nothing, and a run that changed adds
what is new and takes back what is gone."""

import contextlib
import dataclasses
import hashlib
import re
from dataclasses import dataclass

from probe.redact.secrets import mask_tokens_and_urls
from probe.store.json_rows import as_json, rows_of, texts_of
from probe.store.lake.connection import first_line, lock, retried
from probe.store.lake.settings import LakeSettings
from probe.store.lake.tables import IDENTITY, PUBLICATION_COLUMNS, PUBLICATIONS, ROW_KEY
from probe.store.masked_rows import masked_columns
from probe.store.views import VIEWS

STAGED = "staged_{view}"  # a view's masked rows, with their run and key, made before the lake's transaction
RUN_COLUMN = "run"  # every view names the run folder a row is of
IDENTITIES = "staged_identities"  # the identity of each run of a batch, by its folder's name
EMPTY_DIGEST = hashlib.md5(b"").hexdigest()  # of the keys of no row


@dataclass(frozen=True)
class RunIdentity:
    """Who published a run and from where: the values of IDENTITY."""

    run_id: str
    machine: str
    user: str
    target: str
    agent_version: str | None
    login: str | None
    run: str  # the run folder's name, which every view's `run` column holds

    def masked(self) -> "RunIdentity":
        """The identity as it goes into the lake: each text masked as the views' are (a folder's name, a version or
        a login from a manifest may hold anything), the run's name as its rows were staged with it."""
        texts = {name: mask_tokens_and_urls(value) for name, value in vars(self).items() if isinstance(value, str)}
        return dataclasses.replace(self, **texts | {"run_id": self.run_id})


def run_id(target: str, name: str, started_at: str | None, first_exchange: bytes) -> str:
    """A run's identity wherever its folder is: its target, its folder's name, when it started (all three to the
    second, which two machines starting one agent at once share) and its first exchange as recorded (its times to the
    microsecond, its ids), which the run's growing leaves as it was; a copy of the folder is the same run."""
    digest = hashlib.sha256(f"{target}/{name}/{started_at or ''}/".encode(errors="surrogateescape"))
    digest.update(first_exchange)
    return digest.hexdigest()[:20]


def stage(connection) -> None:
    """Each view's rows as they go into the lake, masked, with each row's key: its digest and its place among the
    equal rows of its run. Made in memory, before any transaction on the lake (DuckDB writes to one database in a
    transaction)."""
    for view in VIEWS:
        columns = ", ".join(masked_columns(connection, view))
        connection.execute(
            f"""CREATE OR REPLACE TEMP TABLE {STAGED.format(view=view)} AS
            SELECT r.*, digest || ':' || row_number() OVER (PARTITION BY r.{RUN_COLUMN}, digest) AS {ROW_KEY}
            FROM (SELECT m.*, md5(CAST(m AS VARCHAR)) AS digest FROM (SELECT {columns} FROM {view}) m) r"""
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


def lock_key(identity: RunIdentity) -> int:
    """The run's lock, a signed 64-bit number from its identity."""
    return int.from_bytes(hashlib.sha256(identity.run_id.encode()).digest()[:8], "big", signed=True)


def left_null(lake_columns: dict[str, str], given: set[str]) -> str:
    """The columns of the lake's table that a row does not give, each as NULL: a column the row leaves out would
    otherwise take its default, an expression anyone who can write the catalog may have set."""
    return "".join(f', NULL AS "{name}"' for name in lake_columns if name not in given)


def stage_identities(connection, identities: list[RunIdentity]) -> None:
    """The identity of each run about to be published, one row a run, which its rows are joined to as they go in.
    Made before the lake's transaction, like the staged rows."""
    names = [RUN_COLUMN, *IDENTITY]
    rows = [{name: getattr(identity, name) for name in names} for identity in identities]
    shape = rows_of("rows", dict.fromkeys(names, "VARCHAR"))
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {IDENTITIES} AS {shape}", {"rows": as_json(rows)})


def publish_tables(
    connection, plans: dict[str, dict[str, str]], identities: list[RunIdentity], tables: dict[str, dict[str, str]]
) -> dict[str, dict[str, int]]:
    """Within the batch's transaction, bring each table to the staged rows of the runs whose rows of it changed:
    add the keys the lake lacks and delete those it holds and the run no longer has. `plans`: for each view, the
    runs (by run id) whose rows changed, each `first` (never published: nothing to compare) or `again`; `tables`: the
    lake's tables and their columns. The rows added and removed, by run id."""
    counts = {identity.run_id: {"added": 0, "removed": 0} for identity in identities}
    for view, plan in plans.items():
        staged = STAGED.format(view=view)
        own = {name for (name,) in connection.execute(f"SELECT name FROM pragma_table_info('{staged}')").fetchall()}
        identity_columns = "".join(f', i."{name}"' for name in IDENTITY if name not in own)
        given = (own - {"digest"}) | set(IDENTITY)
        columns = f"s.* EXCLUDE (digest){identity_columns}{left_null(tables.get(view, {}), given)}"
        joined = f"FROM {staged} s JOIN {IDENTITIES} i USING ({RUN_COLUMN}) WHERE i.run_id IN ({texts_of('changed')})"
        again = [run_id for run_id, how in plan.items() if how == "again"]
        parameters = {"changed": as_json(list(plan))}
        if again:
            held_keys = f"SELECT run_id, {ROW_KEY} FROM lake.{view} WHERE run_id IN ({texts_of('again')})"
            staged_keys = f"SELECT i.run_id, s.{ROW_KEY} {joined}"
            gone = connection.execute(
                f"SELECT run_id, count(*) FROM ({held_keys} EXCEPT ALL {staged_keys}) GROUP BY ALL",
                parameters | {"again": as_json(again)},
            ).fetchall()
            for run_id, removed in gone:
                counts[run_id]["removed"] += removed
            if gone:
                connection.execute(
                    f"DELETE FROM lake.{view} WHERE run_id IN ({texts_of('again')}) AND run_id || ':' || {ROW_KEY} "
                    f"NOT IN (SELECT i.run_id || ':' || s.{ROW_KEY} {joined})",
                    parameters | {"again": as_json(again)},
                )
            joined += (
                f" AND (i.run_id NOT IN ({texts_of('again')}) OR i.run_id || ':' || s.{ROW_KEY} NOT IN "
                f"(SELECT run_id || ':' || {ROW_KEY} FROM lake.{view} WHERE run_id IN ({texts_of('again')})))"
            )
            parameters["again"] = as_json(again)
        new = dict(connection.execute(f"SELECT i.run_id, count(*) {joined} GROUP BY ALL", parameters).fetchall())
        if any(new.values()):
            connection.execute(f"INSERT INTO lake.{view} BY NAME SELECT {columns} {joined}", parameters)
        for run_id in plan:
            counts[run_id]["added"] += new.get(run_id, 0)
    return counts


def record_publications(
    connection, changed: dict[str, dict[str, tuple[int, str]]], identities: list[RunIdentity], tables: dict
) -> None:
    """A row in the book of publications for each table of each run whose rows changed, numbered among the run's
    publications under its lock, not by a clock, which differs between machines."""
    ids = [identity.run_id for identity in identities if changed.get(identity.run_id)]
    if not ids:
        return
    seqs = dict(connection.execute(
        f"SELECT run_id, coalesce(max(seq), 0) + 1 FROM lake.{PUBLICATIONS} WHERE run_id IN ({texts_of('ids')}) "
        "GROUP BY ALL",
        {"ids": as_json(ids)},
    ).fetchall())  # fmt: skip
    rows = [
        {"run_id": identity.run_id, "table_name": view, "rows": count, "digest": digest,
         "seq": seqs.get(identity.run_id, 1), "run": identity.run, "machine": identity.machine, "user": identity.user,
         "target": identity.target}
        for identity in identities
        for view, (count, digest) in changed.get(identity.run_id, {}).items()
    ]  # fmt: skip
    kinds = {name: PUBLICATION_COLUMNS[name] for name in rows[0]}
    others = [name for name in tables.get(PUBLICATIONS, {}) if name not in [*kinds, "published_at"]]
    nulls = "".join(f', NULL AS "{name}"' for name in others)  # (NULL, not the defaults a catalog may have set)
    connection.execute(
        f"INSERT INTO lake.{PUBLICATIONS} BY NAME SELECT *, CAST(timezone('UTC', now()) AS TIMESTAMP) AS published_at"
        f"{nulls} FROM ({rows_of('rows', kinds)})",
        {"rows": as_json(rows)},
    )


class PublishFailed(Exception):
    """A run's transaction could not be committed (the message says why, in one line)."""


def publish_runs(
    connection, lake: LakeSettings, identities: list[RunIdentity], tables: dict[str, dict[str, str]]
) -> dict[str, dict[str, int]]:
    """Bring the lake to the staged rows (see stage) of each run of `identities`, in one transaction, under each
    run's lock, taken in the order of their keys (so that two writers never wait on each other in a circle); the
    rows added and removed, by run id (none for a run the lake holds as it is). One transaction for many runs: a
    commit costs DuckLake a snapshot and a file for each table it adds to, whatever the rows. `tables`: the lake's
    tables and their columns."""
    import duckdb

    identities = [identity.masked() for identity in identities]
    local = local_digests(connection, [identity.run for identity in identities])
    stage_identities(connection, identities)

    def attempt() -> dict[str, dict[str, int]]:
        connection.execute("BEGIN TRANSACTION")
        try:
            for key in sorted({lock_key(identity) for identity in identities}):
                lock(connection, lake, key)  # (first: the lake's state is read after the locks are held)
            held = published_digests(connection, [identity.run_id for identity in identities])
            changed: dict[str, dict[str, tuple[int, str]]] = {}
            plans: dict[str, dict[str, str]] = {}
            for identity in identities:
                run_held = held[identity.run_id]
                for view, found in local[identity.run].items():
                    if run_held.get(view) == found[1] or not (found[0] or view in run_held):
                        continue
                    changed.setdefault(identity.run_id, {})[view] = found
                    plans.setdefault(view, {})[identity.run_id] = "again" if view in run_held else "first"
            counts = publish_tables(connection, plans, identities, tables)
            record_publications(connection, changed, identities, tables)
            connection.execute("COMMIT")
            return counts
        except BaseException:
            rollback(connection)
            raise

    # A commit DuckLake could not retry into place is tried again whole: nothing of it was kept.
    try:
        return retried(attempt, lambda error: isinstance(error, duckdb.TransactionException))
    except duckdb.TransactionException as error:
        raise PublishFailed(commit_failure(error)) from None


def rollback(connection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # (a failed commit has ended the transaction already)
        connection.execute("ROLLBACK")


# DuckLake's message for a commit that failed quotes the catalog's statement, rows' values and all, then says what the
# catalog answered: `… Failed to execute query "INSERT INTO … VALUES …": ERROR:  permission denied for table …`.
CATALOG_ANSWER = re.compile(r'": (ERROR: .*)$')


def commit_failure(error: Exception) -> str:
    """Why a commit failed: DuckLake's words and the catalog's answer, without the statement between them."""
    text = first_line(error)
    said = text.split(" Failed to flush changes", 1)[0].split(": Failed to execute query", 1)[0][:300]
    answer = CATALOG_ANSWER.search(text)
    return said + (f" ({' '.join(answer.group(1).split())[:300]})" if answer else "")
