"""SQL's peak memory over hostile shapes: one request of thousands of tools, of thousands of input items, of
thousands of instruction blocks, and a hand-made turns.jsonl whose lines name a table of tools over and over.

Each shape is written as a run folder beside one bundled sample and analysed once (untimed); then `python -m
probe.analysis.sql` runs a query over the turns view in a process of its own, whose peak RSS (and time, noisy on a
shared machine) is reported with the sizes of the capture and of its turns.jsonl. Memory should follow the data with
a small factor: the views unnest each turns.jsonl table once and join values by number.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache" / "sql-memory"  # git-ignored
SAMPLE = PROJECT_ROOT / "data" / "codex" / "20261125-123532-sample-http"
QUERY = "SELECT count(*), sum(tools), sum(instructions_chars), sum(tool_calls) FROM turns"
MB = 1_000_000


def request(tools: int = 0, items: int = 1, blocks: int = 0) -> dict:
    """One Responses API exchange carrying these many tools, input items and instruction blocks."""
    developer = [
        {"role": "developer", "content": [{"type": "input_text", "text": f"block {n}"}]} for n in range(blocks)
    ]
    body = {
        "model": "gpt-5",
        "stream": True,
        "tools": [{"type": "function", "name": f"tool_{n}", "description": f"tool {n}", "parameters": {}}
                  for n in range(tools)],
        "input": developer + [{"role": "user", "content": f"item {n}"} for n in range(items)],
    }  # fmt: skip
    done = {"type": "response.completed", "response": {"id": "r", "output": [], "usage": {"input_tokens": 1}}}
    return {"schema": 1, "kind": "http", "id": "f1", "proxy": "model", "complete": True, "error": None,
            "timing": {"start": 1000.0, "first_byte": 1000.005, "end": 1000.25},
            "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "path": "/v1/responses",
                        "headers": [["content-type", "application/json"]], "body": body, "body_format": "json"},
            "response": {"status": 200, "headers": [["content-type", "text/event-stream"]], "body_format": "text",
                         "body": f"event: response.completed\ndata: {json.dumps(done)}\n\n"}}  # fmt: skip


def named_over_and_over(run: Path, tools: int) -> None:
    """A hand-made turns.jsonl: `tools` tools on its first line, then a line naming the first 1, 2, … of them."""
    values = [{"name": f"t{n}", "type": "function", "hash": f"{n:016x}"} for n in range(tools)]
    with (run / "turns.jsonl").open("w") as file:
        for number in range(1, tools + 1):
            line = {"schema": 2, "number": number, "tools": [[0, number]]}
            line |= {"new": {"from": 0, "values": values}} if number == 1 else {}
            file.write(json.dumps(line) + "\n")


def data_folder(shape: str, count: int) -> Path:
    """A data folder holding the bundled HTTP sample and one run of the shape, analysed."""
    folder = CACHE / f"{shape}-{count}"
    run = folder / "codex" / "20260101-000000-hostile"
    if not (run / "turns.jsonl").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(SAMPLE, folder / "codex" / SAMPLE.name)
        run.mkdir(parents=True)
        (run / "manifest.json").write_text(json.dumps({"schema": 1, "target": "codex", "status": "complete"}))
        if shape == "named":
            named_over_and_over(run, count)
        else:
            options = {"tools": {"tools": count}, "items": {"items": count}, "blocks": {"blocks": count}}[shape]
            (run / "traffic.jsonl").write_text(json.dumps(request(**options)) + "\n")
    # Brought up to date here (the code may have changed since), so that the command measured only reads. (The
    # hand-made run has no capture to analyse: that one fails, and its turns.jsonl stays.)
    environment = os.environ | {"PROBE_DATA_DIR": str(folder)}
    subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", "all"], cwd=PROJECT_ROOT, env=environment,
                   check=shape != "named", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return folder


def peak(folder: Path) -> tuple[int, float, str]:
    """The SQL command's peak RSS in bytes, its seconds, and the warnings it printed."""
    environment = os.environ | {"PROBE_DATA_DIR": str(folder)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "probe.analysis.sql", QUERY, "--format", "csv"],
                                   cwd=PROJECT_ROOT, env=environment, stdout=out, stderr=err)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)  # the rusage of this child alone
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        err.seek(0)
        warnings = err.read().decode()
    if process.returncode:
        raise SystemExit(f"{folder}: {warnings}")
    return usage.ru_maxrss * 1024, seconds, warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tools", default="1000,8000,50000,200000", help="tools per request, separated by commas")
    parser.add_argument("--items", default="10000,100000", help="input items per request")
    parser.add_argument("--blocks", default="10000,100000", help="instruction blocks per request")
    parser.add_argument("--named", default="8000", help="tools a hand-made turns.jsonl names over and over")
    parser.add_argument("--runs", type=int, default=1, help="ignored: each figure is one run")
    args = parser.parse_args()
    print(describe_machine())
    print(f"{'shape':>7} {'count':>8} {'capture MB':>10} {'turns MB':>9} {'peak MB':>8} {'s':>6}  warnings")
    for shape in ("tools", "items", "blocks", "named"):
        for count in (int(text) for text in getattr(args, shape).split(",") if text):
            folder = data_folder(shape, count)
            run = folder / "codex" / "20260101-000000-hostile"
            capture = (run / "traffic.jsonl").stat().st_size / MB if (run / "traffic.jsonl").is_file() else 0
            turns = (run / "turns.jsonl").stat().st_size / MB
            rss, seconds, warnings = peak(folder)
            notes = " | ".join(line for line in warnings.splitlines() if "skipped" in line)
            print(f"{shape:>7} {count:>8,} {capture:>10.1f} {turns:>9.1f} {rss / MB:>8.0f} {seconds:>6.1f}  {notes}")


if __name__ == "__main__":
    main()
