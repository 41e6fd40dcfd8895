"""Hostile shapes against their memory targets: peak RSS of `analyze --run … --force` and of `diff`, each a fresh
process, and the size of report.html.

- items: two requests of 100,000 tiny input items each, in each API's shape (Responses items as messages with
  content parts, about 18 MB; Chat Completions messages; Anthropic messages with content blocks; Gemini contents
  with parts): analyze within 8 x the capture + 300 MB;
- events: one exchange whose answer streams 1,000,000 tiny deltas (one line of about 143 MB): analyze, and diff
  against the bundled HTTP sample, each within 3 x the line + 300 MB;
- agents: 20,000 one-exchange agents, each request naming its own: analyze within 8 x the capture + 300 MB, and
  report.html at most 25 MB.

--quick makes each shape a tenth of that size (the targets scale with it, the fixed 300 MB does not).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import orjson
from generate_capture import EVENTS_PER_ANSWER, agent_exchange, http_entry, many_events_exchange, sse
from machine import describe_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / "bench" / ".cache" / "hostile"  # generated run folders, git-ignored
SAMPLE = PROJECT_ROOT / "data/codex/20261125-123532-sample-http"
MB = 1024 * 1024
PAGE_LIMIT = 25_000_000

HOSTS = {
    "responses": "https://api.openai.com/v1/responses",
    "chat": "https://api.openai.com/v1/chat/completions",
    "anthropic": "https://api.anthropic.com/v1/messages",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
}


def items_request(api: str, number: int, items: int) -> dict:
    """A request of `items` tiny input items in the API's shape, and a short answer with usage."""
    tiny = [f"tiny {number} {index}" for index in range(items)]
    if api == "responses":
        body = {
            "model": "gpt-5-codex",
            "stream": True,
            "input": [
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]} for text in tiny
            ],
        }
        answer = sse(
            [
                {
                    "type": "response.completed",
                    "response": {
                        "id": f"resp_{number}",
                        "status": "completed",
                        "usage": {"input_tokens": 2 * items, "output_tokens": 1, "total_tokens": 2 * items + 1},
                    },
                }
            ]
        )
    elif api == "chat":
        body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": text} for text in tiny]}
        answer = (
            'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"},'
            f'"finish_reason":"stop"}}],"usage":{{"prompt_tokens":{2 * items},"completion_tokens":1}}}}\n\n'
            "data: [DONE]\n\n"
        )
    elif api == "anthropic":
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "stream": True,
            "messages": [
                {"role": ("user", "assistant")[index % 2], "content": [{"type": "text", "text": text}]}
                for index, text in enumerate(tiny)
            ],
        }
        answer = sse(
            [
                {
                    "type": "message_start",
                    "message": {
                        "id": f"msg_{number}",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-5",
                        "content": [],
                        "usage": {"input_tokens": 2 * items, "output_tokens": 1},
                    },
                },
                {"type": "message_stop"},
            ]
        )
    else:
        body = {"contents": [{"role": "user", "parts": [{"text": text}]} for text in tiny]}
        answer = (
            'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],'
            f'"usageMetadata":{{"promptTokenCount":{2 * items},"candidatesTokenCount":1}}}}\n\n'
        )
    return http_entry(number, body, [], answer, HOSTS[api])  # fmt: skip


def written(run: Path, shape: str, scale: int) -> Path:
    """A run folder holding the shape's capture as its traffic.jsonl, written once (kept in the cache after) by a
    process of its own: a child's peak RSS counts its parent's at the time it started, and the capture is built in
    memory."""
    if not (run / "traffic.jsonl").exists():
        subprocess.run([sys.executable, __file__, "--write", shape, str(run), "--scale", str(scale)], check=True)
    return run


def write(shape: str, run: Path, scale: int) -> None:
    """The capture of `shape` (`items-<api>`, `events` or `agents`), a `scale`th of its size, into the run folder."""
    if shape.startswith("items-"):
        entries = (items_request(shape.removeprefix("items-"), number, 100_000 // scale) for number in (1, 2))
    elif shape == "events":
        entries = iter([many_events_exchange(1, EVENTS_PER_ANSWER // scale)])
    else:
        entries = (agent_exchange(number) for number in range(1, 20_001 // scale))
    run.mkdir(parents=True, exist_ok=True)
    with (run / "traffic.jsonl").open("wb") as out:
        for entry in entries:
            out.write(orjson.dumps(entry) + b"\n")


def peak_rss(argv: list[str]) -> float:
    """Peak RSS, in MB, of a child process (stdout and stderr dropped); it must succeed."""
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{argv[2:4]} failed with status {status}")
    return usage.ru_maxrss / 1024


def row(shape: str, command: str, run: Path, factor: int, peak: float, page: bool) -> None:
    traffic = run / "traffic.jsonl"
    size = traffic.stat().st_size / MB
    with traffic.open("rb") as lines:
        longest = max(len(line) for line in lines) / MB
    target = factor * (size if factor == 8 else longest) + 300
    viewer = (run / "report.html").stat().st_size / 1e6 if page else None
    shown = f"{viewer:>8.1f}" if viewer is not None else f"{'':>8}"
    within = peak <= target and (viewer is None or viewer * 1e6 <= PAGE_LIMIT)
    print(f"{shape:>18} {command:>8} {size:>9.1f} {longest:>8.1f} {peak:>8.0f} {target:>8.0f} {shown} "
          f"{'yes' if within else 'NO':>7}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="each shape a tenth of its size")
    parser.add_argument("--shapes", default="items,events,agents", help="comma-separated: items, events, agents")
    parser.add_argument("--runs", type=int, default=1, help="(one run: a peak is measured, not a time)")
    parser.add_argument("--write", nargs=2, metavar=("SHAPE", "RUN"), help=argparse.SUPPRESS)  # (a child's job)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write(args.write[0], Path(args.write[1]), args.scale)
        return
    scale = 10 if args.quick else 1
    print(describe_machine())
    print("peak RSS (MB) of each command, a fresh process, against its target; report.html (MB) against 25 MB")
    print(f"{'shape':>18} {'command':>8} {'capture':>9} {'line':>8} {'peak':>8} {'target':>8} {'html MB':>8} "
          f"{'within':>7}")  # fmt: skip
    analyze = [sys.executable, "-m", "probe.analysis.analyze", "--force", "--run"]
    folder = CACHE / ("quick" if args.quick else "full")
    shapes = args.shapes.split(",")
    if "items" in shapes:
        for api in HOSTS:
            run = written(folder / f"items-{api}", f"items-{api}", scale)
            row(f"items {api}", "analyze", run, 8, peak_rss([*analyze, str(run)]), True)
    if "events" in shapes:
        run = written(folder / "events", "events", scale)
        row("events", "analyze", run, 3, peak_rss([*analyze, str(run)]), True)
        diff = [sys.executable, "-m", "probe.write.diff", "--run", str(run), "--run", str(SAMPLE)]
        row("events", "diff", run, 3, peak_rss([*diff, "--output", str(run / "diff.md")]), False)
    if "agents" in shapes:
        run = written(folder / "agents", "agents", scale)
        row("agents", "analyze", run, 8, peak_rss([*analyze, str(run)]), True)


if __name__ == "__main__":
    main()
