"""A DuckDB connection with the team lake attached as `lake`: DuckLake and, for a PostgreSQL catalog, DuckDB's postgres
extension (and httpfs for data on an object store), loaded from the wheels of the `lake` extra (no download), else as
DuckDB installed them itself."""

import importlib
import importlib.resources
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from probe.common.errors import UsageError, one_line
from probe.store.confine import confine_to
from probe.store.lake.basics import ALIAS, METADATA, LakeSettings
from probe.store.lake.catalog_string import is_postgres as is_postgres_catalog
from probe.store.lake.catalog_string import read_only_session, without_catalog
from probe.store.lake.data_path import as_prefix, is_url, refuse_broad, say_if_writable_by_everyone
from probe.store.lake.object_store import store_secret
from probe.store.quoting import quoted

EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "httpfs": "duckdb_extension_httpfs",
}
# Writers on many machines commit into one catalog; DuckLake retries a commit that met another on its own, waiting
# longer each time: by default 10 times from 100 ms by 1.5 (four busy writers ran out of those). These give 50
# tries, the last waiting under 6 s.
RETRIES = {"ducklake_max_retry_count": 50, "ducklake_retry_wait_ms": 50, "ducklake_retry_backoff": 1.1}
# A publisher's insert of up to this many rows goes into the catalog (DuckLake's data inlining), a larger one into a
# Parquet file of the data path: see the team lake's docs, What lands where, for the figures behind it. Set on every
# writer's attach, where the catalog sets none (a limit set in the catalog with DuckLake's set_option comes first).
INLINING_ROW_LIMIT = 10
FIRST_ATTACH = "Failed to initialize DuckLake"
ATTEMPTS = 5  # of a step two writers can collide in: making the lake, its tables, a run's commit
T = TypeVar("T")
HINT = "pip install 'agent-probe[lake]' (with internet, DuckDB's own INSTALL ducklake, postgres, httpfs do too)"


def extension_file(name: str) -> Path | None:
    """The extension's file in its wheel, for the DuckDB release that runs, if the wheel is installed."""
    import duckdb

    try:
        package = importlib.resources.files(importlib.import_module(EXTENSIONS[name]))
    except ImportError:
        return None
    path = Path(str(package)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    return path if path.is_file() else None


def load_extension(connection, name: str) -> None:
    import duckdb

    path = extension_file(name)
    try:
        connection.execute(f"LOAD {quoted(str(path))}" if path else f"LOAD {name}")
    except duckdb.Error as error:
        raise UsageError(f"the lake needs DuckDB's {name} extension ({first_line(error)}): {HINT}") from None


def first_line(error: Exception) -> str:
    """DuckDB's message's first line (the rest quotes the statement), with any catalog string it quotes taken out
    (probe.store.lake.catalog_string)."""
    return one_line(without_catalog(str(error).splitlines()[0])) if str(error) else type(error).__name__


def attach(connection, lake: LakeSettings, read_only: bool = False) -> None:
    """Attach the lake to `connection` as `lake`; a lake that cannot be reached or read is a UsageError in one line
    that quotes no catalog string. Read-only, a PostgreSQL catalog is attached through sessions PostgreSQL keeps
    from writing (probe.store.lake.views sets the catalog's views and macros aside in a transaction that is never
    committed, which a lake attached READ_ONLY would refuse); any other catalog is attached READ_ONLY."""
    import duckdb

    connection.execute("SET autoinstall_known_extensions = false")  # never a download in the middle of a command
    connection.execute("SET autoload_known_extensions = false")  # nor an extension the lake's data asks for
    catalog = lake.catalog
    if is_postgres(lake):
        load_extension(connection, "postgres_scanner")
        catalog = read_only_session(catalog) if read_only else catalog
    load_extension(connection, "ducklake")
    # DuckLake needs httpfs at the attach for data on an object store: loaded for a URL given, and, where no data path
    # is given, in case the catalog names one (it costs 0.1 to 0.2 s here; a folder given needs none).
    if (lake.data and is_url(lake.data)) or (not lake.data and extension_file("httpfs")):
        load_extension(connection, "httpfs")
    options = [f"DATA_PATH {quoted(lake.data)}"] if lake.data else []
    options += ["READ_ONLY"] if read_only and not is_postgres(lake) else []
    options += [] if read_only else [f"DATA_INLINING_ROW_LIMIT {int(INLINING_ROW_LIMIT)}"]
    attaching = f"ATTACH {quoted('ducklake:' + catalog)} AS {ALIAS}"
    try:
        # Writers that meet a new catalog at once each make DuckLake's tables in it: all but one fail, and find them
        # made when they try again.
        retried(
            lambda: connection.execute(attaching + (f" ({', '.join(options)})" if options else "")),
            lambda error: isinstance(error, duckdb.Error) and FIRST_ATTACH in str(error),
        )
        if not read_only:
            for setting, value in RETRIES.items():
                connection.execute(f"SET {setting} = {value}")
        named = data_path(connection)
        if is_url(named):  # (credentials for the data path the catalog holds, which is the one given if any)
            store_secret(connection, named)
    except duckdb.Error as error:
        text = " ".join(str(error).split())
        raise UsageError(f"lake: {one_line(without_catalog(text, lake.catalog, catalog))}") from None


def data_path(connection) -> str:
    """The data path the attached lake's catalog names."""
    found = connection.execute("SELECT value FROM ducklake_options($lake) WHERE option_name = 'data_path'",
                               {"lake": ALIAS}).fetchall()  # fmt: skip
    return str(found[0][0]) if found and found[0][0] else ""


def confine(connection, lake: LakeSettings, readable: list[str] = ()) -> None:
    """From now on the connection reads and writes files only in the lake's data path and the `readable` files, opens
    no connection but the catalog's it holds, loads and installs no extension, and none of its settings can change:
    nothing the catalog names (a file's path, a data path) reaches further. (PostgreSQL's scanner opens connections
    of its own whatever these say: the catalog's views and macros are never run, see probe.store.lake.views.)"""
    folder = data_path(connection)
    if not lake.data:  # (a path given was looked at already, see probe.store.lake.settings)
        refuse_broad(folder)
        say_if_writable_by_everyone(folder)
    # The folder itself too (a prefix allows only what is inside it), which DuckLake looks for before writing in it.
    itself = [as_prefix(folder).rstrip("/")] if folder and not is_url(folder) else []
    confine_to(connection, [as_prefix(folder)] if folder else [], [*readable, *itself])


def retried(action: Callable[[], T], retriable: Callable[[Exception], bool], attempts: int = ATTEMPTS) -> T:
    """`action`'s result, tried again while it fails in a way `retriable` says another writer caused, a little
    later each time; the last failure is raised."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception as error:
            if not retriable(error) or attempt + 1 == attempts:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def is_postgres(lake: LakeSettings) -> bool:
    return is_postgres_catalog(lake.catalog)


def lock(connection, lake: LakeSettings, key: int) -> None:
    """Within the open transaction, wait for any other writer publishing under `key` to commit (a PostgreSQL
    transaction-level advisory lock, released with the catalog's transaction). DuckLake has no unique keys and takes
    two appends as no conflict, so two machines publishing one run at once would both add it. Another catalog has
    a single writer (a DuckDB file) and needs none."""
    if is_postgres(lake):
        connection.execute(f"CALL postgres_execute({quoted(METADATA)}, 'SELECT pg_advisory_xact_lock({int(key)})')")
