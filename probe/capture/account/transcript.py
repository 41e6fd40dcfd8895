"""Keeps the agent's own session file of a run, masked, as transcript.jsonl in the run folder, and says in the
manifest what it holds (`account.transcript`): the run's files only, read before the private home is removed, and
with the user's own home only the one session the run's traffic names."""

import datetime
import json
import os
import re
from pathlib import Path

from probe.capture.account.session_files import MAX_FILE, count_records, records
from probe.capture.scrub import mask_values, secret_values
from probe.runs.placeholders import fill_placeholders
from probe.runs.transcripts import SESSION, Transcript

TRANSCRIPT = "transcript.jsonl"
MAX_FILES = 16  # session files of one run (a main session and its sub-agents'); more are left, and counted
# A session id the wire shows goes into a path: letters, digits, - and _ only.
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
HEADER_PREFIX = 64 * 1024  # bytes of each traffic.jsonl line looked at: a record's headers come before its bodies
MAX_SESSIONS = 4  # distinct session ids of one run (a run that starts a new session, /clear)


def keep(plan, recording, home: Path | None, env: dict[str, str]) -> None:
    """Write transcript.jsonl for the run `plan` (probe.capture.run.Plan) recorded in `recording`, whose agent ran
    with the private home `home` and the environment `env`, and record `account.transcript` in its manifest."""
    try:
        state = kept(plan, recording.run, home, env, recording.manifest.get("started_at"))
    except (OSError, ValueError) as error:  # never in the way of the run's cleanup, which goes on after this
        state = none(f"the session file could not be read: {error.__class__.__name__}")
    recording.manifest.setdefault("account", {})["transcript"] = state


def kept(plan, run: Path, home: Path | None, env: dict[str, str], started_at: str | None) -> dict:
    """What the manifest says of the transcript, once transcript.jsonl holds it (if it does)."""
    spec: Transcript | None = plan.target.transcript
    if plan.command is not None or home is None:
        return none("the run started a command, not the target's agent" if plan.command else "the run has no agent")
    if spec is None:
        return none(f"target {plan.target.name} declares no agent.transcript: where its agent keeps a session file")
    if plan.home == "own":
        if not spec.own:
            return none(spec.why)
        found, why = own_files(spec, run, env, started_at)
    else:
        if not spec.private:
            return none(spec.why)
        found, why = private_files(spec, run, home, env)
    if not found:
        return none(why or "the agent wrote no session file where its target says it keeps one")
    secrets = secret_values(env) + (plan.telemetry.secrets() if plan.telemetry else [])
    state = write(found, spec.format, run, [] if plan.keep_secrets else secrets, plan.keep_secrets)
    before = records_before(plan, found, run, home, env)
    if before is not None:
        state["before_this_run"] = before
    if why:
        state["why"] = why
    return state


def none(why: str) -> dict:
    return {"state": "none", "why": why}


def private_files(spec: Transcript, run: Path, home: Path, env: dict[str, str]) -> tuple[list[Path], str]:
    """The session files the private globs find, inside the run folder or the private home only."""
    patterns = [filled(pattern, run, home, env) for pattern in spec.private]
    if None in patterns:
        return [], "agent.transcript.private names a variable the agent's environment does not set"
    places = (run.resolve(), home.resolve())
    found = {path for pattern in patterns for path in globbed(pattern)}
    return ordered(path for path in found if any(path.resolve().is_relative_to(place) for place in places)), ""


def filled(pattern: str, run: Path, home: Path, env: dict[str, str]) -> str | None:
    values = {"run": str(run.resolve()), "agent_home": str(home)}
    values |= {f"env.{name}": value for name, value in env.items()}
    text = fill_placeholders(pattern, values)
    return None if "{" in text.partition("/")[0] else text


def globbed(pattern: str) -> list[Path]:
    """Regular files (no links) the absolute glob `pattern` finds."""
    root, _, rest = pattern.lstrip("/").partition("/")
    start = Path("/", root)
    return [path for path in start.glob(rest) if path.is_file() and not path.is_symlink()] if rest else []


def ordered(paths) -> list[Path]:
    """Shallowest first, then oldest: a session's own file before those of its sub-agents, kept in a folder below it
    and finished before it (so the manifest's `file` is the main session's)."""
    return sorted(paths, key=lambda path: (len(path.parts), path.stat().st_mtime, path.name))


