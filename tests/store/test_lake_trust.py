"""A lake whose catalog a hostile writer changed, on the real PostgreSQL and DuckLake: its tables replaced by views
that read a reader's private file or connect to another server, macros that do the same, a data file's path outside
the data path. Neither a reader's sql --lake nor a publisher runs any of it; the catalog keeps what it held."""

import contextlib
import io
import shutil
import socket
import threading

import duckdb
import pyarrow
import pyarrow.parquet
import pytest
from conftest import PROJECT_ROOT

from probe.analysis import publish, sql
from probe.common.errors import run_main
from probe.store.lake.basics import LakeSettings
from probe.store.lake.connection import attach

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))
PRIVATE = "READERS-OWN-PRIVATE-TEXT-77a1"
PASSWORD = "readers-pg-password-0c9f"


class Listener:
    """A TCP server on loopback that counts the connections made to it (a stand-in for another team member's
    server that a view would make the reader's DuckDB connect to, PGPASSWORD and all)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            client.close()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.socket.close()


def scan_of(listener: Listener) -> str:
    return f"postgres_scan('host=127.0.0.1 port={listener.port} dbname=x user=y connect_timeout=2', 'public', 't')"


def writer_session(dsn: str, statements: list[str]) -> None:
    """Statements run by a writer of the lake, through DuckDB with the lake attached as publish attaches it."""
    connection = duckdb.connect()
    try:
        attach(connection, LakeSettings(f"postgres:{dsn}", None, "-", "-"))
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def published(tmp_path, dsn: str, runs: list, *options: str) -> tuple[int, str, str]:
    data = tmp_path / "data"
    for run in runs:
        shutil.copytree(run, data / run.parent.name / run.name, dirs_exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setenv("PROBE_DATA_DIR", str(data))
        code = run_main(publish.main, ["--run", "all", "--lake", f"postgres:{dsn}", *options])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def hostile_lake(tmp_path_factory, postgres_server, listener):
    """A lake with one sample run, then changed as a hostile writer would: `agents` a view reading a private file,
    `spans` and `evil` views connecting to the listener, two macros doing the same, and `context`'s data file named
    as a private Parquet file outside the data path. (The DSN, the private files' folder, the catalog's database.)"""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "private.txt").write_text(PRIVATE + "\n")
    pyarrow.parquet.write_table(pyarrow.table({"run": [PRIVATE]}), folder / "private.parquet")
    dsn = postgres_server.create_database("hostile")
    code, _, err = published(folder, dsn, SAMPLES[:1], "--lake-data", str(folder / "files"))
    assert code == 0, err
    writer_session(dsn, [
        "DROP TABLE lake.agents", "CREATE VIEW lake.agents AS SELECT 1 AS x",
        "DROP TABLE lake.spans", "CREATE VIEW lake.spans AS SELECT 1 AS x",
        "CREATE VIEW lake.evil AS SELECT 1 AS x",
        "CREATE MACRO lake.evil_table() AS TABLE SELECT 1 AS x",
        "CREATE MACRO lake.evil_scalar(a) AS a",
    ])  # fmt: skip
    # Then the SQL itself, written into the catalog as a writer's role may (DuckDB would run it to make the view).
    scan = scan_of(listener).replace("'", "''")
    database = dsn.split()[0].removeprefix("dbname=")
    postgres_server.psql(database, f"""
        UPDATE ducklake_view SET sql = 'SELECT content AS run FROM read_text(''{folder / "private.txt"}'')'
            WHERE view_name = 'agents';
        UPDATE ducklake_view SET sql = 'SELECT * FROM {scan}' WHERE view_name IN ('spans', 'evil');
        UPDATE ducklake_macro_impl SET sql = 'SELECT * FROM {scan}' WHERE macro_id =
            (SELECT macro_id FROM ducklake_macro WHERE macro_name = 'evil_table');
        UPDATE ducklake_macro_impl SET sql = '(SELECT count(*) FROM {scan})' WHERE macro_id =
            (SELECT macro_id FROM ducklake_macro WHERE macro_name = 'evil_scalar');
        UPDATE ducklake_data_file SET path = '{folder / "private.parquet"}', path_is_relative = false
            WHERE table_id = (SELECT table_id FROM ducklake_table WHERE table_name = 'context'
                              AND end_snapshot IS NULL);
    """)  # fmt: skip
    moved = postgres_server.psql(database, f"SELECT count(*) FROM ducklake_data_file WHERE path LIKE '{folder}/%'")
    assert listener.connections == 0 and moved.strip() == "1"
    return dsn, folder, database


def catalog_state(postgres_server, database: str) -> tuple[str, str]:
    """What the catalog holds of views and snapshots, to see that a reader's session changed nothing."""
    views = postgres_server.psql(database, "SELECT view_name, end_snapshot, sql FROM ducklake_view ORDER BY 1")
    return views, postgres_server.psql(database, "SELECT count(*) FROM ducklake_snapshot")


