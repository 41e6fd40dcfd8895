"""The lake kept in shape: rows of small inserts moved from the catalog into files, small files merged, files with
deleted rows rewritten, snapshots expired once superseded for a while, and the files no snapshot needs any more
deleted, each by DuckLake's own functions; with the figures before and after."""

from dataclasses import dataclass

from probe.store.lake.basics import ALIAS, METADATA

# A file no snapshot ever named is a publish's in flight (written before its commit) or a crashed one's: deleted only
# once this old, whatever the age asked for, so that no commit under way loses its files.
ORPHAN_AGE = 3600


@dataclass(frozen=True)
class Shape:
    """What the lake holds: its snapshots, and the data and delete files its catalog names now, with their bytes."""

    snapshots: int
    files: int
    bytes: int


@dataclass(frozen=True)
class Tidied:
    before: Shape
    after: Shape
    flushed: int  # rows moved out of the catalog into files
    merged: int  # files merged into others
    merged_into: int
    rewritten: int  # files rewritten without their deleted rows
    expired: int  # snapshots
    deleted: int  # files deleted from the data path
    waiting: int  # files scheduled for deletion, left for a later tidy


def shape(connection) -> Shape:
    """The lake's snapshots and live files, from its catalog."""
    [(snapshots,)] = connection.execute(f"SELECT count(*) FROM {METADATA}.ducklake_snapshot").fetchall()
    [(files, size)] = connection.execute(
        f"""SELECT count(*), coalesce(sum(file_size_bytes), 0) FROM (
            SELECT file_size_bytes FROM {METADATA}.ducklake_data_file
            UNION ALL SELECT file_size_bytes FROM {METADATA}.ducklake_delete_file)"""
    ).fetchall()
    return Shape(int(snapshots), int(files), int(size))


def tidy(connection, keep: float) -> Tidied:
    """Merge, rewrite, expire and clean up the attached lake. `keep`: seconds for which a snapshot is kept after a
    newer one superseded it, and a file after it stopped being used, so that a query or a publish running that long
    still finds what it reads (0: all but the newest snapshot, every file no snapshot needs)."""
    before = shape(connection)
    # Rows of small inserts out of the catalog into files of the data path: those of a removed run stay in the
    # catalog otherwise, and each is read from PostgreSQL a row at a time.
    flushed = connection.execute(f"SELECT * FROM ducklake_flush_inlined_data('{ALIAS}')").fetchall()
    merges = connection.execute(f"SELECT * FROM ducklake_merge_adjacent_files('{ALIAS}')").fetchall()
    rewrites = connection.execute(
        f"SELECT * FROM ducklake_rewrite_data_files('{ALIAS}', delete_threshold => 0)"
    ).fetchall()
    # A snapshot is needed by whoever started reading while it was the newest: expire those superseded `keep` ago,
    # i.e. older than the newest snapshot made before then (DuckLake never expires the newest one).
    [(cutoff,)] = connection.execute(
        "SELECT max(snapshot_time) FROM ducklake_snapshots($lake) WHERE snapshot_time <= now() - to_seconds($keep)",
        {"lake": ALIAS, "keep": keep},
    ).fetchall()
    expired = []
    if cutoff is not None:
        expired = connection.execute(
            "SELECT * FROM ducklake_expire_snapshots($lake, older_than => $cutoff)", {"lake": ALIAS, "cutoff": cutoff}
        ).fetchall()
    deleted = connection.execute(
        "SELECT * FROM ducklake_cleanup_old_files($lake, older_than => now() - to_seconds($keep))",
        {"lake": ALIAS, "keep": keep},
    ).fetchall()
    deleted += connection.execute(
        "SELECT * FROM ducklake_delete_orphaned_files($lake, older_than => now() - to_seconds($keep))",
        {"lake": ALIAS, "keep": max(keep, ORPHAN_AGE)},
    ).fetchall()
    scheduled = f"SELECT count(*) FROM {METADATA}.ducklake_files_scheduled_for_deletion"
    [(waiting,)] = connection.execute(scheduled).fetchall()
    return Tidied(
        before=before,
        after=shape(connection),
        flushed=sum(row[2] for row in flushed),
        merged=sum(row[2] for row in merges),
        merged_into=sum(row[3] for row in merges),
        rewritten=sum(row[2] for row in rewrites),
        expired=len(expired),
        deleted=len(deleted),
        waiting=int(waiting),
    )
