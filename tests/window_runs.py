"""Two Claude Code runs made here with known context windows and cache lifetimes, for the outputs that carry them
(turns.jsonl, SQL, OTLP, the diff): a main agent on a 200,000-token model and a sub-agent on a 100,000-token one,
priced by a price file of their own. In B the main agent's last turn comes six minutes after its first and reads
nothing from the cache, and the sub-agent's input passes its model's window."""

import json
from pathlib import Path

from conftest import captured_exchange

PRICES = """use_database: false
models:
  house-model-1: {input: 2, output: 10, cache_read: 0.2, cache_write: 2.5, context_window: 200000}
  house-small-1: {input: 1, output: 5, cache_read: 0.1, cache_write: 1.25, context_window: 100000}
"""
PRICES_FILE = "window-prices.yaml"
SUB_AGENT = "a1c0ffee"
# (agent, start, tokens read from the cache, tokens written to it): each turn's input is 10 more than both.
TURNS = {
    "A": [("main", 1000.0, 0, 49_990), (SUB_AGENT, 1010.0, 0, 9_990), ("main", 1020.0, 49_990, 32_000)],
    "B": [("main", 1000.0, 0, 49_990), (SUB_AGENT, 1010.0, 0, 119_990), ("main", 1361.0, 0, 125_990)],
}
MODELS = {"main": "house-model-1", SUB_AGENT: "house-small-1"}


def price_file(folder: Path) -> Path:
    path = folder / PRICES_FILE
    path.write_text(PRICES)
    return path


def window_run(data_dir: Path, side: str) -> Path:
    """Run A's or B's folder under `data_dir` (claude-code/<timestamp>-window-<side>), not yet analysed."""
    run = data_dir / "claude-code" / f"20261127-00000{'AB'.index(side)}-window-{side.lower()}"
    run.mkdir(parents=True)
    histories: dict[str, list] = {}
    lines = []
    for number, (agent, start, read, write) in enumerate(TURNS[side], start=1):
        history = histories.setdefault(agent, [])
        history.append({"role": "user", "content": [{"type": "text", "text": f"Step {number}."}]})
        body = {"model": MODELS[agent], "max_tokens": 1024, "system": [{"type": "text", "text": "You are an agent."}],
                "messages": list(history)}  # fmt: skip
        usage = {"input_tokens": 10, "cache_read_input_tokens": read, "cache_creation_input_tokens": write,
                 "output_tokens": 5}  # fmt: skip
        answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": MODELS[agent],
                  "content": [{"type": "text", "text": f"Done {number}."}], "stop_reason": "end_turn",
                  "usage": usage}  # fmt: skip
        headers = [("content-type", "application/json")]
        if agent != "main":
            headers.append(("x-claude-code-agent-id", agent))
        lines.append(captured_exchange(
            "/v1/messages", body, answer, host="https://api.anthropic.com", request_headers=headers,
            response_headers=(("content-type", "application/json"),),
            timing={"start": start, "first_byte": start + 0.5, "end": start + 1.0}, id=f"f{number}",
        ))  # fmt: skip
        history.append({"role": "assistant", "content": [{"type": "text", "text": f"Done {number}."}]})
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    manifest = {"schema": 1, "target": "claude-code", "status": "complete", "agent": {"version": "2.1.0"},
                "started_at": "2026-11-27T00:00:00+0000"}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def records_of(run: Path, kind: str) -> list[dict]:
    """The run's insight records of one kind."""
    lines = (run / "insight.jsonl").read_text().splitlines()
    return [record for record in map(json.loads, lines) if record["record"] == kind]