def read(dsn: str, query: str, *options: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setenv("PGPASSWORD", PASSWORD)  # (what the docs tell a reader to do)
        code = run_main(sql.main, ["--lake", f"postgres:{dsn}", "--format", "csv", query, *options])
    return code, out.getvalue(), err.getvalue()


HOSTILE_QUERIES = [
    "SELECT * FROM agents",
    "SELECT * FROM lake.main.spans",
    "SELECT * FROM lake.evil",
    "SELECT count(*) FROM information_schema.columns",
    "SELECT count(*) FROM duckdb_columns()",
    "DESCRIBE lake.evil",
    "SELECT * FROM lake.evil_table()",
    "SELECT lake.evil_scalar(1)",
    "SELECT * FROM context",
    "SELECT * FROM query('SELECT * FROM lake.evil')",
    "SELECT * FROM checkpoint('lake')",
]


@pytest.mark.parametrize("access", [[], ["--external-access"]], ids=["default", "external-access"])
def test_a_reader_runs_none_of_the_sql_a_catalog_holds(hostile_lake, listener, postgres_server, access):
    dsn, _, database = hostile_lake
    before = catalog_state(postgres_server, database)
    code, out, err = read(dsn, "SELECT count(*) AS runs FROM runs", *access)
    assert code == 0 and out.splitlines() == ["runs", "1"], err
    assert "agents is a view in the lake's catalog, not a table: left out" in err
    assert "spans is a view in the lake's catalog, not a table: left out" in err
    # (with external access: a view by name, a listing of columns, a macro of each kind, SQL handed over as text,
    # DuckLake's upkeep)
    queries = HOSTILE_QUERIES if not access else [HOSTILE_QUERIES[index] for index in (2, 3, 6, 7, 9, 10)]
    for query in queries:
        code, out, err = read(dsn, query, *access)
        assert PRIVATE not in out + err and PASSWORD not in out + err and "Traceback" not in err, query
        assert code == 0 or err.splitlines()[-1].startswith("error: sql: "), (query, err)
    assert listener.connections == 0
    assert catalog_state(postgres_server, database) == before  # (nothing the reader did was committed)


def test_a_query_the_reader_typed_may_connect_only_with_external_access(hostile_lake, listener):
    """The control for the test above: the listener does see a connection, when the reader's own query asks."""
    dsn, _, _ = hostile_lake
    code, _, err = read(dsn, f"SELECT * FROM {scan_of(listener)}")
    assert code == 2 and "postgres_scan() reads files, reaches the network" in err and listener.connections == 0
    seen = listener.connections
    code, _, err = read(dsn, f"SELECT * FROM {scan_of(listener)}", "--external-access")
    assert code == 2 and listener.connections > seen, err
    listener.connections = seen  # (the other tests count from here)


def test_a_publisher_writes_nothing_where_the_catalog_holds_sql(hostile_lake, listener, postgres_server, tmp_path):
    dsn, _, database = hostile_lake
    before = catalog_state(postgres_server, database)
    code, out, err = published(tmp_path, dsn, SAMPLES[1:2])
    assert code == 2 and err.count("\n") == 1, err
    assert "agents (view), spans (view) in the lake's catalog where a table belongs" in err
    assert PRIVATE not in out + err and listener.connections == 0
    assert catalog_state(postgres_server, database) == before


def test_a_column_default_in_the_catalog_is_never_evaluated(tmp_path, postgres_server, listener):
    """A column a run does not give is written NULL, not its default: a writer may have made that an expression."""
    dsn = postgres_server.create_database("defaults")
    assert published(tmp_path / "first", dsn, SAMPLES[:1], "--lake-data", str(tmp_path / "files"))[0] == 0
    writer_session(dsn, ["ALTER TABLE lake.runs ADD COLUMN planted VARCHAR DEFAULT 'planted-default'"])
    code, _, err = published(tmp_path / "second", dsn, SAMPLES[1:2])
    assert code == 0, err
    code, out, err = read(dsn, "SELECT target, planted FROM lake.main.runs ORDER BY planted IS NULL, target")
    # (the first run's row took the default as the column was added, as DuckDB fills a new column; the second's
    # was written after, without it)
    first, second = (sample.parent.name for sample in SAMPLES[:2])
    assert code == 0 and out.splitlines() == ["target,planted", f"{first},planted-default", f"{second},"], err


def test_what_a_catalog_names_that_would_reach_further_is_refused_before_any_table_is_read(
    tmp_path, postgres_server, listener
):
    """The catalog's data path, when the user gave none, and the names of its tables of inlined rows, which DuckLake
    runs as SQL: a data path of / (the lock would allow every file), then a name that is a query of its own."""
    dsn = postgres_server.create_database("names")
    database = dsn.split()[0].removeprefix("dbname=")
    assert published(tmp_path / "first", dsn, SAMPLES[:1], "--lake-data", str(tmp_path / "files"))[0] == 0
    postgres_server.psql(database, "UPDATE ducklake_metadata SET value = '/' WHERE key = 'data_path'")
    code, _, err = read(dsn, "SELECT count(*) FROM runs")
    assert code == 2 and err.count("\n") == 1 and "names / as the lake's data path" in err and "--lake-data" in err
    code, _, err = published(tmp_path / "second", dsn, SAMPLES[1:2])
    assert code == 2 and "names / as the lake's data path" in err
    postgres_server.psql(
        database, f"UPDATE ducklake_metadata SET value = '{tmp_path / 'files'}/' WHERE key = 'data_path'"
    )
    assert read(dsn, "SELECT count(*) AS runs FROM runs")[1].splitlines() == ["runs", "1"]
    scan = scan_of(listener).replace("'", "''")
    postgres_server.psql(
        database,
        f"""UPDATE ducklake_inlined_data_tables
        SET table_name = table_name || ' AS q, (SELECT count(*) AS zz FROM {scan})'""",
    )
    for access in ([], ["--external-access"]):
        code, _, err = read(dsn, "SELECT count(*) FROM runs", *access)
        assert code == 2 and err.count("\n") == 1 and "a table of inlined rows named" in err, err
    code, _, err = published(tmp_path / "second", dsn, SAMPLES[1:2])
    assert code == 2 and "a table of inlined rows named" in err
    assert listener.connections == 0


def test_a_sort_order_in_the_catalog_is_never_run(tmp_path, postgres_server, listener):
    """DuckLake runs a table's sort expressions, catalog text, on each insert into it: a publisher refuses a catalog
    that holds one before writing anything (one that calls postgres_scan would make the publisher connect to the
    listener, PGPASSWORD and all)."""
    dsn = postgres_server.create_database("sorted")
    database = dsn.split()[0].removeprefix("dbname=")
    assert published(tmp_path / "first", dsn, SAMPLES[:1], "--lake-data", str(tmp_path / "files"))[0] == 0
    scan = scan_of(listener).replace("'", "''")
    postgres_server.psql(database, f"""
        INSERT INTO ducklake_sort_info SELECT 1, table_id, (SELECT max(snapshot_id) FROM ducklake_snapshot), NULL
            FROM ducklake_table WHERE table_name = 'context' AND end_snapshot IS NULL;
        INSERT INTO ducklake_sort_expression SELECT 1, table_id, 0, '(SELECT count(*) FROM {scan})', 'duckdb', 'ASC',
            'NULLS_LAST' FROM ducklake_table WHERE table_name = 'context' AND end_snapshot IS NULL""")  # fmt: skip
    before = catalog_state(postgres_server, database)
    code, _, err = published(tmp_path / "second", dsn, SAMPLES[1:2])
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: lake: its catalog holds a sort order (ducklake_sort_expression), which DuckLake")
    assert listener.connections == 0
    assert catalog_state(postgres_server, database) == before
