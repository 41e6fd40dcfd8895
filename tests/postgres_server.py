"""A pytest plugin: a real PostgreSQL for the team lake's tests, started in a temporary folder on a free loopback
port (as an unprivileged user when the tests run as root, which the server refuses), once per test process and only
when a test asks for it, then stopped and removed."""

import contextlib
import ctypes
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "probe"  # the role initdb makes; no `postgres` role exists
HOST = "127.0.0.1"
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")  # <version>/bin under it
UNPRIVILEGED = "nobody"  # the server's user when the tests run as root (it exists on Debian, no useradd needed)
READY_WITHIN = 30  # seconds; a server not answering by then fails with its log
STOP_WITHIN = 30
LOG_TAIL = 3000  # characters of the server's log an error shows
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the one that started it dies
LIBC = ctypes.CDLL(None, use_errno=True)  # looked up before any fork: the forked child only calls it
DATABASE_NUMBERS = itertools.count(1)  # each test's database is new on the shared server
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# A hex-encoded value as PostgreSQL prints a bytea, and as DuckLake stores an inlined VARCHAR: '\x7061…'.
HEX_VALUE = re.compile(r"\\x((?:[0-9a-fA-F]{2})+)")


def server_programs() -> Path:
    """The folder of PostgreSQL's server programs: `pg_config --bindir` where it holds them (pg_config can belong to
    a client library of another version), else Debian's /usr/lib/postgresql/<version>/bin of the highest version.
    PATH is never relied on: Debian puts none of them there."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(found.stdout.strip()))
    versions = DEBIAN_PROGRAMS.glob("*/bin")
    candidates += sorted(versions, key=lambda folder: version_key(folder.parent.name), reverse=True)
    for folder in candidates:
        if all((folder / program).is_file() for program in ("initdb", "postgres", "pg_isready", "psql", "pg_dump")):
            return folder
    raise RuntimeError(
        "PostgreSQL's server is not installed: no initdb and postgres under `pg_config --bindir` or "
        "/usr/lib/postgresql/*/bin (on Debian: apt-get install postgresql; .ci/run installs it)"
    )


def version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def unprivileged_user() -> pwd.struct_passwd | None:
    """The user the server runs as: the tests' own, or `nobody` when they run as root."""
    return pwd.getpwnam(UNPRIVILEGED) if os.geteuid() == 0 else None


def traversable_by_others(folder: Path) -> None:
    """The server's user must reach its folder: each of the folder's parents inside the temporary folder (pytest's
    are 700) gets the search bit for others, never the right to list or write."""
    top = Path(tempfile.gettempdir()).resolve()
    for parent in [folder, *folder.parents]:
        if parent != top and top not in parent.parents:
            break
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def client_environment() -> dict:
    """The tests' environment without the PG* variables a user may have set (a password, another host)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


class PostgresServer:
    """A started server: its port, the databases made on it, and what a database holds as text."""

    def __init__(self, programs: Path, folder: Path, port: int, process: subprocess.Popen):
        self.programs, self.folder, self.port, self.process = programs, folder, port, process
        self.log = folder / "server.log"

    def dsn(self, dbname: str) -> str:
        """The libpq string DuckLake takes after `ducklake:postgres:`."""
        return f"dbname={dbname} host={HOST} port={self.port} user={SUPERUSER}"

    def psql(self, dbname: str, sql: str) -> str:
        """`sql` run in `dbname` through psql; its rows, one a line, columns split by `|`."""
        command = [str(self.programs / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]
        return self.client(command + ["-d", dbname])

    def client(self, command: list[str]) -> str:
        result = subprocess.run(
            command + ["-h", HOST, "-p", str(self.port), "-U", SUPERUSER],
            capture_output=True, text=True, env=client_environment(), timeout=60, check=False,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """A new, empty database of this name; its DSN."""
        if not DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def catalog_text(self, dbname: str) -> str:
        """Every value the database holds, as text, for a secret scan: every table of every schema dumped as
        INSERTs, then each hex-encoded value in it decoded (DuckLake stores the VARCHARs of the rows it inlines
        into its catalog hex-encoded, where a raw secret would otherwise go unseen)."""
        dump = self.client([str(self.programs / "pg_dump"), "--data-only", "--inserts", "--no-owner", "-d", dbname])
        decoded = (bytes.fromhex(digits).decode("utf-8", "replace") for digits in HEX_VALUE.findall(dump))
        return "\n".join([dump, *decoded])

    def stop(self) -> None:
        """A fast shutdown (SIGINT), waited for, so that this process reaps the server: no zombie is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-LOG_TAIL:] if self.log.exists() else "(no log)"


