"""Imports recordings that nobody here wrote (their licences keep them out of the repository) and checks them, run by
hand: `python bench/realworld_imports.py FOLDER` with FOLDER holding the realworld collection (crush-vcr/,
pydantic-ai-vcr/, claude-tap-lab/).

- crush-vcr/*/*.yaml (go-vcr cassettes): each exchange's usage in turns.jsonl must equal the usage parsed here, on
  its own, from the cassette's raw SSE (the last usage each stream reports), and so must the totals;
- pydantic-ai-vcr/*/*.yaml (VCR.py) and claude-tap-lab/*.json (claude-tap sessions): every exchange must be read by
  an API's reader, not the generic one; what each reader did not recognise is listed.

Each file is imported with `python -m probe.import_capture` into a temporary data folder. Exits 1 if a check fails.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("input", "output", "cache_read", "cache_write")


def imported(source: Path, data: Path) -> tuple[Path, str]:
    """The run folder the import of `source` wrote, and what it printed on stderr."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data), CI="true")
    done = subprocess.run(
        [sys.executable, "-m", "probe.import_capture", str(source)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    runs = [line.removeprefix("run: ") for line in done.stdout.splitlines() if line.startswith("run: ")]
    if done.returncode or not runs:
        raise SystemExit(f"{source}: import failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return Path(runs[0]), done.stderr


def turns(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "turns.jsonl").read_text().splitlines() if line.strip()]


def sse_payloads(text: str) -> list[dict]:
    payloads = []
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                value = json.loads(line[5:].strip())
            except ValueError:
                continue
            payloads.extend(value if isinstance(value, list) else [value])
    return [value for value in payloads if isinstance(value, dict)]


def usage_from_sse(text: str) -> dict:
    """Tokens as the stream itself reports them, in the four sums the reports give (input includes what was read
    from or written to the cache)."""
    found: dict = {}
    for event in sse_payloads(text):
        if event.get("type") == "message_start":  # Anthropic: the start's usage, then message_delta's
            found.update(event["message"].get("usage") or {})
        elif event.get("type") == "message_delta":
            found.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
        elif isinstance(event.get("usage"), dict):  # OpenAI Chat Completions: the last chunk's
            found = {"openai": event["usage"]}
        elif isinstance(event.get("usageMetadata"), dict):  # Gemini: the last chunk's
            found = {"gemini": event["usageMetadata"]}
    if "openai" in found:
        usage = found["openai"]
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        return {"input": usage["prompt_tokens"], "output": usage["completion_tokens"], "cache_read": cached}
    if "gemini" in found:
        usage = found["gemini"]
        output = usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0)
        return {
            "input": usage["promptTokenCount"],
            "output": output,
            "cache_read": usage.get("cachedContentTokenCount", 0),
        }
    read, written = found.get("cache_read_input_tokens") or 0, found.get("cache_creation_input_tokens") or 0
    return {
        "input": found["input_tokens"] + read + written,
        "output": found["output_tokens"],
        "cache_read": read,
        "cache_write": written,
    }


def check_tokens(source: Path, data: Path) -> bool:
    run, _ = imported(source, data)
    with source.open("rb") as file:
        cassette = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    expected = [usage_from_sse(item["response"]["body"]) for item in cassette["interactions"]]
    got = [turn.get("usage") or {} for turn in turns(run)]
    ok = len(expected) == len(got)
    totals_expected, totals_got = Counter(), Counter()
    for number, (want, have) in enumerate(zip(expected, got, strict=False), 1):
        for field, value in want.items():
            totals_expected[field] += value
            totals_got[field] += have.get(field) or 0
            if (have.get(field) or 0) != value:
                ok = False
                print(f"  exchange {number}: {field} {have.get(field)} imported, {value} in the SSE")
    shown = ", ".join(
        f"{field} {totals_got[field]:,}/{totals_expected[field]:,}" for field in FIELDS if field in totals_expected
    )
    print(f"{'ok ' if ok else 'BAD'} {source.parent.name}/{source.name}: {len(got)} exchanges; imported/SSE {shown}")
    return ok


def check_readers(source: Path, data: Path) -> bool:
    run, stderr = imported(source, data)
    manifest = json.loads((run / "manifest.json").read_text())["imported"]
    read = turns(run)
    apis = Counter(f"{turn['kind']} {turn['api']}" for turn in read)
    generic = [f"#{turn['number']} {turn['method']} {turn['path']}" for turn in read if turn["api"] == "generic"]
    unrecognised = Counter(name for turn in read for name in turn.get("unrecognised") or [])
    ok = not generic and manifest["skipped"] == 0 and manifest["entries"] == len(read)
    print(
        f"{'ok ' if ok else 'BAD'} {source.parent.name}/{source.name} ({manifest['format']}): "
        f"{manifest['entries']} exchanges, {manifest['skipped']} skipped; {dict(apis)}"
    )
    if generic:
        print(f"  read by the generic reader: {', '.join(generic)}")
    if unrecognised:
        print(f"  not recognised by the reader: {dict(unrecognised)}")
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    if warnings:
        print(f"  {len(warnings)} warnings, the first: {warnings[0][:160]}")
    return ok


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(__doc__)
        return 2
    folder = Path(argv[0])
    results = []
    with tempfile.TemporaryDirectory() as data:
        for source in sorted(folder.glob("crush-vcr/*/*.yaml")):
            results.append(check_tokens(source, Path(data)))
        for source in sorted(folder.glob("pydantic-ai-vcr/*/*.yaml")) + sorted(folder.glob("claude-tap-lab/*.json")):
            results.append(check_readers(source, Path(data)))
    print(f"{results.count(True)} of {len(results)} files pass")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
