"""The columns of a SQL view as they may leave the machine: each text masked as `sql` prints it, and each type a
file format or a lake cannot hold narrowed."""

from probe.redact.secrets import mask_tokens_and_urls
from probe.write.sql_files import quoted
from probe.write.view_columns import NARROWED, view_columns

MASKS = "masked_texts"  # the texts of a view that masking changes, by column, and what it makes of them
BATCH = 1024


def masked_columns(connection, view: str, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The select list of every column of `view` but those in `leave_out`, masked and narrowed; it reads a table of
    masked texts made anew for it, so it is to be run before the next view's."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {MASKS} (name VARCHAR, text VARCHAR, masked VARCHAR)")
    return [
        f'{written(connection, view, name, kind)} AS "{name}"'
        for name, kind in view_columns(connection, view)
        if name not in leave_out
    ]


def written(connection, view: str, name: str, kind: str) -> str:
    column = f'"{name}"'
    if kind in ("VARCHAR", "JSON") and masked_text(connection, view, name):
        text = f"CAST({column} AS VARCHAR)"
        lookup = f"(SELECT m.masked FROM {MASKS} m WHERE m.name = {quoted(name)} AND m.text = {text})"
        return f"coalesce({lookup}, {text})" + ("::JSON" if kind == "JSON" else "")
    return f"TRY_CAST({column} AS {NARROWED[kind]})" if kind in NARROWED else column


def masked_text(connection, view: str, name: str) -> bool:
    """Whether a value of the column holds what masking changes (the files behind the views may hold secrets: a label
    or prompt from an older capture, a hand-made file); each such value and its masked text are added to MASKS. The
    column's distinct values are read a batch at a time, and only those that change are kept."""
    found = connection.execute(f'SELECT DISTINCT CAST("{name}" AS VARCHAR) FROM {view} WHERE "{name}" IS NOT NULL')
    changed = []
    while batch := found.fetchmany(BATCH):
        changed += [(name, text, masked) for (text,) in batch if (masked := mask_tokens_and_urls(text)) != text]
    if changed:
        connection.executemany(f"INSERT INTO {MASKS} VALUES (?, ?, ?)", changed)
    return bool(changed)
