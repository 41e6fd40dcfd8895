"""Publish runs to a team lake (DuckLake, its catalog in PostgreSQL): every SQL view's rows of each run, masked, with
who published it and from where; a run lands once, publishing it again adds nothing, and a run still being recorded
is published when it ends."""

import io
import sys
import time
from pathlib import Path

from probe.analysis.report import refresh_all
from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import RunError, UsageError, one_line, run_main, warn
from probe.common.paths import data_dir, display
from probe.runs.folders import being_recorded, list_runs, read_manifest, resolve_run
from probe.runs.targets import load_target
from probe.store.lake.settings import LakeSettings, add_lake_options, given, settings

CHUNK = 50  # runs read into one in-memory database at a time, each then published in its own transaction
FIRST_LINE = 1 << 20  # of the first exchange, what a run's identity reads
WAIT_POLL = 1.0  # seconds between looks at a run being recorded


def identity_of(run: Path, lake: LakeSettings):
    from probe.store.lake.publish import RunIdentity, run_id

    manifest = read_manifest(run) or {}
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    text = lambda value: value if isinstance(value, str) else None  # noqa: E731  (a manifest may come from anyone)
    target = run.parent.name
    return RunIdentity(
        run_id=run_id(target, run.name, text(manifest.get("started_at")), first_exchange(run)),
        machine=lake.machine,
        user=lake.user,
        target=target,
        agent_version=text(agent.get("version")),
        login=text(manifest.get("login")),
        run=run.name,
    )


def first_exchange(run: Path) -> bytes:
    """The first line of the run's traffic.jsonl, up to FIRST_LINE bytes (nothing for a run with none)."""
    try:
        with (run / "traffic.jsonl").open("rb") as traffic:
            return traffic.readline(FIRST_LINE)
    except OSError:
        return b""


def refusal(run: Path) -> str | None:
    if (read_manifest(run) or {}).get("keep_secrets") is True:
        return "captured with --keep-secrets, so not published (a lake holds only masked captures)"
    return None


def chunks(runs: list[Path]) -> list[list[Path]]:
    """The runs in groups of at most CHUNK, no two of one group with the same folder name (the views name a run by
    its folder's name alone)."""
    groups: list[list[Path]] = []
    for run in runs:
        group = next((g for g in groups if len(g) < CHUNK and all(r.name != run.name for r in g)), None)
        if group is None:
            groups.append(group := [])
        group.append(run)
    return groups


def make_tables(connection) -> None:
    """Make what the lake lacks; another writer making a table at once is tried again."""
    import duckdb

    from probe.store.lake.connection import retried
    from probe.store.lake.tables import make_tables as make

    retried(lambda: make(connection), lambda error: isinstance(error, (duckdb.TransactionException,
                                                                          duckdb.CatalogException)))  # fmt: skip


def publish_group(runs: list[Path], lake: LakeSettings, out) -> tuple[int, list[str]]:
    """Publish `runs` through one in-memory database, in one transaction on the lake (where it fails, each run is
    tried on its own, so that one run's failure is found and the others land); the rows added, and a line for each
    run that failed."""
    import duckdb

    from probe.store.connection import connect
    from probe.store.lake.connection import first_line
    from probe.store.lake.publish import stage
    from probe.store.lake.tables import existing
    from probe.store.lake.writer import open_for_publishing

    warnings: list[str] = []
    connection = connect(runs, warnings)
    failed: list[str] = []
    counts: dict[Path, dict[str, int]] = {}
    try:
        for warning in warnings:
            warn(warning)
        open_for_publishing(connection, lake, runs)
        make_tables(connection)
        tables = existing(connection)
        stage(connection)
        loaded = {name for (name,) in connection.execute("SELECT run FROM runs").fetchall()}
        failed += [f"{shown(run)}: cannot be read (see the warning above)" for run in runs if run.name not in loaded]
        readable = [run for run in runs if run.name in loaded]
        if readable:
            counts, missed = publish_or_each(connection, lake, readable, tables)
            failed += missed
    except duckdb.Error as error:  # (a fatal one too: the connection cannot be used again)
        raise RunError(f"lake: {first_line(error)}") from None
    finally:
        connection.close()
    for run, count in counts.items():
        said = "already published" if not (count["added"] or count["removed"]) else (
            f"{count['added']:,} rows added, {count['removed']:,} removed"
        )  # fmt: skip
        print(f"{shown(run)}: {said}", file=out, flush=True)
    return sum(count["added"] for count in counts.values()), failed


