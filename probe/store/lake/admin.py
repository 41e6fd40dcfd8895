"""A connection for changing what the lake holds (removing or relabelling a run, tidying): attached for writing, the
catalog's text that DuckLake would run checked first, the role's right to write asked before anything starts, and
the connection confined to the lake's data path; and a run found by its id or its folder's name."""

from dataclasses import dataclass

from probe.common.errors import UsageError, one_line
from probe.store.lake.basics import METADATA, PUBLICATIONS, LakeSettings, existing
from probe.store.lake.code import refuse_foreign_inlined_tables, refuse_sort_expressions
from probe.store.lake.connection import attach, confine, is_postgres

ROLES = "see the team lake's docs, Roles for writers and readers"


def open_for_changes(connection, lake: LakeSettings, doing: str) -> dict[str, dict[str, str]]:
    """Attach the lake to `connection` to change it (`doing` names the command, for the messages); the lake's tables
    and their columns. A lake no run was published to, a role that may not write the catalog, or a catalog holding
    text DuckLake would run as SQL is a UsageError in one line, before anything is changed."""
    attach(connection, lake)
    refuse_foreign_inlined_tables(connection)
    refuse_sort_expressions(connection)
    if is_postgres(lake):
        refuse_reader(connection, doing)
    tables = existing(connection)
    if PUBLICATIONS not in tables:
        raise UsageError("lake: no run has been published to it yet (see publish)")
    confine(connection, lake)
    return tables


def refuse_reader(connection, doing: str) -> None:
    """A role PostgreSQL does not let add snapshots to the catalog is a UsageError: every change to the lake commits
    one, and a merge would leave the files it wrote behind when its commit is refused."""
    query = "SELECT has_table_privilege(current_user, 'ducklake_snapshot', 'INSERT'), current_user"
    [(allowed, role)] = connection.execute("SELECT * FROM postgres_query($db, $query)",
                                           {"db": METADATA, "query": query}).fetchall()  # fmt: skip
    if not allowed:
        raise UsageError(
            f"lake: the role {one_line(str(role))[:64]} may not write the lake's catalog, and {doing} changes it: "
            f"ask for a writer's role ({ROLES})"
        )


@dataclass(frozen=True)
class LakeRun:
    """A run the lake holds, as its publications name it."""

    run_id: str
    target: str
    run: str

    def shown(self) -> str:
        return one_line(f"{self.target}/{self.run} ({self.run_id})")


def find_run(connection, given: str) -> LakeRun:
    """The run `given` names in the lake: its run_id, its folder's name, or target/name (a path's last two parts).
    None, or more than one, is a UsageError in one line (listing the run_ids a name could mean)."""
    parts = given.rstrip("/").split("/")
    name, target = parts[-1], parts[-2] if len(parts) > 1 else None
    rows = connection.execute(
        f"""SELECT DISTINCT run_id, target, run FROM lake.{PUBLICATIONS}
        WHERE run_id = $given OR (run = $name AND ($target IS NULL OR target = $target)) ORDER BY ALL""",
        {"given": given, "name": name, "target": target},
    ).fetchall()
    exact = [row for row in rows if row[0] == given]
    rows = exact or rows
    if not rows:
        raise UsageError(f"lake: no run {one_line(given)[:200]!r} in it (a run_id, or a run folder's name)")
    if len({row[0] for row in rows}) > 1:
        ids = ", ".join(f"{row[0]} ({one_line(row[1])})" for row in rows[:20])
        raise UsageError(f"lake: {one_line(given)[:200]!r} names {len(rows)} runs, give its run_id: {ids}")
    return LakeRun(*rows[0])


def run_tables(tables: dict[str, dict[str, str]]) -> list[str]:
    """The lake's tables that hold rows of runs (a `run_id` column), `publications` last."""
    return sorted(name for name, columns in tables.items() if "run_id" in columns and name != PUBLICATIONS) + [
        PUBLICATIONS
    ]