def own_files(spec: Transcript, run: Path, env: dict[str, str], started_at: str | None) -> tuple[list[Path], str]:
    """With the user's own home: only the file of each session this run's traffic names (by the target's header),
    written since the run started. Nothing else of the user's is looked at."""
    ids = session_ids(run / "traffic.jsonl", spec.session_header)
    if not ids:
        return [], f"the run's traffic names no session ({spec.session_header}): no file of the user's is read"
    folder = env.get(spec.own_folder_env or "") or str(Path(env.get("HOME", "~")) / spec.own_folder[2:])
    since = started(started_at)
    found = set()
    for session in ids:
        for pattern in spec.own:
            place = str(Path(folder).resolve() / pattern.replace(SESSION, session))
            found |= {path for path in globbed(place) if path.stat().st_mtime >= since}
    return ordered(found), ""


def started(started_at: str | None) -> float:
    """When the run started (the manifest's second, so a second early), as epoch seconds."""
    try:
        return datetime.datetime.strptime(started_at or "", "%Y-%m-%dT%H:%M:%S%z").timestamp() - 1
    except ValueError:
        return float("inf")  # unknown: no file of the user's is taken as this run's


def session_ids(traffic: Path, header: str | None) -> list[str]:
    """The distinct plain session ids the requests of traffic.jsonl carry in `header`, first seen first. Only the
    start of each line is read, where a record's headers are; a value that is not a plain id is ignored."""
    if header is None:
        return []
    pattern = re.compile(rb'\["' + re.escape(header.encode()) + rb'",\s*"([^"\\]{1,200})"\]', re.IGNORECASE)
    ids: list[str] = []
    try:
        with traffic.open("rb") as file:
            while (line := file.readline(HEADER_PREFIX)) and len(ids) <= MAX_SESSIONS:
                for match in pattern.finditer(line):
                    value = match.group(1).decode("ascii", "replace")
                    if SESSION_ID.match(value) and value not in ids:
                        ids.append(value)
                while not line.endswith(b"\n") and (line := file.readline(1024 * 1024)):
                    pass
    except OSError:
        return []
    return ids[:MAX_SESSIONS]


def write(found: list[Path], source: str, run: Path, secrets: list[str], keep_secrets: bool) -> dict:
    """transcript.jsonl from the session files, each read no further than its limit; what the manifest says."""
    count, kept_files, notes = 0, [], []
    mask_text = None if keep_secrets else lambda text: mask_values(text, secrets)
    with open(os.open(run / TRANSCRIPT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        for path in found[:MAX_FILES]:
            try:
                if path.stat().st_size > MAX_FILE:
                    notes.append(f"{path.name} is over {MAX_FILE:,} bytes, not read")
                    continue
                for line in records(path, source, mask_text):
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    count += "record" in line
            except (OSError, UnicodeDecodeError) as error:
                notes.append(f"{path.name} could not be read whole: {error.__class__.__name__}")
            kept_files.append(path.name)
    if len(found) > MAX_FILES:
        notes.append(f"{len(found) - MAX_FILES} more session files, not read")
    state = {"state": "kept", "file": kept_files[0] if kept_files else None, "records": count}
    if len(kept_files) > 1:
        state["files"] = kept_files
    if notes:
        state["why"] = "; ".join(notes)
    return state


def records_before(plan, found: list[Path], run: Path, home: Path, env: dict[str, str]) -> int | None:
    """With --resume: how many of the records came before this run, those the resumed run's kept copy of each file
    holds (the new run's state folder started as a copy of it); None without --resume, or when a count is unsure."""
    if plan.origin is None or plan.target.resume is None:
        return None
    state = filled(plan.target.resume.state, run, home, env)
    if state is None:
        return None
    total = 0
    for path in found:
        if not path.resolve().is_relative_to(Path(state).resolve()):
            continue  # not in the state folder the run was given a copy of: all its own
        copied = plan.origin.state / path.resolve().relative_to(Path(state).resolve())
        counted = count_records(copied) if copied.is_file() else 0  # a file the resumed run had not: all new
        if counted is None:
            return None
        total += counted
    return total
