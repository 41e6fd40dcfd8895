"""Publish runs to a team lake (DuckLake, its catalog in PostgreSQL): every SQL view's rows of each run, masked,
credited to the labels its manifest recorded (whoever recorded it), with who published it; a run lands once,
publishing it again adds nothing, and a run still being recorded is published when it ends."""

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
from probe.runs.label_names import LABEL_NAMES
from probe.runs.targets import load_target
from probe.store.lake.basics import LakeSettings
from probe.store.lake.settings import add_lake_options, given, settings

CHUNK = 50  # runs read into one in-memory database at a time, then published in one transaction
WAIT_POLL = 1.0  # seconds between looks at a run being recorded


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
    from probe.store.lake.basics import existing
    from probe.store.lake.connection import first_line
    from probe.store.lake.publish import stage, staged_identity
    from probe.store.lake.writer import open_for_publishing

    warnings: list[str] = []
    publisher = {name: getattr(lake, name) for name in LABEL_NAMES}
    connection = connect(runs, warnings, publisher=publisher)  # (a run whose manifest has no labels: the publisher's)
    failed: list[str] = []
    counts: dict[Path, dict[str, int]] = {}
    try:
        for warning in warnings:
            warn(warning)
        open_for_publishing(connection, lake, runs)
        make_tables(connection)
        tables = existing(connection)
        stage(connection)
        identities = {run: staged_identity(connection, run.name, lake) for run in runs}
        failed += [f"{shown(run)}: cannot be read (see the warning above)" for run in runs if not identities[run]]
        readable = {run: identity for run, identity in identities.items() if identity}
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
        if count["lake_credit"]:
            said += "; " + credit_kept(identities[run], count["lake_credit"])
        print(f"{shown(run)}: {said}", file=out, flush=True)
    return sum(count["added"] for count in counts.values()), failed


def publish_or_each(connection, lake: LakeSettings, runs: dict, tables) -> tuple[dict, list[str]]:
    """`runs` (each with its identity) published in one transaction, or where that fails, each on its own; what
    became of each run, and a line for each run that failed."""
    import duckdb

    from probe.store.lake.publish import PublishFailed

    try:
        return publish_batch(connection, lake, runs, tables), []
    except duckdb.FatalException:
        raise
    except (PublishFailed, duckdb.Error) as error:
        if len(runs) == 1:
            return {}, [f"{shown(next(iter(runs)))}: {why_failed(error)}"]
    counts, failed = {}, []
    for run, identity in runs.items():
        found, missed = publish_or_each(connection, lake, {run: identity}, tables)
        counts |= found
        failed += missed
    return counts, failed


def publish_batch(connection, lake: LakeSettings, runs: dict, tables) -> dict[Path, dict]:
    """`runs` (each with its identity) published in one transaction: what became of each, by run."""
    from probe.store.lake.publish import publish_runs

    by_id = publish_runs(connection, lake, list(runs.values()), tables) if runs else {}
    return {run: by_id[identity.run_id] for run, identity in runs.items()}


def why_failed(error: Exception) -> str:
    """A failed publication in one line: PublishFailed says why already, a DuckDB error through commit_failure."""
    from probe.store.lake.publish import PublishFailed, commit_failure

    return str(error) if isinstance(error, PublishFailed) else commit_failure(error)


def shown(run: Path) -> str:
    return one_line(f"{run.parent.name}/{run.name}")


def credit_kept(identity, held: dict) -> str:
    """What a run the lake credits to other labels than its manifest's is told: the lake's are kept, and how to
    change them."""

    def said(labels: dict) -> str:
        return " ".join(f"{name}={labels[name]}" for name in LABEL_NAMES if labels.get(name) is not None)

    wanted = " ".join(f"--{name} {identity.labels[name]}" for name in LABEL_NAMES if identity.labels.get(name))
    return one_line(
        f"the lake credits it to {said(held) or 'no labels'}, its manifest to {said(identity.labels)}: the lake's "
        f"kept (to change them: invoke lake relabel --run {identity.run_id} {wanted})"
    )


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
