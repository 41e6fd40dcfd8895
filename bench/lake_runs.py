"""Generated runs for the team lake's benchmark: a few tens of template sessions (claude-code on the Messages API,
codex on the Responses API, gemini on the Gemini API; several models and agent versions, windows filled past 80%
in some, the cache broken midway in others), each analysed once for real, then copied into as many run folders as
asked, each its own run (its own manifest: started, ended, version, label), spread over machines' data folders.

The copies share the templates' files by hard link and are recorded as made here (probe.runs.ledger), so that
`invoke sql` and publish find their reports up to date and rebuild none.
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from generate_capture import http_entry
from lake_turns import (
    SPAWN_TOOLS,
    SUB_TURNS,
    TOOL_EVERY,
    Ask,
    Call,
    agent_headers,
    exchange,
    spawn_result,
    tool_result,
    user_turn,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from probe.runs.ledger import REPORT, prices_made_with, record_made  # noqa: E402  (after the path set-up above)

# Per target: its models (with the window the bench fills up to a share of) and its agent versions.
TARGETS = {
    "claude-code": {"models": {"claude-haiku-4-5": 200_000, "claude-opus-4-1": 200_000},
                    "versions": ["2.0.10", "2.0.14", "2.1.3"]},
    "codex": {"models": {"gpt-5": 400_000, "gpt-5-mini": 400_000}, "versions": ["0.46.0", "0.50.0", "0.53.1"]},
    "gemini": {"models": {"gemini-2.5-pro": 1_048_576, "gemini-2.5-flash": 1_048_576},
               "versions": ["0.9.0", "0.10.2", "0.11.0"]},
}  # fmt: skip
TURN_COUNTS = (60, 80, 100, 120, 140)  # the templates' lengths, in turn: 100 on average
START = datetime.datetime(2026, 10, 5, 9, 0, tzinfo=datetime.UTC)  # a Monday
SPREAD_DAYS = 28  # the runs' start times are spread over four weeks
USERS = 7  # the people who recorded the copies
OUTPUTS = REPORT.outputs + (REPORT.inputs[0],)  # what a copy shares with its template, besides its own manifest


@dataclass(frozen=True)
class Template:
    """One generated session: whose, which model and version, how long, how full its window ends, and where its
    cache breaks (None: never)."""

    index: int
    target: str
    model: str
    window: int
    version: str
    turns: int
    peak_share: float
    break_at: int | None

    @property
    def name(self) -> str:
        return f"20260101-{self.index:06d}-template"


def templates(count: int) -> list[Template]:
    made = []
    for index in range(count):
        target = list(TARGETS)[index % len(TARGETS)]
        models, versions = TARGETS[target]["models"], TARGETS[target]["versions"]
        model = list(models)[(index // len(TARGETS)) % len(models)]
        turns = TURN_COUNTS[index % len(TURN_COUNTS)]
        made.append(Template(
            index, target, model, models[model], versions[(index // len(TARGETS)) % len(versions)], turns,
            peak_share=0.95 if index % 4 == 0 else 0.2 + 0.15 * (index % 4),
            break_at=turns // 2 if index % 2 == 0 else None,
        ))  # fmt: skip
    return made


def prompt_tokens(template: Template, turn: int) -> int:
    """The turn's whole prompt, growing linearly to the template's share of its window."""
    first, last = 3_000, int(template.peak_share * template.window)
    return first + (last - first) * turn // max(1, template.turns - 1)


def instructions(template: Template, turn: int) -> str:
    text = f"You are {template.target} {template.version}, a coding agent. Work in the repository."
    if template.break_at is not None and turn >= template.break_at:
        text += f" The date changed: day {template.break_at}."  # a changed prefix: the cache breaks here
    return text


def tool_names(template: Template) -> list[str]:
    return ["shell", "read_file", "write_file", "search"][: 2 + TARGETS[template.target]["versions"].index(
        template.version)]  # fmt: skip


def usage(template: Template, turn: int) -> tuple[int, int, int]:
    """The turn's (uncached input, cache read, cache write) tokens."""
    total, before = prompt_tokens(template, turn), prompt_tokens(template, turn - 1) if turn else 0
    if turn == 0 or turn == template.break_at:
        return 50, 0, total - 50
    return 50, before, total - before - 50


