"""A DuckDB connection locked down: the files it may open, no URL, no extension, no setting changed after."""

import os


def confine_to(connection, directories: list[str] = (), files: list[str] = ()) -> None:
    """From now on the connection reads and writes no file but those in `directories` (prefixes ending in a slash)
    and `files`, reaches no URL, attaches no database, loads and installs no extension, and none of its settings can
    change: what a query typed or copied from elsewhere reaches stays inside what the views read. Its temporary
    folder stays its own."""
    connection.execute("SET allowed_directories = $folders", {"folders": list(directories)})
    connection.execute("SET allowed_paths = $files", {"files": [os.path.realpath(path) for path in files]})
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
