"""Which team lake to use and who publishes: from the command line, else the environment (PROBE_LAKE,
PROBE_LAKE_DATA, PROBE_MACHINE, PROBE_USER), else the `[lake]` table of the user's config file; the machine and the
user default to fingerprints of the host's and the account's names."""

import getpass
import hashlib
import os
import re
import socket
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from probe.common.errors import UsageError, one_line
from probe.common.paths import display
from probe.store.lake.catalog_string import refuse_password
from probe.store.lake.data_path import say_if_writable_by_everyone
from probe.store.lake.object_store import check_data_path

ENVIRONMENT = {"catalog": "PROBE_LAKE", "data": "PROBE_LAKE_DATA", "machine": "PROBE_MACHINE", "user": "PROBE_USER"}
OPTIONS = {"catalog": "--lake", "data": "--lake-data", "machine": "--machine", "user": "--user"}
CONFIG_LIMIT = 1 << 20  # a config file is a few lines: a larger one is not read
# Letters, digits and a few marks, no blank and no control character anywhere (a label is a value to group by: `m1`
# and `m1\n` would be two machines).
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


@dataclass(frozen=True)
class LakeSettings:
    catalog: str  # what DuckLake takes after `ducklake:` (postgres:dbname=… host=…)
    data: str | None  # the data path: a folder or an object-store URL; None once the catalog knows it
    machine: str
    user: str


def config_file() -> Path:
    """The user's config file: $XDG_CONFIG_HOME/agent-probe/config.toml (each system's usual place elsewhere)."""
    return platformdirs.user_config_path("agent-probe") / "config.toml"


def configured() -> dict[str, str]:
    """The `[lake]` table of the config file, where there is one; a file that cannot be read is a one-line error."""
    path = config_file()
    try:
        if not path.is_file():
            return {}
        if path.stat().st_size > CONFIG_LIMIT:
            raise UsageError(f"{display(path)}: over {CONFIG_LIMIT:,} bytes, not read")
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("lake", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{display(path)}: cannot be read ({one_line(str(error))})") from None
    if not isinstance(table, dict):
        raise UsageError(f"{display(path)}: `lake` is not a table")
    wrong = [key for key, value in table.items() if key not in ENVIRONMENT or not isinstance(value, str)]
    if wrong:
        raise UsageError(f"{display(path)}: [lake] takes text for {', '.join(ENVIRONMENT)}; not {one_line(wrong[0])}")
    return table


def fingerprint(kind: str, name: str) -> str:
    """A stable label that does not say the name: `host-3f7183a1`."""
    return f"{kind}-{hashlib.sha256(name.encode(errors='surrogateescape')).hexdigest()[:8]}"


def account_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # (no name for the uid: a container's)
        return str(os.getuid())


def settings(given: dict[str, str | None]) -> LakeSettings:
    """The lake and the labels from `given` (the options, by the keys of ENVIRONMENT), the environment, then the
    config file. A missing catalog, a catalog with a password, or a label with characters a label may not hold is a
    UsageError in one line."""
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
    machine = found["machine"] or fingerprint("host", socket.gethostname())
    user = found["user"] or fingerprint("user", account_name())
    for key, label in (("machine", machine), ("user", user)):
        if not LABEL.fullmatch(label):
            raise UsageError(
                f"{OPTIONS[key]} '{one_line(label)}': a label is 1 to 64 letters, digits and . _ @ - (from "
                f"{OPTIONS[key]}, {ENVIRONMENT[key]} or the config file)"
            )
    if found["data"]:
        check_data_path(found["data"])
    say_if_writable_by_everyone(found["data"])
    return LakeSettings(catalog=catalog, data=found["data"], machine=machine, user=user)


# The options that name the lake and the labels, as `publish` and `sql` take them.
HELP = {
    "lake": "the team lake's catalog as DuckLake takes it after `ducklake:`, e.g. 'postgres:dbname=lake "
    "host=db.internal user=probe' (default: PROBE_LAKE, else the config file); a password goes in PGPASSWORD or "
    "~/.pgpass",
    "lake-data": "the lake's data path, a folder or an object-store URL (s3://bucket/prefix; its keys from AWS_* "
    "variables or a DuckDB secret, see the team lake's docs) (default: PROBE_LAKE_DATA, else the config "
    "file; a lake made already knows its own)",
    "machine": "this machine's label in the lake (default: PROBE_MACHINE, else the config file, else a fingerprint "
    "of the host name)",
    "user": "your label in the lake (default: PROBE_USER, else the config file, else a fingerprint of the account "
    "name)",
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
