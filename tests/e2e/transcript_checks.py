"""What every kept transcript shows: the manifest counts its records, and it holds the typed prompt and the answer."""

import json
from pathlib import Path


def assert_transcript_kept(run: Path, source: str, prompt: str, answer: str) -> list[dict]:
    """transcript.jsonl holds the agent's session file, in order, each line a record of `source`'s: one of them the
    typed `prompt`'s (as masked), and `answer` in one; the manifest's account.transcript counts them. Its lines."""
    lines = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    account = json.loads((run / "manifest.json").read_text())["account"]["transcript"]
    assert account["state"] == "kept" and account["records"] == len(lines) > 2
    assert {line["source"] for line in lines} == {source} and account["file"] == lines[0]["file"]
    numbers = [line["line"] for line in lines if line["file"] == account["file"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    records = [json.dumps(line["record"]) for line in lines]
    assert any(prompt in record for record in records) and any(answer in record for record in records)
    return lines
