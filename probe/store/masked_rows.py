"""The columns of a SQL view as they may leave the machine: each text masked as `sql` prints it, and each type a
file format or a lake cannot hold narrowed."""

from probe.redact.secrets import mask_tokens_and_urls
from probe.store.columns import NARROWED, view_columns
from probe.store.quoting import quoted

# The texts of a view that masking changes, by column, and what it makes of them. Its columns have names no view's
# column has: in a lookup an unqualified name binds to the nearest table that has it, and a view's `name` column
# would otherwise be read as the lookup's own.
MASKS = "masked_texts"
MASK_COLUMNS = "masked_column VARCHAR, original_text VARCHAR, masked_text VARCHAR"
BATCH = 1024


def masked_columns(connection, view: str, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The select list of every column of `view` but those in `leave_out`, masked and narrowed; it reads a table of
    masked texts made anew for it, so it is to be run before the next view's."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {MASKS} ({MASK_COLUMNS})")
    return [
        f'{written(connection, view, name, kind)} AS "{name}"'
        for name, kind in view_columns(connection, view)
        if name not in leave_out
    ]


def written(connection, view: str, name: str, kind: str) -> str:
    """A column as it is written: a text masked; a list, map or struct that holds text masked as its JSON, then read
    back as its type; any other narrowed where it must be."""
    column = f'"{name}"'
    plain = f"TRY_CAST({column} AS {NARROWED[kind]})" if kind in NARROWED else column
    flat = kind in ("VARCHAR", "JSON")
    if not flat and "VARCHAR" not in kind and "JSON" not in kind:
        return plain
    text = f"CAST({column} AS VARCHAR)" if flat else f"CAST(to_json({column}) AS VARCHAR)"
    if not masked_text(connection, view, name, text):
        return plain
    where = f"m.masked_column = {quoted(name)} AND m.original_text = {text}"
    lookup = f"(SELECT m.masked_text FROM {MASKS} m WHERE {where})"
    if flat:
        return f"coalesce({lookup}, {text})" + ("::JSON" if kind == "JSON" else "")
    # (a masked JSON that no longer reads as the type gives NULL, never the text unmasked)
    return f"CASE WHEN {lookup} IS NULL THEN {column} ELSE TRY_CAST(CAST({lookup} AS JSON) AS {kind}) END"


def masked_text(connection, view: str, name: str, text: str) -> bool:
    """Whether a value of the column, as `text` gives it, holds what masking changes (the files behind the views may
    hold secrets: a label or prompt from an older capture, a tool's name in a hand-made capture); each such value and
    its masked text are added to MASKS. The distinct values are read a batch at a time, and only those that change
    are kept."""
    found = connection.execute(f'SELECT DISTINCT {text} FROM {view} WHERE "{name}" IS NOT NULL')
    changed = []
    while batch := found.fetchmany(BATCH):
        changed += [(name, value, masked) for (value,) in batch if (masked := mask_tokens_and_urls(value)) != value]
    if changed:
        connection.executemany(f"INSERT INTO {MASKS} VALUES (?, ?, ?)", changed)
    return bool(changed)
