"""Which team lake to use and who publishes: from the command line, else the environment (PROBE_LAKE,
PROBE_LAKE_DATA, and the labels of probe.runs.labels), else the `[lake]` table of the user's config file."""

import os

from probe.common.errors import UsageError
from probe.common.paths import display
from probe.runs.labels import config_file, configured, labels
from probe.store.lake.basics import LakeSettings
from probe.store.lake.catalog_string import refuse_password
from probe.store.lake.data_path import say_if_writable_by_everyone
from probe.store.lake.object_store import check_data_path

ENVIRONMENT = {"catalog": "PROBE_LAKE", "data": "PROBE_LAKE_DATA"}
OPTIONS = {"catalog": "--lake", "data": "--lake-data", "machine": "--machine", "user": "--user"}


def settings(given: dict[str, str | None]) -> LakeSettings:
    """The lake and the publisher's labels from `given` (the options, by the keys of ENVIRONMENT and the labels),
    the environment, then the config file. A missing catalog, a catalog with a password, or a label with characters
    a label may not hold is a UsageError in one line."""
    from_file: dict[str, str] | None = None
    found: dict[str, str | None] = {}
    for key, variable in ENVIRONMENT.items():
        value = given.get(key) or os.environ.get(variable) or None
        if value is None:
            from_file = configured() if from_file is None else from_file
            value = from_file.get(key) or None
        found[key] = value
    catalog = found["catalog"]
    if not catalog:
        where = display(config_file())
        raise UsageError(f"no lake: give --lake CATALOG, set PROBE_LAKE, or add [lake] catalog to {where}")
    refuse_password(catalog)
    if found["data"]:
        check_data_path(found["data"])
    publisher = labels({key: given.get(key) for key in ("machine", "user")}, OPTIONS)
    say_if_writable_by_everyone(found["data"])
    return LakeSettings(catalog=catalog, data=found["data"], **publisher)


# The options that name the lake and the labels, as `publish` and `sql` take them.
HELP = {
    "lake": "the team lake's catalog as DuckLake takes it after `ducklake:`, e.g. 'postgres:dbname=lake "
    "host=db.internal user=probe' (default: PROBE_LAKE, else the config file); a password goes in PGPASSWORD or "
    "~/.pgpass",
    "lake-data": "the lake's data path, a folder or an object-store URL (s3://bucket/prefix; its keys from AWS_* "
    "variables or a DuckDB secret, see the team lake's docs) (default: PROBE_LAKE_DATA, else the config "
    "file; a lake made already knows its own)",
    "machine": "the publishing machine's label in the lake (default: PROBE_MACHINE, else the config file, else a "
    "fingerprint of the host name); a run is credited to the labels its manifest recorded",
    "user": "your label in the lake as its publisher (default: PROBE_USER, else the config file, else a fingerprint "
    "of the account name)",
}
METAVARS = {"lake": "CATALOG", "lake-data": "PATH", "machine": "LABEL", "user": "LABEL"}


def add_lake_options(parser, labels: bool = True) -> None:
    """--lake and --lake-data, and with `labels` --machine and --user."""
    for name in [*HELP][: 4 if labels else 2]:
        parser.add_argument(f"--{name}", metavar=METAVARS[name], help=HELP[name])


def given(args) -> dict[str, str | None]:
    """The options of add_lake_options, by the keys `settings` takes."""
    return {"catalog": args.lake, "data": args.lake_data, "machine": getattr(args, "machine", None),
            "user": getattr(args, "user", None)}  # fmt: skip
