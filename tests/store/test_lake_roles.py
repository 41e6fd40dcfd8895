"""The roles of the team lake's docs, made in the real PostgreSQL with the docs' own statements: a reader queries the
lake but cannot publish, relabel, remove or tidy (each refused in one line, nothing of the lake changed); a writer
publishes, relabels, removes and tidies."""

import re
import shutil

import pytest
from conftest import PROJECT_ROOT
from test_lake_admin import run

from probe.analysis import lake, publish, sql

pytestmark = [pytest.mark.lake, pytest.mark.xdist_group("lake")]
SAMPLES = sorted(path.parent for path in (PROJECT_ROOT / "data").glob("*/*-sample-*/manifest.json"))
DOC = PROJECT_ROOT / "docs" / "team-lake.md"


def doc_statements() -> tuple[list[str], list[str]]:
    """The Roles section's two blocks of SQL, statement by statement: the roles (run in any database), the grants
    (in the lake's)."""
    section = DOC.read_text().split("## Roles for writers and readers", 1)[1].split("\n## ", 1)[0]
    roles, grants = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    assert grants.startswith("\\c lake\n")
    return statements(roles), statements(grants.removeprefix("\\c lake\n"))


def statements(block: str) -> list[str]:
    """Each statement alone (psql runs a -c of several in one transaction, where CREATE DATABASE cannot be)."""
    lines = [line for line in block.splitlines() if not line.startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def as_role(postgres_server, role: str) -> str:
    return f"postgres:dbname=lake host=127.0.0.1 port={postgres_server.port} user={role}"


def data_of(folder, runs) -> object:
    for sample in runs:
        shutil.copytree(sample, folder / sample.parent.name / sample.name)
    return folder


ROWS = (
    "SELECT (SELECT count(*) FROM publications) AS p, (SELECT count(*) FROM runs) AS r, "
    "(SELECT count(*) FROM context) AS c"
)


def state(postgres_server, folder) -> tuple:
    """What the lake holds: its snapshots and files as its catalog names them, the files in its data path, and the
    rows of three of its tables as a reader counts them."""
    catalog = postgres_server.psql(
        "lake",
        "SELECT (SELECT count(*) FROM ducklake_snapshot), (SELECT max(snapshot_id) FROM ducklake_snapshot), "
        "(SELECT count(*) FROM ducklake_data_file), (SELECT count(*) FROM ducklake_delete_file)",
    )
    files = sorted(str(path) for path in (folder / "files").rglob("*"))
    code, rows, err = run(sql.main, ["--lake", as_role(postgres_server, "bob"), "--format", "csv", ROWS])
    assert code == 0, err
    return catalog, files, rows


@pytest.fixture(scope="module")
def roles(postgres_server, tmp_path_factory):
    """The docs' roles and grants, the lake made by its owner with one run; (the data path, a folder of runs)."""
    folder = tmp_path_factory.mktemp("roles")
    made, grants = doc_statements()
    for statement in made:
        postgres_server.psql("postgres", statement)
    code, _, err = run(publish.main, ["--run", "all", "--lake", as_role(postgres_server, "lake_owner"), "--lake-data",
                                      str(folder / "files")], data_of(folder / "owner", SAMPLES[:1]))  # fmt: skip
    assert code == 0, err
    for statement in grants:
        postgres_server.psql("lake", statement)
    return folder


TOTALS = "SELECT run, count(*) AS turns, sum(input_tokens) AS input FROM turns GROUP BY ALL ORDER BY ALL"


def totals(postgres_server, role: str) -> list[str]:
    code, out, err = run(sql.main, ["--lake", as_role(postgres_server, role), "--format", "csv", TOTALS])
    assert code == 0, err
    return out.splitlines()


def test_a_writer_publishes_and_a_reader_reads_what_was_published(roles, postgres_server):
    code, out, err = run(publish.main, ["--run", "all", "--lake", as_role(postgres_server, "alice")],
                         data_of(roles / "alice", SAMPLES[1:3]))  # fmt: skip
    assert code == 0 and out.count("rows added, 0 removed") == 2, err
    code, local, err = run(sql.main, ["--format", "csv", TOTALS], data_of(roles / "all", SAMPLES[:3]))
    assert code == 0 and len(local.splitlines()) == 4, err  # (a header and three runs)
    assert totals(postgres_server, "bob") == totals(postgres_server, "alice") == local.splitlines()


READER_REFUSED = "error: lake: the role bob may not write the lake's catalog, and {} changes it: ask for a writer's"


@pytest.mark.parametrize("command", ["tidy", "remove", "relabel"])
def test_a_reader_cannot_change_the_lake(roles, postgres_server, command):
    before = state(postgres_server, roles), totals(postgres_server, "bob")
    argv = {"tidy": ["--keep", "0"], "remove": [SAMPLES[0].name], "relabel": [SAMPLES[0].name, "--user", "bob"]}
    code, out, err = run(lake.main, [command, *argv[command], "--lake", as_role(postgres_server, "bob")])
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith(READER_REFUSED.format(command))
    assert (state(postgres_server, roles), totals(postgres_server, "bob")) == before


def test_a_reader_cannot_publish(roles, postgres_server, tmp_path):
    before = state(postgres_server, roles), totals(postgres_server, "bob")
    code, _, err = run(publish.main, ["--run", "all", "--lake", as_role(postgres_server, "bob")],
                       data_of(tmp_path, SAMPLES[3:4]))  # fmt: skip
    assert code == 2 and "Traceback" not in err, err
    assert err.splitlines()[-1] == "error: 1 run not published (see the warnings above)"
    assert (state(postgres_server, roles), totals(postgres_server, "bob")) == before


def snapshots(postgres_server) -> int:
    return int(postgres_server.psql("lake", "SELECT count(*) FROM ducklake_snapshot"))


def test_a_writer_relabels_removes_and_tidies(roles, postgres_server, tmp_path):
    writer = ["--lake", as_role(postgres_server, "alice")]
    sample = SAMPLES[4]
    code, out, err = run(publish.main, ["--run", "all", *writer], data_of(tmp_path, [sample]))
    assert code == 0 and "rows added, 0 removed" in out, err
    code, out, err = run(lake.main, ["relabel", sample.name, "--machine", "m-2", "--user", "carol", *writer])
    assert code == 0 and " -> m-2, user " in out and out.rstrip().endswith("tables)"), err
    query = f"SELECT DISTINCT machine, user FROM turns WHERE run = '{sample.name}'"
    assert run(sql.main, ["--lake", as_role(postgres_server, "bob"), "--format", "csv", query])[1] == (
        "machine,user\nm-2,carol\n"
    )
    code, out, err = run(lake.main, ["remove", f"{sample.parent.name}/{sample.name}", *writer])
    assert code == 0 and re.fullmatch(r".*: \d+ rows removed \(.*publications \d+\)\n", out), err
    code, out, err = run(publish.main, ["--run", "all", *writer], tmp_path)
    assert code == 0 and "rows added, 0 removed" in out, err  # (removed, it comes back whole)
    before = snapshots(postgres_server)
    code, out, err = run(lake.main, ["tidy", "--keep", "0", *writer])
    assert code == 0 and snapshots(postgres_server) < before, err
    assert out.startswith(f"lake: snapshots {before:,} -> "), out
    assert run(lake.main, ["remove", sample.name, *writer])[0] == 0
