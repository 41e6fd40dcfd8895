"""The lake's data on an object store: DuckDB's httpfs loaded, and the store's credentials from the environment made
a temporary DuckDB secret scoped to the data path (never written anywhere), or else whatever secret DuckDB finds
itself."""

import ipaddress
import os
import re
from urllib.parse import urlsplit

from probe.common.errors import UsageError, one_line
from probe.store.lake.data_path import as_prefix
from probe.store.quoting import quoted

# The schemes httpfs 1.5.5 reads and writes, and the kind of secret each takes. s3:// reaches any store with the S3
# API (AWS, MinIO, Cloudflare R2, Google Cloud Storage's interoperability endpoint) given its endpoint; gs:// and
# r2:// take secrets of their own kinds, which only the user makes (see the team lake's docs).
SCHEMES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gcs", "gcs": "gcs", "r2": "r2"}
SECRET = "probe_lake_data"  # the temporary secret's name
# The AWS variables an S3 secret takes, by the option of DuckDB's CREATE SECRET each sets, first found first.
VARIABLES = {
    "KEY_ID": ("AWS_ACCESS_KEY_ID",),
    "SECRET": ("AWS_SECRET_ACCESS_KEY",),
    "SESSION_TOKEN": ("AWS_SESSION_TOKEN",),
    "REGION": ("AWS_REGION", "AWS_DEFAULT_REGION"),
}
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme(path: str) -> str:
    found = SCHEME.match(path)
    return found.group(1).lower() if found else ""


def check_data_path(path: str) -> None:
    """A data path that is a URL of a scheme httpfs cannot write, or an S3 URL whose endpoint in the environment
    cannot be used, is a UsageError in one line, before anything connects."""
    if scheme(path) and scheme(path) not in SCHEMES:
        raise UsageError(
            f"--lake-data: {scheme(path)}:// is not a store the lake can keep its files in (it takes a folder, or "
            f"{', '.join(f'{name}://' for name in SCHEMES)})"
        )
    if SCHEMES.get(scheme(path)) == "s3":
        from_environment(dict(os.environ))


def from_environment(environment: dict[str, str]) -> dict[str, str]:
    """The S3 secret's options the environment gives: keys, session token, region, and an endpoint (a store other
    than AWS: MinIO, R2, a test server) with the URL style and TLS it takes."""
    options = {}
    for option, names in VARIABLES.items():
        value = next((environment[name] for name in names if environment.get(name)), None)
        if value:
            options[option] = value
    endpoint = next((environment[name] for name in ENDPOINT_VARIABLES if environment.get(name)), None)
    if endpoint:
        options |= endpoint_options(endpoint)
    return options


def endpoint_options(url: str) -> dict[str, str]:
    """An endpoint URL as DuckDB's secret takes it: host and port, TLS, and path-style URLs (which MinIO and most
    stores other than AWS need). Plain http only to this machine: elsewhere the keys' signatures and the data would
    cross the network in clear."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"AWS_ENDPOINT_URL: not an http(s) URL of a host ({one_line(url)[:80]})")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"AWS_ENDPOINT_URL: http://{one_line(parts.hostname)[:80]} is not this machine: an object store "
            "elsewhere is reached over https only"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {
        "ENDPOINT": host + (f":{parts.port}" if parts.port else ""),
        "USE_SSL": "true" if parts.scheme == "https" else "false",
        "URL_STYLE": "path",
    }


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def store_secret(connection, data_path: str, environment: dict[str, str] | None = None) -> None:
    """Where the environment gives S3 credentials or an endpoint, make them a temporary secret of `connection` (which
    has httpfs loaded) scoped to `data_path`. Without any, DuckDB looks for a secret the user made (CREATE PERSISTENT
    SECRET, kept under ~/.duckdb/stored_secrets), else reads without credentials. A secret that cannot be made is a
    UsageError that quotes none of its values."""
    import duckdb

    kind = SCHEMES.get(scheme(data_path))
    options = from_environment(dict(os.environ) if environment is None else environment)
    if kind != "s3" or not options:
        return
    values = ", ".join(f"{name} {quote_option(name, value)}" for name, value in options.items())
    statement = f"CREATE OR REPLACE TEMPORARY SECRET {SECRET} (TYPE s3, {values}, SCOPE {quoted(as_prefix(data_path))})"
    try:
        connection.execute(statement)
    except duckdb.Error as error:
        said = str(error).splitlines()[0] if str(error) else type(error).__name__
        for value in options.values():
            said = said.replace(value, "…")
        raise UsageError(f"lake: the object store's credentials from the environment: {one_line(said)[:200]}") from None


def quote_option(name: str, value: str) -> str:
    return value if name == "USE_SSL" else quoted(value)
