"""Runs shaped as a fork would leave them, made from the bundled samples: a copy of a sample as the origin, and a
second run that sends the same first requests and then others (another model), its manifest naming its origin and
its verify check as the shared decisions of issue 57 say."""

import json
import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "data"
[CLAUDE] = (SAMPLES / "claude-code").glob("*-sample-mock")
[CODEX_WEBSOCKET] = (SAMPLES / "codex").glob("*-sample-websocket")
[CODEX_169] = (SAMPLES / "codex").glob("*-sample-v0.169.0")
[CODEX_166] = (SAMPLES / "codex").glob("*-sample-v0.166.0")
CHEAPER = "claude-haiku-5-5"  # priced in probe/analyse/mock_prices.yaml, as the sample's claude-opus-5-5 is


def copied(sample: Path, data: Path, target: str, name: str) -> Path:
    """The sample's capture and manifest in a run folder of the data folder: its reports are made afresh."""
    run = data / target / name
    run.mkdir(parents=True)
    for file in ("traffic.jsonl", "manifest.json"):
        shutil.copy(sample / file, run / file)
    return run


def origin_block(origin: Path, at: int, kind: str = "fork", **more) -> dict:
    return {"run": f"{origin.parent.name}/{origin.name}", "path": str(origin.resolve()), "kind": kind, "at": at, **more}


def with_manifest(run: Path, **fields) -> Path:
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(manifest | fields))
    return run


def fork_with_model(origin: Path, data: Path, name: str, at: int, model: str, **fields) -> Path:
    """A copy of `origin` whose requests after the `at`-th ask for `model` (and whose answers name it), its manifest
    naming `origin` as a fork's does."""
    run = copied(origin, data, origin.parent.name, name)
    lines = []
    for number, line in enumerate((run / "traffic.jsonl").read_text().splitlines(), start=1):
        record = json.loads(line)
        if number > at:
            record["request"]["body"]["model"] = model
            answer = record["response"]["body"]
            for old in ("claude-opus-5-5",):
                answer = answer.replace(f'"model": "{old}"', f'"model": "{model}"')
            record["response"]["body"] = answer
        lines.append(json.dumps(record))
    (run / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    checked = {"verify": fields.pop("verify")} if "verify" in fields else {}  # (a fork keeps it in its origin)
    return with_manifest(run, origin=origin_block(origin, at, model=model) | checked, **fields)
