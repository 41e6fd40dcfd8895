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


def messages_entry(template: Template, turn: int, history: list[dict]) -> dict:
    tools = [{"name": name, "description": f"The {name} tool.", "input_schema": {"type": "object"}}
             for name in tool_names(template)]  # fmt: skip
    body = {"model": template.model, "max_tokens": 32000, "stream": True, "tools": tools,
            "system": [{"type": "text", "text": instructions(template, turn)}], "messages": list(history)}  # fmt: skip
    fresh, read, write = usage(template, turn)
    events = [
        {"type": "message_start", "message": {"id": f"msg_{template.index}_{turn}", "type": "message",
         "role": "assistant", "model": template.model, "content": [], "stop_reason": None,
         "usage": {"input_tokens": fresh, "cache_read_input_tokens": read, "cache_creation_input_tokens": write,
                   "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"Step {turn} done."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 200 + turn}},
        {"type": "message_stop"},
    ]  # fmt: skip
    history.append({"role": "assistant", "content": [{"type": "text", "text": f"Step {turn} done."}]})
    return http_entry(turn + 1, body, events, None, "https://api.anthropic.com/v1/messages")


def responses_entry(template: Template, turn: int, history: list[dict]) -> dict:
    tools = [{"type": "function", "name": name, "description": f"The {name} tool.", "parameters": {"type": "object"}}
             for name in tool_names(template)]  # fmt: skip
    body = {"model": template.model, "stream": True, "instructions": instructions(template, turn), "tools": tools,
            "input": list(history)}  # fmt: skip
    fresh, read, write = usage(template, turn)
    item = {"id": f"msg_{template.index}_{turn}", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": f"Step {turn} done.", "annotations": []}]}  # fmt: skip
    tokens = {"input_tokens": fresh + read + write, "input_tokens_details": {"cached_tokens": read},
              "output_tokens": 200 + turn, "total_tokens": fresh + read + write + 200 + turn}  # fmt: skip
    response = {"id": f"resp_{template.index}_{turn}", "status": "completed", "model": template.model}
    events = [
        {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": {**response, "output": [item], "usage": tokens}},
    ]
    history.append({"type": "message", "role": "assistant", "content": [{"type": "output_text",
                                                                         "text": f"Step {turn} done."}]})  # fmt: skip
    return http_entry(turn + 1, body, events, None, "https://api.openai.com/v1/responses")


def gemini_entry(template: Template, turn: int, history: list[dict]) -> dict:
    tools = [{"functionDeclarations": [{"name": name, "description": f"The {name} tool."}
                                       for name in tool_names(template)]}]  # fmt: skip
    body = {"contents": list(history), "tools": tools,
            "systemInstruction": {"role": "user", "parts": [{"text": instructions(template, turn)}]}}  # fmt: skip
    fresh, read, write = usage(template, turn)
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": f"Step {turn} done."}]},
                             "finishReason": "STOP", "index": 0}],
             "modelVersion": template.model, "responseId": f"resp_{template.index}_{turn}",
             "usageMetadata": {"promptTokenCount": fresh + read + write, "cachedContentTokenCount": read,
                               "candidatesTokenCount": 200 + turn,
                               "totalTokenCount": fresh + read + write + 200 + turn}}  # fmt: skip
    text = "".join(f"data: {json.dumps(event)}\n\n" for event in [chunk])
    history.append({"role": "model", "parts": [{"text": f"Step {turn} done."}]})
    url = f"https://generativelanguage.googleapis.com/v1beta/models/{template.model}:streamGenerateContent?alt=sse"
    return http_entry(turn + 1, body, [], text, url)


def user_turn(target: str, turn: int) -> dict:
    text = f"Turn {turn}: please go on with the next step of the change."
    if target == "claude-code":
        return {"role": "user", "content": [{"type": "text", "text": text}]}
    if target == "codex":
        return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"role": "user", "parts": [{"text": text}]}


# The other hosts each agent talks to (through the forward proxy): one of them every SIDE_EVERY turns.
SIDE_HOSTS = {
    "claude-code": ["https://statsig.anthropic.com/v1/rgstr", "https://api.anthropic.com/api/eval/sdk-flags",
                    "https://o1158394.ingest.sentry.io/api/1/envelope/"],
    "codex": ["https://chatgpt.com/backend-api/codex/analytics-events", "https://chatgpt.com/backend-api/plugins"],
    "gemini": ["https://play.googleapis.com/log", "https://oauth2.googleapis.com/tokeninfo"],
}  # fmt: skip
SIDE_EVERY = 10


def side_entry(template: Template, turn: int) -> dict:
    urls = SIDE_HOSTS[template.target]
    url = urls[(turn // SIDE_EVERY) % len(urls)]
    entry = http_entry(10_000 + turn, {"events": [{"name": "tick", "turn": turn}]}, [], "{}", url)
    entry["proxy"] = "forward"
    entry["response"]["headers"] = [["content-type", "application/json"]]
    return entry


ENTRIES = {"claude-code": messages_entry, "codex": responses_entry, "gemini": gemini_entry}


def manifest(template: Template, label: str, started: datetime.datetime) -> dict:
    ended = started + datetime.timedelta(seconds=30 * template.turns)
    stamp = "%Y-%m-%dT%H:%M:%S+0000"
    return {"schema": 1, "target": template.target, "label": label, "prompt": "go on with the change",
            "keep_secrets": False, "agent": {"version": template.version}, "agent_exit_code": 0,
            "started_at": started.strftime(stamp), "ended_at": ended.strftime(stamp), "status": "complete"}  # fmt: skip


def make_template(template: Template, folder: Path) -> Path:
    """The template's run folder, its capture written and analysed (kept from an earlier bench if there)."""
    run = folder / template.target / template.name
    if (run / "report.md").is_file():
        return run
    run.mkdir(parents=True, exist_ok=True)
    history: list[dict] = []
    with (run / "traffic.jsonl").open("w") as out:
        for turn in range(template.turns):
            history.append(user_turn(template.target, turn))
            entry = ENTRIES[template.target](template, turn, history)
            lines = [entry, side_entry(template, turn)] if turn % SIDE_EVERY == 0 else [entry]
            for line in lines:
                line["timing"] = {key: value + 30 * turn for key, value in line["timing"].items()}
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
    (run / "manifest.json").write_text(json.dumps(manifest(template, "template", START)))
    return run


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
    shutil.rmtree(folder, ignore_errors=True)
    priced = {run: prices_made_with(run, REPORT) for run in template_runs}  # (read before the links change ctimes)
    data = {machine: folder / machine for machine in machines}
    copies = []
    for number in range(count):
        template_run = template_runs[number % len(template_runs)]
        template = templates(len(template_runs))[number % len(template_runs)]
        started = START + datetime.timedelta(seconds=SPREAD_DAYS * 86_400 * number // count)
        label = f"bench-{number:05d}"
        run = data[machines[number % len(machines)]] / template.target / f"{started:%Y%m%d-%H%M%S}-{label}"
        run.mkdir(parents=True)
        (run / "manifest.json").write_text(json.dumps(manifest(template, label, started)))
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
    return data
