"""Which lake and which labels publish and sql --lake use: the option, else the environment, else the user's config
file; labels default to fingerprints; a password in the catalog, a bad label or a broken config file is one line."""

import json
import socket

import pytest

from probe.common.errors import UsageError
from probe.runs.labels import account_name, config_file, fingerprint
from probe.store.lake.settings import settings

NONE = {"catalog": None, "data": None, "machine": None, "user": None}


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """A config folder of the test's own, and none of the lake's variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for variable in ("PROBE_LAKE", "PROBE_LAKE_DATA", "PROBE_MACHINE", "PROBE_USER", "PROBE_TEAM", "PROBE_PROJECT",
                     "PROBE_REPOSITORY"):  # fmt: skip
        monkeypatch.delenv(variable, raising=False)


def write_config(text: str) -> None:
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(text)


def test_the_option_wins_over_the_environment_which_wins_over_the_config_file(monkeypatch):
    write_config('[lake]\ncatalog = "postgres:dbname=file"\ndata = "/shared/file"\nmachine = "from-file"\n')
    monkeypatch.setenv("PROBE_LAKE", "postgres:dbname=env")
    found = settings(NONE | {"catalog": "postgres:dbname=option"})
    assert (found.catalog, found.data, found.machine) == ("postgres:dbname=option", "/shared/file", "from-file")
    found = settings(NONE)
    assert (found.catalog, found.data) == ("postgres:dbname=env", "/shared/file")


def test_labels_default_to_fingerprints_that_do_not_say_the_names():
    found = settings(NONE | {"catalog": "postgres:dbname=lake"})
    assert found.machine == fingerprint("host", socket.gethostname()) and found.machine.startswith("host-")
    assert found.user == fingerprint("user", account_name()) and account_name() not in found.user
    assert len(found.machine) == len("host-") + 8


@pytest.mark.parametrize(
    "given, said",
    [
        ({}, "no lake: give --lake CATALOG, set PROBE_LAKE, or add [lake] catalog to"),
        ({"catalog": "postgres:host=db password=hunter2"}, "--lake holds a password"),
        ({"catalog": "postgres:PASSWORD = hunter2 host=db"}, "--lake holds a password"),
        ({"catalog": "postgres:postgresql://probe:hunter2@db/lake"}, "--lake holds a password"),
        ({"catalog": "postgres:postgresql://probe@db/lake?password=hunter2"}, "--lake holds a password"),
        ({"catalog": "postgres:postgresql://db/lake?sslmode=require&sslpassword=hunter2"}, "--lake holds a password"),
        ({"catalog": "postgres:dbname=lake", "machine": "my laptop"}, "--machine 'my laptop': a label is 1 to 64"),
        ({"catalog": "postgres:dbname=lake", "user": "x" * 65}, "--user"),
        ({"catalog": "postgres:dbname=lake", "machine": "a\x1b[31m"}, "--machine 'a\\x1b[31m'"),
    ],
)
def test_what_cannot_be_used_is_one_line(given, said):
    with pytest.raises(UsageError) as raised:
        settings(NONE | given)
    assert said in str(raised.value) and "\n" not in str(raised.value) and "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    "text, said",
    [
        ("[lake\n", "cannot be read"),
        ('lake = "postgres:x"\n', "`lake` is not a table"),
        (
            '[lake]\npassword = "hunter2"\n',
            "[lake] takes text for catalog, data, machine, user, team, project, repository; not password",
        ),
        ("[lake]\ncatalog = 5\n", "not catalog"),
    ],
)
def test_a_config_file_that_cannot_be_used_is_one_line(text, said):
    write_config(text)
    with pytest.raises(UsageError) as raised:
        settings(NONE)
    assert said in str(raised.value) and "\n" not in str(raised.value) and "hunter2" not in str(raised.value)


# Each spelling libpq reads as a password (psycopg's conninfo_to_dict, which is libpq's own parser, says so).
PASSWORD_SPELLINGS = [
    "dbname='lake'password=hunter2",
    "user='alice'password='hunter2'",
    "postgresql://127.0.0.1/lake?pass%77ord=hunter2",
    "postgresql://127.0.0.1/lake?%70assword=hunter2",
    "host=127.0.0.1 dbname='host=127.0.0.1 password=hunter2'",
    "postgres://alice:hunter2@127.0.0.1/lake",
    "host=127.0.0.1\tpassword\t=\thunter2",
]


@pytest.mark.parametrize("catalog", PASSWORD_SPELLINGS)
def test_every_spelling_of_a_password_is_refused_before_anything_connects(catalog, capsys, monkeypatch):
    """Through sql --lake, as the catalog option, PROBE_LAKE and the config file: one line, no password, and no
    connection to the server the string names (a listener on loopback that counts them)."""
    from test_lake_trust import Listener

    from probe.analysis import sql
    from probe.common.errors import run_main

    listener = Listener()
    if catalog.startswith("postgres"):  # a URL: the listener's port after its host
        catalog = "postgres:" + catalog.replace("127.0.0.1", f"127.0.0.1:{listener.port}", 1)
    else:
        catalog = f"postgres:host=127.0.0.1 port={listener.port} {catalog}"
    try:
        for where in ("option", "variable", "file"):
            if where == "variable":
                monkeypatch.setenv("PROBE_LAKE", catalog)
            if where == "file":
                monkeypatch.delenv("PROBE_LAKE")
                write_config(f"[lake]\ncatalog = {json.dumps(catalog)}\n")
            argv = ["--lake", catalog] if where == "option" else ["--lake-data", "/nowhere"]
            assert run_main(sql.main, [*argv, "SELECT 1"]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "--lake holds a password" in err and "hunter2" not in err, (where, err)
        assert listener.connections == 0
    finally:
        listener.socket.close()


@pytest.mark.parametrize(
    "catalog", ["dbname=lake host=127.0.0.1 port=9 user=probe", "postgresql://probe@127.0.0.1:9/lake?sslmode=disable"]
)
def test_a_catalog_that_cannot_be_reached_is_one_line_that_does_not_repeat_it(catalog, capsys, tmp_path, monkeypatch):
    from test_lake import sample_data

    from probe.analysis import publish, sql
    from probe.common.errors import run_main

    monkeypatch.setenv("PROBE_DATA_DIR", str(sample_data(tmp_path / "data", 1)))
    for script, argv in ((sql, ["SELECT 1"]), (publish, ["--run", "all"])):
        assert run_main(script.main, ["--lake", f"postgres:{catalog}", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot connect to the catalog" in err, err
        assert "dbname" not in err and "probe@" not in err and "port=9" not in err


@pytest.mark.parametrize("label", ["m1\n", " m1", "m1 ", "m1\t", "m\x001", "m1\r", "m1\u2028", "\u202em1"])
def test_a_label_with_a_control_character_or_a_blank_around_it_is_refused(label):
    for key in ("machine", "user"):
        with pytest.raises(UsageError) as raised:
            settings(NONE | {"catalog": "postgres:dbname=lake", key: label})
        assert "a label is 1 to 64 letters" in str(raised.value) and "\n" not in str(raised.value)


def test_a_data_path_every_user_may_write_is_said_in_one_line(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (tmp_path / "link").symlink_to(shared)
    settings(NONE | {"catalog": "postgres:dbname=lake", "data": str(tmp_path / "link")})
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"leads to {shared}, which every user of this machine may write" in err
    settings(NONE | {"catalog": "postgres:dbname=lake", "data": str(shared)})
    assert "is a folder every user of this machine may write" in capsys.readouterr().err
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    settings(NONE | {"catalog": "postgres:dbname=lake", "data": str(own)})
    settings(NONE | {"catalog": "postgres:dbname=lake", "data": "s3://bucket/lake/"})
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("prefix", ["Postgres:", "POSTGRES:", "postgres:"])
def test_the_prefix_in_any_case_is_read_as_postgresql(prefix):
    """DuckDB takes `Postgres:` as PostgreSQL's too: its string is read as libpq reads it all the same."""
    with pytest.raises(UsageError) as raised:
        settings(NONE | {"catalog": prefix + "postgresql://db/lake?pass%77ord=hunter2"})
    assert "--lake holds a password" in str(raised.value) and "hunter2" not in str(raised.value)
