"""The credential detector beside the masker it replaced, in one run: the same bodies masked by this checkout's
probe.redact and by that of an older revision (default 8016d33, the last before the maintained rule set, the
free-text rules and the streamed pieces), each in its own process. Per case: milliseconds (median of the runs),
and how many of the credential corpus's secrets (tests/secret_corpus.py) each leaves readable.
Nothing here passes or fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BEFORE = "8016d33"


def cases(megabytes: int) -> dict[str, tuple[bytes, str]]:
    """The bodies: agents' real requests (from the bundled samples), an answer streamed as SSE, and the corpus."""
    sys.path.insert(0, str(PROJECT_ROOT / "tests"))
    from secret_corpus import CORPUS

    bodies = {}
    for target, sample in (("codex", "*-sample-http"), ("claude-code", "*-sample-mock")):
        capture = next((PROJECT_ROOT / "data" / target).glob(f"{sample}/traffic.jsonl"))
        for line in capture.read_text().splitlines():
            body = json.loads(line)["request"].get("body")
            if isinstance(body, dict) and (body.get("input") or body.get("messages")):
                data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
                bodies[f"{target} request, {len(data) / 1e3:.0f} KB"] = (data, "application/json")
                break
    event = (
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_0a1b2c",'
        '"delta":"def hello():\\n    return \\"Hello, world!\\"  # tokens, keys"}\n\n'
    )
    stream = (event * (megabytes * 1_000_000 // len(event))).encode()
    bodies[f"SSE answer, {len(stream) / 1e6:.0f} MB"] = (stream, "text/event-stream")
    corpus = json.dumps({"input": "\n\n".join(text for _, text, _ in CORPUS)}).encode()
    bodies[f"credential corpus as JSON, {len(CORPUS)} secrets"] = (corpus, "application/json")
    return bodies


def measure(runs: int, megabytes: int) -> dict:
    """In the child: the masker of the probe package first on sys.path, timed on every case."""
    from probe.redact.masking import mask_body

    sys.path.insert(0, str(PROJECT_ROOT / "tests"))
    from secret_corpus import SECRETS

    figures = {}
    for name, (data, content_type) in cases(megabytes).items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            masked = mask_body(data, content_type)
            times.append(time.perf_counter() - started)
        readable = sum(1 for secret in SECRETS if secret.encode() in masked.data)
        figures[name] = {"ms": statistics.median(times) * 1000, "readable": readable}
    return figures


def run_child(root: Path, runs: int, megabytes: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", "--runs", str(runs), "--megabytes", str(megabytes)],
        env=dict(os.environ, PYTHONPATH=str(root)),
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def older_checkout(revision: str, into: Path) -> Path:
    """The older revision's probe package, unpacked from git (no work tree of it is touched)."""
    archive = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "archive", revision, "probe"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=20, help="size of the streamed answer")
    parser.add_argument("--before", default=BEFORE, help="the revision whose masker is compared with")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.runs, args.megabytes)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        before = run_child(older_checkout(args.before, Path(scratch)), args.runs, args.megabytes)
        now = run_child(PROJECT_ROOT, args.runs, args.megabytes)
    print(describe_machine())
    print(f"masking, the masker of {args.before} beside this checkout's, median of {args.runs} runs")
    print(f"{'case':<42} {'before ms':>10} {'now ms':>9} {'ratio':>6} {'readable before':>16} {'now':>4}")
    for name, old in before.items():
        new = now[name]
        print(
            f"{name:<42} {old['ms']:>10.1f} {new['ms']:>9.1f} {new['ms'] / old['ms']:>6.2f} "
            f"{old['readable']:>16} {new['readable']:>4}"
        )


if __name__ == "__main__":
    main()