def run_as(user: pwd.struct_passwd | None) -> dict:
    """Popen's arguments that run a program as `user` (none: as the tests' own)."""
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}


def shut_down_with_the_tests() -> None:
    """Run in the server's process before it starts (after its user is set, which would clear it): when the test
    process dies without stopping it (killed), the server gets SIGINT, a fast shutdown, instead of running on. (The
    kernel watches the thread that started it: a server is started from a thread that lasts, as the tests' own.)"""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def initdb(programs: Path, data: Path, user: pwd.struct_passwd | None) -> None:
    command = [str(programs / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"]
    result = subprocess.run(command, capture_output=True, text=True, env=client_environment(), check=False,
                            timeout=120, **run_as(user))  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"initdb failed: {(result.stdout + result.stderr)[-LOG_TAIL:]}")


def start_server(programs: Path, folder: Path, user: pwd.struct_passwd | None) -> PostgresServer:
    """`postgres` itself, a child of this process (pg_ctl would leave it an orphan for PID 1 to reap), on 127.0.0.1
    only, its unix socket in its own folder; returned once it accepts connections."""
    port = free_loopback_port()
    settings = {"listen_addresses": HOST, "port": port, "unix_socket_directories": folder, "fsync": "off"}
    command = [str(programs / "postgres"), "-D", str(folder / "data")]
    command += [option for name, value in settings.items() for option in ("-c", f"{name}={value}")]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=client_environment(), start_new_session=True,
                                   preexec_fn=shut_down_with_the_tests, **run_as(user))  # fmt: skip
    server = PostgresServer(programs, folder, port, process)
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        time.sleep(0.1)  # first, so that a server that fails at once is seen to have exited
        if process.poll() is not None:
            break
        # -t 1 (libpq waits 2 s at the least): a port that accepts but never answers, another program's, is not
        # waited on for long
        ready = subprocess.run([str(programs / "pg_isready"), "-q", "-t", "1", "-h", HOST, "-p", str(port),
                                "-U", SUPERUSER], env=client_environment(), check=False)  # fmt: skip
        if ready.returncode == 0:
            return server
    server.stop()
    state = f"exited with {process.returncode}" if process.returncode else f"not ready within {READY_WITHIN} s"
    raise RuntimeError(f"PostgreSQL on {HOST}:{port} {state}; its log ends:\n{server.log_tail()}")


@contextlib.contextmanager
def running_postgres(parent: Path | None = None) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL in a new folder under `parent` (the system's temporary folder by default: see
    postgres_server below for why not pytest's), stopped and removed on leaving."""
    programs = server_programs()
    user = unprivileged_user()
    folder = Path(tempfile.mkdtemp(prefix="probe-postgres-", dir=parent)).resolve()
    try:
        if user:
            traversable_by_others(folder)
            os.chown(folder, user.pw_uid, user.pw_gid)
        initdb(programs, folder / "data", user)
        server = start_server(programs, folder, user)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL per test process, started when a test first asks for it (a start costs seconds). A machine
    without PostgreSQL fails the test that asks, it never skips."""
    # Not under pytest's own temporary folder: every pytest starting on the machine takes the other users' search
    # bit off that folder's top (/tmp/pytest-of-<user>), which locks the server's user out of its files.
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server, request) -> str:
    """A fresh database on the shared server, named after the test; its DSN."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    return postgres_server.create_database(f"t{next(DATABASE_NUMBERS)}_{name}")