# The other hosts each agent talks to (through the forward proxy): one of them every SIDE_EVERY turns.
SIDE_HOSTS = {
    "claude-code": ["https://statsig.anthropic.com/v1/rgstr", "https://api.anthropic.com/api/eval/sdk-flags",
                    "https://o1158394.ingest.sentry.io/api/1/envelope/"],
    "codex": ["https://chatgpt.com/backend-api/codex/analytics-events", "https://chatgpt.com/backend-api/plugins"],
    "gemini": ["https://play.googleapis.com/log", "https://oauth2.googleapis.com/tokeninfo"],
}  # fmt: skip
SIDE_EVERY = 10
BASE_TIME = 1_795_000_000.0  # when every template's session starts, in its capture's clock


def side_entry(template: Template, turn: int) -> dict:
    urls = SIDE_HOSTS[template.target]
    url = urls[(turn // SIDE_EVERY) % len(urls)]
    entry = http_entry(100_000 + turn, {"events": [{"name": "tick", "turn": turn}]}, [], "{}", url)
    entry["proxy"] = "forward"
    entry["response"]["headers"] = [["content-type", "application/json"]]
    return entry


def manifest(template: Template, label: str, started: datetime.datetime, labels: dict | None = None) -> dict:
    """A run's manifest; `labels`: who recorded it, as a recording's manifest keeps them (probe.runs.labels)."""
    ended = started + datetime.timedelta(seconds=30 * template.turns)
    stamp = "%Y-%m-%dT%H:%M:%S+0000"
    kept = (
        {"labels": {"team": None, "project": None, "repository": None, **labels, "whose": "recorder"}} if labels else {}
    )
    return {"schema": 1, "target": template.target, "label": label, "prompt": "go on with the change",
            "keep_secrets": False, "agent": {"version": template.version}, "agent_exit_code": 0,
            "started_at": started.strftime(stamp), "ended_at": ended.strftime(stamp), "status": "complete",
            **kept}  # fmt: skip


def make_template(template: Template, folder: Path) -> Path:
    """The template's run folder, its capture written and analysed (kept from an earlier bench if there)."""
    run = folder / template.target / template.name
    if (run / "report.md").is_file():
        return run
    run.mkdir(parents=True, exist_ok=True)
    with (run / "traffic.jsonl").open("w") as out:
        for entry in session(template):
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")
    (run / "manifest.json").write_text(json.dumps(manifest(template, "template", START)))
    return run


def session(template: Template) -> list[dict]:
    """The template's exchanges in order: a main agent's turns, 30 s apart, each third one a tool call whose result
    the next request carries; a call to another host every SIDE_EVERY turns; and, in Claude Code's and codex's
    sessions, a sub-agent of SUB_TURNS exchanges spawned a third of the way in."""
    target, entries, history, pending = template.target, [], [], None
    spawns = target in SPAWN_TOOLS
    main = None if target == "claude-code" else f"thread-main-{template.index}"
    for turn in range(template.turns):
        history.append(tool_result(target, pending, result_text(target, pending)) if pending else user_turn(
            target, f"Turn {turn}: please go on with the next step of the change."))  # fmt: skip
        call = planned_call(template, turn)
        tools = tool_names(template) + ([SPAWN_TOOLS[target]] if spawns else [])
        ask = Ask(instructions(template, turn), tools, template.model, (*usage(template, turn), 200 + turn),
                  f"Step {turn} done.", call, agent_headers(target, None, main))  # fmt: skip
        entries.append(timed(exchange(target, len(entries) + 1, ask, history), 30 * turn))
        if turn % SIDE_EVERY == 0:
            entries.append(timed(side_entry(template, turn), 30 * turn + 0.5))
        if call and call.name == SPAWN_TOOLS.get(target):
            sub_history: list[dict] = []
            for step in range(SUB_TURNS):
                sub = sub_agent_exchange(template, step, len(entries) + 1, main, sub_history)
                entries.append(timed(sub, 30 * turn + 1 + 3 * step))
        pending = call
    return entries


def planned_call(template: Template, turn: int) -> Call | None:
    """The tool the model calls at `turn`, if any: the sub-agent a third of the way in, a tool each third turn."""
    if turn == template.turns - 1:
        return None  # (the session ends on a text answer)
    if turn == template.turns // 3 and template.target in SPAWN_TOOLS:
        arguments = {"description": "Explore the code", "prompt": "Find where the change goes."}
        return Call(f"call_{template.index}_{turn}", SPAWN_TOOLS[template.target], arguments)
    if turn % TOOL_EVERY == 1:
        name = tool_names(template)[turn % len(tool_names(template))]
        return Call(f"call_{template.index}_{turn}", name, {"path": f"src/module_{turn % 17}.py"})
    return None


def result_text(target: str, call: Call) -> str:
    if call.name == SPAWN_TOOLS.get(target):
        return spawn_result(target, sub_agent_id(target, int(call.call_id.split("_")[1])))
    return f"{call.arguments['path']}:\n" + "".join(f"line {number} = {number * 7}\n" for number in range(40))


def sub_agent_id(target: str, index: int) -> str:
    return f"a{index:05d}sub" if target == "claude-code" else f"thread-sub-{index}"


def sub_agent_exchange(template: Template, step: int, number: int, main: str | None, history: list[dict]) -> dict:
    """The sub-agent's `step`th exchange, its request added to its own `history` and its answer after: its own
    instructions, a growing prompt under its cache."""
    target = template.target
    history.append(user_turn(target, "Find where the change goes." if step == 0 else f"Go on ({step})."))
    prompt, before = 4_000 + 1_500 * step, 4_000 + 1_500 * (step - 1) if step else 0
    tokens = (30, before, prompt - before - 30, 120)
    headers = agent_headers(target, sub_agent_id(target, template.index), main)
    ask = Ask("You are a sub-agent: explore the code and report.", tool_names(template)[:2], template.model, tokens,
              f"Part {step} looked at.", None, headers)  # fmt: skip
    return exchange(target, number, ask, history)


def timed(entry: dict, offset: float) -> dict:
    """The entry placed `offset` seconds into the session."""
    start = BASE_TIME + offset
    entry["timing"] = {"start": start, "first_byte": start + 0.004, "end": start + 0.2}
    return entry


def make_templates(count: int, cache: Path) -> list[Path]:
    """`count` templates, analysed by one `analyze --run all` over their folder, kept in `cache` for as long as this
    file is unchanged."""
    made_by = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    folder = cache / f"templates-{count}-{made_by}"
    for old in cache.glob("templates-*"):
        if not old.name.endswith(made_by):  # (made by an older version of this file)
            shutil.rmtree(old)
    runs = [make_template(template, folder) for template in templates(count)]
    environment = dict(os.environ, PROBE_DATA_DIR=str(folder))
    subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", "all"], cwd=PROJECT_ROOT, check=True,
                   env=environment, stdout=subprocess.DEVNULL)  # fmt: skip
    return runs


def spread(template_runs: list[Path], count: int, machines: list[str], folder: Path) -> dict[str, Path]:
    """`count` runs copied from the templates in turn, dealt round the machines' data folders under `folder`; each
    machine's data folder."""
    return spread_waves(template_runs, count, machines, folder, count)[0]


def spread_waves(
    template_runs: list[Path], count: int, machines: list[str], folder: Path, wave: int
) -> list[dict[str, Path]]:
    """`count` runs copied from the templates in turn, in waves of `wave` runs (each under `folder`'s wave-N), each
    wave's runs dealt round the machines' data folders; each wave's data folder for each machine. All made at once:
    a copy made later would change the ctime every earlier copy of its template records."""
    shutil.rmtree(folder, ignore_errors=True)
    priced = {run: prices_made_with(run, REPORT) for run in template_runs}  # (read before the links change ctimes)
    waves = [
        {machine: folder / (f"wave-{first // wave + 1}" if wave < count else "") / machine for machine in machines}
        for first in range(0, count, wave)
    ]
    copies = []
    for number in range(count):
        template_run = template_runs[number % len(template_runs)]
        template = templates(len(template_runs))[number % len(template_runs)]
        started = START + datetime.timedelta(seconds=SPREAD_DAYS * 86_400 * number // count)
        label = f"bench-{number:05d}"
        machine = machines[number % len(machines)]
        data = waves[number // wave][machine]
        run = data / template.target / f"{started:%Y%m%d-%H%M%S}-{label}"
        run.mkdir(parents=True)
        # Recorded on its machine by one of USERS people (some of whom record on more than one machine).
        labels = {"machine": machine, "user": f"dev-{number % USERS + 1}"}
        (run / "manifest.json").write_text(json.dumps(manifest(template, label, started, labels)))
        for name in OUTPUTS:
            os.link(template_run / name, run / name)
        copies.append((template_run, run))
    for template_run in template_runs:  # newer than every manifest just written (links share their times)
        for name in REPORT.outputs:
            os.utime(template_run / name)
    # After every link, as a new link changes the file's ctime, which the ledger records.
    for template_run, run in [(run, run) for run in template_runs] + copies:
        known, prices = priced[template_run]
        record_made(run, REPORT, prices if known else None)
    return waves
