"""The team lake's upkeep: `tidy` merges its small files, expires old snapshots and deletes the files nothing needs;
`remove` takes runs out of it; `relabel` changes whom a run is credited to. Each in one line of figures, safe while
others publish."""

import re
import sys

from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import RunError, UsageError, run_main, warn
from probe.runs.labels import LABEL
from probe.store.lake.settings import add_lake_options, given, settings

# How long `tidy` keeps a snapshot after a newer one superseded it, and a file after it stopped being used: a query or
# a publish that started reading before then, and still runs, finds what it reads. Those of agent-probe last seconds
# (each run is published in a transaction of its own); an hour leaves a person's longest query room, and a lake
# published to all day still sheds all but its last hour's snapshots.
KEEP = "1h"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"(\d{1,9})([smhd]?)")
CREDIT_HELP = {
    "machine": "the machine to credit the run to",
    "user": "the user to credit the run to",
    "team": "the run's team",
    "project": "the run's project",
    "repository": "the run's repository",
}


def duration(text: str) -> float:
    """Seconds from `90s`, `30m`, `1h`, `7d` or a plain number of seconds."""
    found = DURATION.fullmatch(text.strip())
    if not found:
        raise cli.argparse.ArgumentTypeError(f"expected a duration such as 30m, 1h or 7d, got {text!r}")
    return int(found.group(1)) * UNITS[found.group(2) or "s"]


def said_duration(seconds: float) -> str:
    """Seconds as `duration` reads them: 3600 as 1h."""
    unit = next(unit for unit in "dhms" if seconds % UNITS[unit] == 0) if seconds else "s"
    return f"{int(seconds // UNITS[unit])}{unit}"


def label(text: str) -> str:
    if not LABEL.fullmatch(text):
        raise cli.argparse.ArgumentTypeError(f"'{text}': a label is 1 to 64 letters, digits and . _ @ -")
    return text


def connected(args, doing: str):
    """An in-memory DuckDB with the lake attached to change it, and the lake's tables (probe.store.lake.admin)."""
    import duckdb

    from probe.store.connection import open_database
    from probe.store.lake.admin import open_for_changes
    from probe.store.lake.connection import first_line

    lake = settings(given(args))
    connection = open_database()
    try:
        return lake, connection, open_for_changes(connection, lake, doing)
    except duckdb.Error as error:
        connection.close()
        raise RunError(f"lake: {first_line(error)}") from None
    except BaseException:
        connection.close()
        raise


def changing(connection, action) -> object:
    """`action()`, a DuckDB failure (a commit the catalog refused) said in one line."""
    import duckdb

    from probe.store.lake.publish import commit_failure

    try:
        return action()
    except duckdb.Error as error:
        raise RunError(f"lake: {commit_failure(error)}") from None


def tidy(args) -> int:
    from probe.store.lake.maintain import tidy as tidy_lake

    if args.keep < UNITS["h"]:
        warn(f"--keep {said_duration(args.keep)}: snapshots and files a query or a publish running now may still "
             "read are deleted too (it then fails, and is run again)")  # fmt: skip
    _, connection, _ = connected(args, "tidy")
    try:
        done = changing(connection, lambda: tidy_lake(connection, args.keep))
    finally:
        connection.close()
    before, after = done.before, done.after
    print(f"lake: snapshots {before.snapshots:,} -> {after.snapshots:,} ({done.expired:,} expired; kept: the newest "
          f"and those superseded less than {said_duration(args.keep)} ago)")  # fmt: skip
    print(f"lake: files {before.files:,} -> {after.files:,}, {before.bytes:,} -> {after.bytes:,} bytes "
          f"({counted(done.flushed, 'row')} moved out of the catalog, {counted(done.merged, 'file')} merged into "
          f"{done.merged_into:,}, "
          f"{done.rewritten:,} rewritten without deleted rows; "
          f"{done.deleted:,} deleted from the data path, {done.waiting:,} left for a later tidy)")  # fmt: skip
    return 0


def remove(args) -> int:
    from probe.store.lake.admin import find_run
    from probe.store.lake.remove import remove_run, said

    lake, connection, tables = connected(args, "remove")
    try:
        runs = [find_run(connection, run) for run in args.runs]  # (all found before any is removed)
        for run in dict.fromkeys(runs):
            removed = changing(connection, lambda run=run: remove_run(connection, lake, run, tables))
            print(said(run, removed), flush=True)
    finally:
        connection.close()
    return 0


def relabel(args) -> int:
    from probe.store.lake.admin import find_run
    from probe.store.lake.relabel import CREDIT, relabel_run, said

    labels = {name: getattr(args, name) for name in CREDIT if getattr(args, name)}
    if not labels:
        raise UsageError(f"relabel: give at least one of {', '.join('--' + name for name in CREDIT)}")
    lake, connection, tables = connected(args, "relabel")
    try:
        run = find_run(connection, args.run)
        before, changed, touched = changing(connection, lambda: relabel_run(connection, lake, run, labels, tables))
        print(said(run, labels, before, changed, touched))
    finally:
        connection.close()
    return 0


def parser() -> cli.ArgumentParser:
    top = cli.ArgumentParser(prog="python -m probe.analysis.lake", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True, metavar="{tidy,remove,relabel}")
    made = commands.add_parser(
        "tidy", help="merge small files, expire old snapshots, delete the files no snapshot needs",
        description="Merge the lake's small files, rewrite those mostly deleted, expire the snapshots superseded "
        "longer than --keep ago and delete the files none needs; safe while others publish.",
    )  # fmt: skip
    made.add_argument(
        "--keep", type=duration, default=duration(KEEP), metavar="DURATION",
        help=f"keep a snapshot this long after a newer one superseded it, and a file this long after it stopped "
        f"being used, for the queries and publishes running meanwhile: 30m, 1h, 7d, 0 (default {KEEP})",
    )  # fmt: skip
    add_lake_options(made, labels=False)
    made.set_defaults(action=tidy)
    made = commands.add_parser(
        "remove", help="take runs out of the lake, every table and publications",
        description="Take runs out of the lake: their rows of every table, in one transaction each, under the run's "
        "lock. Publishing a run again puts it back.",
    )  # fmt: skip
    made.add_argument("runs", nargs="+", metavar="RUN", help="a run_id, or a run folder's name (target/name)")
    add_lake_options(made, labels=False)
    made.set_defaults(action=remove)
    made = commands.add_parser(
        "relabel", help="credit a run to another machine, user, team, project or repository",
        description="Set a run's credited labels in every table of the lake that has the column, in one "
        "transaction, under the run's lock.",
    )  # fmt: skip
    made.add_argument("run", metavar="RUN", help="a run_id, or a run folder's name (target/name)")
    for name, text in CREDIT_HELP.items():
        made.add_argument(f"--{name}", type=label, metavar="LABEL", help=f"{text} (letters, digits and . _ @ -)")
    add_lake_options(made, labels=False)
    made.set_defaults(action=relabel)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.action(args)


if __name__ == "__main__":
    sys.exit(run_main(main))
