"""Which lake and which labels publish and sql --lake use: the option, else the environment, else the user's config
file; labels default to fingerprints; a password in the catalog, a bad label or a broken config file is one line."""

import socket

import pytest

from probe.common.errors import UsageError
from probe.write.lake_settings import account_name, config_file, fingerprint, settings

NONE = {"catalog": None, "data": None, "machine": None, "user": None}


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """A config folder of the test's own, and none of the lake's variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for variable in ("PROBE_LAKE", "PROBE_LAKE_DATA", "PROBE_MACHINE", "PROBE_USER"):
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
        ('[lake]\npassword = "hunter2"\n', "[lake] takes text for catalog, data, machine, user; not password"),
        ("[lake]\ncatalog = 5\n", "not catalog"),
    ],
)
def test_a_config_file_that_cannot_be_used_is_one_line(text, said):
    write_config(text)
    with pytest.raises(UsageError) as raised:
        settings(NONE)
    assert said in str(raised.value) and "\n" not in str(raised.value) and "hunter2" not in str(raised.value)
