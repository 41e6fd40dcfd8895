"""Adding runs to the team lake: each run's rows of every view, masked, keyed by their content, in one transaction
under the run's lock, so that a run lands once, a run published again adds nothing, and a run that changed adds
what is new and takes back what is gone."""

import contextlib
import hashlib
import re
from dataclasses import dataclass

from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.labels import LABEL_NAMES
from probe.store.columns import view_columns
from probe.store.files import quoted
from probe.store.identity import CREDIT, IDENTITY
from probe.store.lake.connection import first_line, lock, retried
from probe.store.lake.settings import LakeSettings
from probe.store.lake.tables import PUBLICATIONS, PUBLISHED_BY, ROW_KEY
from probe.store.masked_rows import masked_columns
from probe.store.views import VIEWS

STAGED = "staged_{view}"  # a view's masked rows, with their run and key, made before the lake's transaction
RUN_COLUMN = "run"  # every view names the run folder a row is of
CREDITED = "runs"  # the table whose row of a run says whom the lake credits it to (every run has one)


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


def lock_key(identity: RunIdentity) -> int:
    """The run's lock, a signed 64-bit number from its identity."""
    return int.from_bytes(hashlib.sha256(identity.run_id.encode()).digest()[:8], "big", signed=True)


def left_null(lake_columns: dict[str, str], given: set[str]) -> str:
    """The columns of the lake's table that a row does not give, each as NULL: a column the row leaves out would
    otherwise take its default, an expression anyone who can write the catalog may have set."""
    return "".join(f', NULL AS "{name}"' for name in lake_columns if name not in given)


def held_credit(connection, identity: RunIdentity) -> dict[str, str | None] | None:
    """Whom the lake credits the run to (its `runs` row's labels), where it holds the run."""
    credit = ", ".join(f'"{column}"' for column in CREDIT)
    found = connection.execute(
        f"SELECT {credit} FROM lake.{CREDITED} WHERE run_id = $id LIMIT 1", {"id": identity.run_id}
    ).fetchone()
    return None if found is None else dict(zip(CREDIT, found))


def differs(held: dict[str, str | None] | None, identity: RunIdentity) -> bool:
    """Whether the lake credits the run to other labels than its manifest's (whose they are aside)."""
    return held is not None and any(held[name] != identity.labels[name] for name in LABEL_NAMES)


def publish_tables(
    connection,
    identity: RunIdentity,
    changed: dict[str, tuple[int, str]],
    first: set[str],
    tables: dict[str, dict[str, str]],
    credit: dict[str, str | None],
) -> dict:
    """Within the run's transaction, bring each table of `changed` to the run's staged rows: add the keys the lake
    lacks and delete those it holds and the run no longer has (`first`: the tables never published, which need no
    comparing; `tables`: the lake's tables and their columns; `credit`: the labels the rows added carry, which are
    the lake's where it holds the run already). The rows added and removed."""
    added = removed = 0
    publisher = dict(zip(PUBLISHED_BY, identity.publisher))
    for view in changed:
        staged = STAGED.format(view=view)
        own = {name for (name,) in connection.execute(f"SELECT name FROM pragma_table_info('{staged}')").fetchall()}
        given = (own - {"digest"}) | set(PUBLISHED_BY)
        values = credit_values(credit) | publisher
        put_values = "".join(f', {literal(value)} AS "{name}"' for name, value in values.items())
        columns = f"s.* EXCLUDE (digest, {', '.join(map(quoted_name, CREDIT))}){put_values}"
        columns += left_null(tables.get(view, {}), given)
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
    labelled = credit_values(credit) | publisher
    rows = [
        (identity.run_id, view, count, digest, seq, identity.run, identity.target, *labelled.values())
        for view, (count, digest) in changed.items()
    ]
    given = ["run_id", "table_name", "rows", "digest", "seq", "published_at", "run", "target", *labelled]
    others = [name for name in tables.get(PUBLICATIONS, {}) if name not in given]  # (NULL, not their defaults)
    names = ", ".join(f'"{name}"' for name in given + others)
    connection.executemany(
        f"INSERT INTO lake.{PUBLICATIONS} ({names}) VALUES (?, ?, ?, ?, ?, CAST(timezone('UTC', now()) AS TIMESTAMP), "
        f"?, ?{', ?' * len(labelled)}{', NULL' * len(others)})",
        rows,
    )
    return {"added": added, "removed": removed}


def credit_values(credit: dict[str, str | None]) -> dict[str, str | None]:
    """The labels a row carries, masked as the views' texts are (a lake's may hold anything)."""
    return {name: mask_tokens_and_urls(value) if isinstance(value, str) else None for name, value in credit.items()}


def literal(value: str | None) -> str:
    return quoted(value) if value is not None else "NULL"


def quoted_name(name: str) -> str:
    return f'"{name}"'


class PublishFailed(Exception):
    """A run's transaction could not be committed (the message says why, in one line)."""


def publish_run(connection, lake: LakeSettings, identity: RunIdentity, tables: dict[str, dict[str, str]]) -> dict:
    """Bring the lake to the run's staged rows (see stage), under the run's lock; the rows added and removed (none
    when the lake holds the run as it is), and `lake_credit`: the labels the lake credits the run to where they are
    not its manifest's (which it keeps), else None. `tables`: the lake's tables and their columns."""
    import duckdb

    local = local_digests(connection, identity.run)

    def attempt() -> dict:
        connection.execute("BEGIN TRANSACTION")
        try:
            lock(connection, lake, lock_key(identity))  # (first: the lake's state is read after the lock is held)
            held = published_digests(connection, identity)
            changed = {view: found for view, found in local.items() if held.get(view) != found[1]}
            changed = {view: found for view, found in changed.items() if found[0] or view in held}
            first = {view for view in changed if view not in held}
            lake_credit = held_credit(connection, identity) if held else None
            # A run the lake credits to other labels keeps them (re-labelling is a command of its own).
            credit = lake_credit if differs(lake_credit, identity) else identity.labels
            counts = publish_tables(connection, identity, changed, first, tables, credit)
            connection.execute("COMMIT")
            return counts | {"lake_credit": lake_credit if differs(lake_credit, identity) else None}
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
