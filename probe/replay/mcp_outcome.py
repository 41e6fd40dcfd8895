"""What a replay's MCP stand-ins met, read from the file they told it in, as the `mcp` entry of the new run's
`replay` record: for each server, how many calls it got, served, repeated and diverged, and which recorded calls
nobody asked for; the first call that diverged (its server, method, summary and diff) and those after it."""

from pathlib import Path

from probe.common.lines import BoundedLines
from probe.replay.mcp_recorded import parsed

MAX_TOLD_LINE = 1024 * 1024  # a stand-in's line: a summary, a note, a divergence with a diff cut to its rows
LISTED = 20  # of the divergences after the first, the record lists this many (`divergences` counts them all)
COUNTS = ("requests", "served", "repeated", "diverged")


def mcp_outcome(told: Path | None, servers: list[str]) -> dict | None:
    """The record, or None for a replay with no MCP server."""
    if not servers:
        return None
    lines = told_lines(told)
    counts = {server: dict.fromkeys(COUNTS, 0) | {"not_asked": None} for server in servers}
    for line in lines:
        server = counts.get(line.get("server")) if line.get("event") == "stopped" else None
        if server is None:
            continue
        for name in COUNTS:
            server[name] += line[name] if type(line.get(name)) is int else 0
        asked = {number for number in line.get("not_asked") or [] if type(number) is int}
        # One process of the server's per session the agent opened: a call is not asked if none asked it.
        server["not_asked"] = asked if server["not_asked"] is None else server["not_asked"] & asked
    for server in counts.values():
        server["not_asked"] = sorted(server["not_asked"] or [])
    diverged = [line for line in lines if line.get("event") == "diverged" and isinstance(line.get("summary"), str)]
    total = sum(server["diverged"] for server in counts.values())
    status = f"diverged at call {diverged[0].get('request')} of {diverged[0].get('server')}" if diverged else None
    record = {"servers": counts, "status": status or "every call matched"}
    notes = list(dict.fromkeys(f"{line.get('server')}: {line['note']}" for line in lines  # once, not per session
                               if line.get("event") == "note" and isinstance(line.get("note"), str)))  # fmt: skip
    record |= {"notes": notes} if notes else {}
    if diverged:
        first = diverged[0]
        record |= {
            "first_divergence": first["summary"],
            "server": first.get("server"),
            "method": first.get("method"),
            "diff": first.get("diff"),
            "divergences": max(total, len(diverged)),
            "consequences": [
                {"server": line.get("server"), "request": line.get("request"), "summary": line["summary"]}
                for line in diverged[1 : LISTED + 1]
            ],
        }
    return record


def told_lines(told: Path | None) -> list[dict]:
    if told is None or not told.is_file():
        return []
    with told.open("rb") as file:
        return [entry for _, raw, _ in BoundedLines(file, MAX_TOLD_LINE) if raw and (entry := parsed(raw)) is not None]
