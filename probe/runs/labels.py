"""Whose a run is, as pseudonymous labels: the machine and the user (by default fingerprints of the host's and the
account's names) and an optional team, project and repository, from the environment (PROBE_MACHINE, PROBE_USER,
PROBE_TEAM, PROBE_PROJECT, PROBE_REPOSITORY), else the `[lake]` table of the user's config file. A run's manifest
records them when it is recorded, and the team lake credits them."""

import getpass
import hashlib
import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from probe.common.errors import UsageError, one_line
from probe.common.paths import display
from probe.runs.label_names import LABEL_ENVIRONMENT, LABEL_NAMES

# The labels, by the name of the variable that gives each; the config file's [lake] table also names the lake.
CONFIG_KEYS = ("catalog", "data", *LABEL_NAMES)
CONFIG_LIMIT = 1 << 20  # a config file is a few lines: a larger one is not read
# Letters, digits and a few marks, no blank and no control character anywhere (a label is a value to group by: `m1`
# and `m1\n` would be two machines).
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Whose labels a run's manifest holds: the recorder's, or (an imported run) the importer's. A run recorded before
# manifests held labels is credited to whoever publishes it (`publisher`).
RECORDER, IMPORTER, PUBLISHER = "recorder", "importer", "publisher"
LABELS_FIELD = "labels"  # the manifest's field
WHOSE = "whose"  # within it: RECORDER or IMPORTER


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
    wrong = [key for key, value in table.items() if key not in CONFIG_KEYS or not isinstance(value, str)]
    if wrong:
        raise UsageError(f"{display(path)}: [lake] takes text for {', '.join(CONFIG_KEYS)}; not {one_line(wrong[0])}")
    return table


def fingerprint(kind: str, name: str) -> str:
    """A stable label that does not say the name: `host-3f7183a1`."""
    return f"{kind}-{hashlib.sha256(name.encode(errors='surrogateescape')).hexdigest()[:8]}"


def account_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # (no name for the uid: a container's)
        return str(os.getuid())


def bad_label(key: str, label: str, option: str | None = None) -> UsageError:
    given = f"{option}, {LABEL_ENVIRONMENT[key]}" if option else LABEL_ENVIRONMENT[key]
    return UsageError(
        f"{option or LABEL_ENVIRONMENT[key]} '{one_line(label)}': a label is 1 to 64 letters, digits and . _ @ - "
        f"(from {given} or the config file)"
    )


def labels(given: dict[str, str | None] | None = None, options: dict[str, str] | None = None) -> dict[str, str | None]:
    """This machine's labels: from `given` (the command line's, by label), the environment, then the config file;
    the machine and the user default to fingerprints, the others to None. A label that is not one is a UsageError in
    one line (`options`: the command-line option of each label, which the message names)."""
    given = given or {}
    from_file: dict[str, str] | None = None
    found: dict[str, str | None] = {}
    for key, variable in LABEL_ENVIRONMENT.items():
        value = given.get(key) or os.environ.get(variable) or None
        if value is None:
            from_file = configured() if from_file is None else from_file
            value = from_file.get(key) or None
        if value is not None and not LABEL.fullmatch(value):
            raise bad_label(key, value, (options or {}).get(key))
        found[key] = value
    found["machine"] = found["machine"] or fingerprint("host", socket.gethostname())
    found["user"] = found["user"] or fingerprint("user", account_name())
    return found


def manifest_labels(whose: str = RECORDER) -> dict[str, Any]:
    """The labels as a manifest records them, saying whose they are."""
    return {**labels(), WHOSE: whose}


def recorded_labels(manifest: Any) -> tuple[dict[str, str | None], str] | None:
    """The labels a manifest records and whose they are, each one that is not a label (a manifest may come from
    anyone) as None; None where it records no machine and user that are labels (a run recorded before manifests
    held them)."""
    field = manifest.get(LABELS_FIELD) if isinstance(manifest, dict) else None
    if not isinstance(field, dict):
        return None
    found = {key: value if isinstance(value, str) and LABEL.fullmatch(value) else None for key in LABEL_NAMES
             for value in [field.get(key)]}  # fmt: skip
    if found["machine"] is None or found["user"] is None:
        return None
    return found, IMPORTER if field.get(WHOSE) == IMPORTER else RECORDER
