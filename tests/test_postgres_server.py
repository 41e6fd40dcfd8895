"""The PostgreSQL the team lake's tests run against (tests/postgres_server.py): on loopback only, as an unprivileged
user, usable from DuckDB with the extensions from their wheels, its catalog text showing DuckLake's inlined values,
and gone without a trace once stopped."""

import importlib.resources
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import duckdb_extension_ducklake
import duckdb_extension_postgres_scanner
import postgres_server
import pytest
from postgres_server import HOST, running_postgres

# Run once in CI, on the newest Python, beside the lake's tests (the `lake` mark).
pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
MARKER = "lake-marker-7f3c9a-visible-only-decoded"


def load_from_wheel(connection, module, name: str) -> None:
    """An extension loaded from the file its wheel ships, for this DuckDB's release; nothing is downloaded."""
    folder = Path(str(importlib.resources.files(module))) / "extensions" / f"v{duckdb.__version__}"
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute(f"LOAD '{folder / f'{name}.duckdb_extension'}'")


def listening_addresses(port: int) -> set[str]:
    """The addresses a TCP socket listens on at `port`, read from the kernel's tables (IPv4 and IPv6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # the kernel prints each 32-bit word in host order (little-endian here)
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
                found.add(socket.inet_ntop(socket.AF_INET if width == 4 else socket.AF_INET6, words))
    return found


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the program's name (the state first), or None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children_of(pid: int) -> set[tuple[int, str]]:
    """The processes whose parent is `pid`, each with its start time (a process id can be used again)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = stat_fields(int(entry))
        if fields and int(fields[1]) == pid:
            found.add((int(entry), fields[19]))
    return found


def still_there(pid: int, started: str) -> bool:
    """The process, or its zombie (which keeps its /proc entry until it is reaped), is there."""
    fields = stat_fields(pid)
    return fields is not None and fields[19] == started


def test_it_listens_on_loopback_only_with_its_socket_in_its_folder_as_an_unprivileged_user(postgres_server):
    assert listening_addresses(postgres_server.port) == {HOST}
    assert postgres_server.psql("postgres", "SHOW listen_addresses").strip() == HOST
    assert postgres_server.psql("postgres", "SHOW unix_socket_directories").strip() == str(postgres_server.folder)
    assert postgres_server.psql("postgres", "SHOW fsync").strip() == "off"
    status = Path(f"/proc/{postgres_server.process.pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert uid != 0
    assert uid == (pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else os.geteuid())


def test_a_fresh_database_is_usable_from_duckdb_with_the_wheels_extension(postgres_server, postgres_database):
    assert postgres_database.startswith("dbname=t") and f"port={postgres_server.port}" in postgres_database
    assert postgres_database.endswith(f"host={HOST} port={postgres_server.port} user=probe")
    connection = duckdb.connect()
    load_from_wheel(connection, duckdb_extension_postgres_scanner, "postgres_scanner")
    connection.execute(f"ATTACH '{postgres_database}' AS pg (TYPE postgres)")
    connection.execute("CREATE TABLE pg.greetings (word VARCHAR, n INTEGER)")
    connection.execute("INSERT INTO pg.greetings VALUES ('hello', 1), ('world', 2)")
    connection.close()
    dbname = postgres_database.split()[0].removeprefix("dbname=")
    assert postgres_server.psql(dbname, "SELECT word, n FROM greetings ORDER BY n").split() == ["hello|1", "world|2"]
    # a second test's database is another one, empty
    other = postgres_server.create_database(dbname + "_other")
    assert postgres_server.psql(other.split()[0].removeprefix("dbname="), "SELECT count(*) FROM pg_tables "
                                "WHERE schemaname = 'public'").strip() == "0"  # fmt: skip


def test_the_catalog_text_holds_a_value_ducklake_inlined_hex_encoded(postgres_server, postgres_database, tmp_path):
    connection = duckdb.connect()
    load_from_wheel(connection, duckdb_extension_postgres_scanner, "postgres_scanner")
    load_from_wheel(connection, duckdb_extension_ducklake, "ducklake")
    connection.execute(f"ATTACH 'ducklake:postgres:{postgres_database}' AS lake (DATA_PATH '{tmp_path / 'data'}')")
    connection.execute("CREATE TABLE lake.notes (note VARCHAR)")
    # the marker between two other values: the column's statistics, kept as plain text, hold only the smallest
    # and the largest, so the marker is in the catalog only as the inlined row holds it
    notes = ["a-first", MARKER, "z-last"]
    connection.execute("INSERT INTO lake.notes SELECT * FROM unnest(?)", [notes])
    assert sorted(connection.execute("SELECT note FROM lake.notes").fetchall()) == [(note,) for note in notes]
    connection.close()
    dbname = postgres_database.split()[0].removeprefix("dbname=")
    # the rows went into the catalog (inlined), not into a Parquet file, and are stored there hex-encoded
    assert list((tmp_path / "data").rglob("*.parquet")) == []
    [table] = postgres_server.psql(dbname, "SELECT table_name FROM ducklake_inlined_data_tables").split()
    stored = postgres_server.psql(dbname, f"SELECT note FROM {table} ORDER BY note").split()
    assert stored == ["\\x" + note.encode().hex() for note in notes]
    raw = postgres_server.client([str(postgres_server.programs / "pg_dump"), "--data-only", "-d", dbname])
    assert "a-first" in raw and MARKER not in raw
    assert MARKER in postgres_server.catalog_text(dbname)


def test_after_stop_the_port_is_closed_and_no_process_or_folder_is_left():
    with running_postgres() as server:
        folder, port, pid = server.folder, server.port, server.process.pid
        processes = {(pid, stat_fields(pid)[19]), *children_of(pid)}
        assert len(processes) > 1, "a running server has its background processes"
        socket.create_connection((HOST, port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5)
    assert [process for process in processes if still_there(*process)] == []
    assert not folder.exists()


def test_a_killed_test_process_takes_its_server_down():
    """A test process killed (SIGKILL: no fixture's teardown runs) leaves no server running for nobody to stop."""
    script = "import sys, postgres_server\nwith postgres_server.running_postgres() as server:\n"
    script += "    print(server.process.pid, server.folder, flush=True)\n    sys.stdin.read()\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    tests = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    pid, folder = tests.stdout.readline().split()
    started = stat_fields(int(pid))[19]
    tests.kill()
    tests.wait()
    tests.stdin.close()
    tests.stdout.close()
    try:
        deadline = time.monotonic() + 30  # a bound on the wait for its shutdown, not a measure of it
        while (fields := stat_fields(int(pid))) and fields[19] == started and fields[0] != "Z":
            assert time.monotonic() < deadline, "the server runs on after its test process was killed"
            time.sleep(0.1)
    finally:
        shutil.rmtree(folder.decode(), ignore_errors=True)  # left behind: nobody ran the removal


def test_a_server_that_cannot_start_fails_with_its_log_and_leaves_nothing(monkeypatch):
    # its own parent folder, private (700) as pytest's are, but out of pytest's (see postgres_server.postgres_server)
    with tempfile.TemporaryDirectory() as parent, socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        monkeypatch.setattr(postgres_server, "free_loopback_port", lambda: taken.getsockname()[1])
        failure = r"(?s)exited with 1; its log ends:.*could not bind IPv4 address"
        with pytest.raises(RuntimeError, match=failure), running_postgres(Path(parent)):
            pass
        assert os.listdir(parent) == []


def test_a_machine_without_postgresql_fails_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_server, "DEBIAN_PROGRAMS", tmp_path)
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        postgres_server.server_programs()
