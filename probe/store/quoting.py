"""Text and names as SQL quotes them: what every part of the store writes into a statement, from anywhere."""


def quoted(text: str) -> str:
    """A text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A name as a quoted SQL identifier (a catalog may hold any)."""
    return '"' + name.replace('"', '""') + '"'
