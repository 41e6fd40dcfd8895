"""The lake's catalog string read as libpq reads it: a password in it is refused, a reader's session is made
read-only, and the string is kept out of every message (DuckDB's own errors quote it whole)."""

import re

from probe.common.errors import UsageError, one_line

POSTGRES = "postgres:"
# A key libpq would send as a secret (`password`, `sslpassword`, and the OAuth client secret of newer releases);
# `passfile` and `sslkey` name files, which stay the user's.
SECRET_KEY = re.compile(r"password|secret", re.IGNORECASE)
# Before libpq is asked: any spelling of a password key or a URL's `user:password@` in text that is not a
# PostgreSQL catalog (a file's path, or another engine's string), and a first check of one that is.
PASSWORD_TEXT = re.compile(r"(?:^|[\s:?&'\"])(?:ssl)?password\s*=|://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)
# What libpq takes for a second connection string inside `dbname` (its "expanded" form).
EXPANDED = re.compile(r"=|^postgres(?:ql)?://", re.IGNORECASE)
READ_ONLY = "-c default_transaction_read_only=on"
# A quoted part of a message that holds a connection string: one of libpq's keywords given a value, or a URL of
# PostgreSQL's.
KEYWORDS = (
    r"host|hostaddr|port|dbname|user|password|passfile|options|service|ssl\w*|gss\w*|krbsrvname|connect_timeout|"
    r"application_name|target_session_attrs|require_auth|channel_binding|oauth\w*|keepalives\w*|load_balance_hosts|"
    r"client_encoding|replication|requirepeer|tcp_user_timeout"
)
QUOTED_STRING = re.compile(rf'"[^"]*(?:\b(?:{KEYWORDS})\s*=|postgres(?:ql)?://)[^"]*"', re.IGNORECASE)
CATALOG = "the catalog"
OTHER = "a connection string (not shown)"
CONNECT_FAILED = re.compile(
    rf'Unable to connect to Postgres at ("[^"]*"|{CATALOG}|{re.escape(OTHER)})(?:: )?(.*)$', re.DOTALL
)
HINT = "pip install 'agent-probe[lake]'"


def is_postgres(catalog: str) -> bool:
    """Whether DuckLake reads the catalog as PostgreSQL's (it takes the prefix in any case: `Postgres:` too)."""
    return catalog[: len(POSTGRES)].lower() == POSTGRES


def libpq_part(catalog: str) -> str:
    """The connection string after the `postgres:` prefix."""
    return catalog[len(POSTGRES) :] if is_postgres(catalog) else catalog


def libpq_keys(catalog: str) -> dict[str, str]:
    """The keys and values libpq reads from a PostgreSQL catalog's string (keywords or a URL, percent-decoded), with
    a `dbname` that is itself a connection string read too; a string libpq refuses is a UsageError that quotes
    none of it."""
    try:
        from psycopg import Error
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise UsageError(f"the lake needs psycopg to read its catalog string as libpq does: {HINT}") from None
    try:
        keys = conninfo_to_dict(libpq_part(catalog))
    except Error as error:
        # (libpq's message quotes the part it stopped at, which may be a piece of a password)
        why = re.sub(r'"[^"]*"', '"…"', " ".join(str(error).split()))
        raise UsageError(f"--lake: not a connection string libpq reads ({one_line(why)[:200]})") from None
    dbname = keys.get("dbname") or ""
    if EXPANDED.search(dbname):
        keys |= {f"dbname.{key}": value for key, value in libpq_keys(POSTGRES + dbname).items()}
    return {key: str(value) for key, value in keys.items()}


def refuse_password(catalog: str) -> None:
    """A catalog string that would carry a password, in any spelling libpq reads, is a UsageError: DuckDB's messages
    repeat the string, and a shell keeps its history."""
    secret = bool(PASSWORD_TEXT.search(catalog))
    if not secret and is_postgres(catalog):
        secret = any(SECRET_KEY.search(key) for key in libpq_keys(catalog))
    if secret:
        raise UsageError(
            "--lake holds a password: give it in PGPASSWORD or ~/.pgpass instead, where DuckDB's messages and the "
            "shell's history cannot show it"
        )


def read_only_session(catalog: str) -> str:
    """A PostgreSQL catalog's string whose sessions cannot write (PostgreSQL's default_transaction_read_only, added
    to the options the string gives): a reader attaches the lake through it, so that nothing it does is ever
    committed."""
    from psycopg.conninfo import make_conninfo

    keys = libpq_keys(catalog)
    options = " ".join(part for part in (keys.get("options", ""), READ_ONLY) if part)
    return POSTGRES + make_conninfo(libpq_part(catalog), options=options)


def without_catalog(message: str, *catalogs: str) -> str:
    """DuckDB's message with every connection string it quotes taken out: the reason, not the string. One of
    `catalogs` is called the catalog; any other (a server a typed query named) is said not to be shown."""
    for catalog in sorted({text for given in catalogs for text in (given, libpq_part(given))}, key=len, reverse=True):
        if catalog:
            message = message.replace(f'"{catalog}"', CATALOG).replace(catalog, CATALOG)
    message = QUOTED_STRING.sub(OTHER, message)
    failed = CONNECT_FAILED.search(message)
    if failed:
        server = "the catalog" if failed.group(1) == CATALOG else "PostgreSQL (its connection string not shown)"
        return f"cannot connect to {server}: {failed.group(2) or 'no reason given'}"
    return message
