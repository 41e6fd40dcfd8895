"""Adding runs to the team lake: each run's rows of every view, masked, keyed by their content, in one transaction
under the run's lock, so that a run lands once, a run published again adds nothing, and a run that changed adds
what is new and takes back what is gone."""

import contextlib
import dataclasses
import hashlib
import re
from dataclasses import dataclass

from probe.redact.secrets import mask_tokens_and_urls
from probe.store.files import quoted
from probe.store.lake.connection import first_line, lock, retried
from probe.store.lake.settings import LakeSettings
from probe.store.lake.tables import IDENTITY, PUBLICATIONS, ROW_KEY
from probe.store.masked_rows import masked_columns
from probe.store.views import VIEWS

STAGED = "staged_{view}"  # a view's masked rows, with their run and key, made before the lake's transaction
RUN_COLUMN = "run"  # every view names the run folder a row is of


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


def local_digests(connection, run: str) -> dict[str, tuple[int, str]]:
    """Each view's rows of `run` as staged: how many, and a digest of their keys."""
    found = {}
    for view in VIEWS:
        count, keys = connection.execute(
            f"SELECT count(*), md5(coalesce(string_agg({ROW_KEY}, ',' ORDER BY {ROW_KEY}), '')) "
            f"FROM {STAGED.format(view=view)} WHERE {RUN_COLUMN} = $run",
            {"run": run},
        ).fetchone()
        found[view] = (count, keys)
    return found


def published_digests(connection, identity: RunIdentity) -> dict[str, str]:
    """What the lake holds of the run, by table: the digest of its newest publication."""
    rows = connection.execute(
        f"""SELECT table_name, digest FROM lake.{PUBLICATIONS} WHERE run_id = $id
        QUALIFY row_number() OVER (PARTITION BY table_name ORDER BY seq DESC) = 1""",
        {"id": identity.run_id},
    ).fetchall()
    return dict(rows)


def lock_key(run_id: str) -> int:
    """The run's lock, a signed 64-bit number from its run_id (what publishing, removing and relabelling it take)."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big", signed=True)


def identity_values(identity: RunIdentity, own: set[str]) -> str:
    """The identity columns a view does not have itself, as values."""
    values = {name: getattr(identity, name) for name in IDENTITY if name not in own}
    return "".join(f', {quoted(value) if value is not None else "NULL"} AS "{name}"' for name, value in values.items())


def left_null(lake_columns: dict[str, str], given: set[str]) -> str:
    """The columns of the lake's table that a row does not give, each as NULL: a column the row leaves out would
    otherwise take its default, an expression anyone who can write the catalog may have set."""
    return "".join(f', NULL AS "{name}"' for name in lake_columns if name not in given)


def publish_tables(
    connection,
    identity: RunIdentity,
    changed: dict[str, tuple[int, str]],
    first: set[str],
    tables: dict[str, dict[str, str]],
) -> dict:
    """Within the run's transaction, bring each table of `changed` to the run's staged rows: add the keys the lake
    lacks and delete those it holds and the run no longer has (`first`: the tables never published, which need no
    comparing; `tables`: the lake's tables and their columns). The rows added and removed."""
    added = removed = 0
    for view in changed:
        staged = STAGED.format(view=view)
        own = {name for (name,) in connection.execute(f"SELECT name FROM pragma_table_info('{staged}')").fetchall()}
        given = (own - {"digest"}) | set(IDENTITY)
        columns = f"s.* EXCLUDE (digest){identity_values(identity, own)}{left_null(tables.get(view, {}), given)}"
        new = f"FROM {staged} s WHERE s.{RUN_COLUMN} = $run"
        held = f"SELECT {ROW_KEY} FROM lake.{view} WHERE run_id = $id"
        parameters = {"run": identity.run, "id": identity.run_id}
        if view not in first:
            gone = connection.execute(
                f"DELETE FROM lake.{view} WHERE run_id = $id AND {ROW_KEY} NOT IN "
                f"(SELECT {ROW_KEY} FROM {staged} WHERE {RUN_COLUMN} = $run)",
                parameters,
            ).fetchone()
            removed += gone[0] if gone else 0
            new += f" AND s.{ROW_KEY} NOT IN ({held})"
        if view in first:
            parameters.pop("id")  # (DuckDB refuses a parameter the statement does not name)
        put = connection.execute(f"INSERT INTO lake.{view} BY NAME SELECT {columns} {new}", parameters).fetchone()
        added += put[0] if put else 0
    if not changed:
        return {"added": added, "removed": removed}
    # The run's publications in order: numbered under its lock, not by a clock, which differs between machines.
    [(seq,)] = connection.execute(
        f"SELECT coalesce(max(seq), 0) + 1 FROM lake.{PUBLICATIONS} WHERE run_id = $id", {"id": identity.run_id}
    ).fetchall()
    rows = [
        (identity.run_id, view, count, digest, seq, identity.run, identity.machine, identity.user, identity.target)
        for view, (count, digest) in changed.items()
    ]
    given = ["run_id", "table_name", "rows", "digest", "seq", "published_at", "run", "machine", "user", "target"]
    others = [name for name in tables.get(PUBLICATIONS, {}) if name not in given]  # (NULL, not their defaults)
    names = ", ".join(f'"{name}"' for name in given + others)
    connection.executemany(
        f"INSERT INTO lake.{PUBLICATIONS} ({names}) VALUES (?, ?, ?, ?, ?, CAST(timezone('UTC', now()) AS TIMESTAMP), "
        f"?, ?, ?, ?{', NULL' * len(others)})",
        rows,
    )
    return {"added": added, "removed": removed}


class PublishFailed(Exception):
    """A run's transaction could not be committed (the message says why, in one line)."""


def publish_run(
    connection, lake: LakeSettings, identity: RunIdentity, tables: dict[str, dict[str, str]]
) -> dict[str, int]:
    """Bring the lake to the run's staged rows (see stage), under the run's lock; the rows added and removed (none
    when the lake holds the run as it is). `tables`: the lake's tables and their columns."""
    import duckdb

    identity = identity.masked()
    local = local_digests(connection, identity.run)

    def attempt() -> dict[str, int]:
        connection.execute("BEGIN TRANSACTION")
        try:
            # (first: the lake's state is read after the lock is held)
            lock(connection, lake, lock_key(identity.run_id))
            held = published_digests(connection, identity)
            changed = {view: found for view, found in local.items() if held.get(view) != found[1]}
            changed = {view: found for view, found in changed.items() if found[0] or view in held}
            first = {view for view in changed if view not in held}
            counts = publish_tables(connection, identity, changed, first, tables)
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