def publish_or_each(connection, lake: LakeSettings, runs: list[Path], tables) -> tuple[dict, list[str]]:
    """`runs` published in one transaction, or where that fails, each on its own; the rows added and removed by run,
    and a line for each run that failed."""
    import duckdb

    from probe.store.lake.publish import PublishFailed

    try:
        return publish_batch(connection, lake, runs, tables), []
    except duckdb.FatalException:
        raise
    except (PublishFailed, duckdb.Error) as error:
        if len(runs) == 1:
            return {}, [f"{shown(runs[0])}: {why_failed(error)}"]
    counts, failed = {}, []
    for run in runs:
        found, missed = publish_or_each(connection, lake, [run], tables)
        counts |= found
        failed += missed
    return counts, failed


def publish_batch(connection, lake: LakeSettings, runs: list[Path], tables) -> dict[Path, dict[str, int]]:
    """`runs` published in one transaction: the rows added and removed, by run."""
    from probe.store.lake.publish import publish_runs

    identities = {run: identity_of(run, lake) for run in runs}
    by_id = publish_runs(connection, lake, list(identities.values()), tables) if runs else {}
    return {run: by_id[identity.run_id] for run, identity in identities.items()}


def why_failed(error: Exception) -> str:
    """A failed publication in one line: PublishFailed says why already, a DuckDB error through commit_failure."""
    from probe.store.lake.publish import PublishFailed, commit_failure

    return str(error) if isinstance(error, PublishFailed) else commit_failure(error)


def shown(run: Path) -> str:
    return one_line(f"{run.parent.name}/{run.name}")


def reach(lake: LakeSettings) -> None:
    """Attach the lake once and make its tables, or say in one line why it cannot be."""
    import duckdb

    from probe.store.connection import connect
    from probe.store.lake.connection import first_line
    from probe.store.lake.writer import open_for_publishing

    connection = connect([])  # (the views over no run: the tables are made after them)
    try:
        open_for_publishing(connection, lake, [])
        make_tables(connection)
    except duckdb.Error as error:
        raise RunError(f"lake: {first_line(error)}") from None
    finally:
        connection.close()


def wait_for_end(run: Path) -> None:
    print(f"{display(run)} is being recorded: it is published when it ends (Ctrl-C stops waiting)", file=sys.stderr)
    while being_recorded(run):
        time.sleep(WAIT_POLL)


def publish(runs: list[Path], lake: LakeSettings, every: bool, out=None) -> int:
    """Publish `runs`: the one asked for, or with `every` all of them (a run that cannot be published is then left
    out with a warning). Runs being recorded are waited for, after the others."""
    out = out or sys.stdout
    kept = []
    for run in runs:
        problem = refusal(run)
        if problem and not every:
            raise RunError(f"{display(run)}: {problem}")
        if problem:
            warn(f"{display(run)}: {problem}; left out")
        else:
            kept.append(run)
    reach(lake)  # (a lake that cannot be reached is one line now, not after the runs are read)
    recording = [run for run in kept if being_recorded(run)]
    added, failed, published = 0, [], 0

    def publish_batch(batch: list[Path]) -> None:
        nonlocal added, failed, published
        counts = refresh_all(batch, out=io.StringIO())
        if counts["failed"]:
            warn(f"{counted(counts['failed'], 'run')} could not be analysed again (see analyze --run all): what "
                 "their last analysis wrote is published")  # fmt: skip
        rows, missed = publish_group(batch, lake, out)
        added += rows
        failed += missed
        published += len(batch) - len(missed)

    for batch in chunks([run for run in kept if run not in recording]):
        publish_batch(batch)
    for run in recording:
        wait_for_end(run)
        problem = refusal(run)  # (its manifest is whole only now)
        if problem:
            failed.append(f"{display(run)}: {problem}")
        else:
            publish_batch([run])
    for line in failed:
        warn(line)
    print(f"lake: {counted(published, 'run')} in it as recorded here, {counted(added, 'row')} added", file=out)
    if failed:
        raise RunError(f"{counted(len(failed), 'run')} not published (see the warnings above)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.analysis.publish", description=__doc__)
    parser.add_argument(
        "--run", type=cli.not_empty, metavar="RUN", default="latest",
        help="`latest` (default), a run folder name or path, or `all`: every run of the data folder",
    )  # fmt: skip
    parser.add_argument(
        "--target", type=cli.not_empty,
        help="with --run latest, the newest run of this target; with --run all, its runs",
    )  # fmt: skip
    add_lake_options(parser)
    args = parser.parse_args(argv)
    lake = settings(given(args))
    target = load_target(args.target) if args.target else None
    if args.run != "all":
        return publish([resolve_run(args.run, target.name if target else None)], lake, every=False)
    if not data_dir().is_dir():  # a mistyped PROBE_DATA_DIR must not pass for "no runs"
        raise RunError(f"no data folder at {display(data_dir())} (see PROBE_DATA_DIR and invoke.yaml)")
    runs = list_runs(target.name if target else None)
    if not runs:
        raise UsageError(f"no runs in {display(data_dir())} to publish")
    return publish(runs, lake, every=True)


if __name__ == "__main__":
    sys.exit(run_main(main))
