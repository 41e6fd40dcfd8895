"""A prototype of one run's analysis split across processes, measured against the analysis in one process: worker
processes read, parse, thin and mask the exchanges of ranges of lines (blocks of the capture), and the main process
takes them in order and does the rest as `analyze` does (turns, the agent tree, every output).

The masked exchanges go back pickled, one pickle a block: a re-sent history's items, shared across the requests of a
block by the masking (probe.read.history_masks), are written once. The outputs of both are compared (all four, the
generated-at stamp aside), and for each the wall time, the main process's CPU time (the ordered reduce: on an idle
machine with a core for each process, the wall time cannot be less) and the workers' CPU time are reported, medians
of interleaved runs, with peak RSS. Nothing of this is the project's: it only tells whether the split pays.

    PYTHONPATH=$WT:$WT/bench python bench/analyzer_split.py --capture bench/.cache/growing-311MB.jsonl --runs 3
"""

import argparse
import multiprocessing
import os
import pickle
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def lines_of(path: str, start: int, end: int):
    """The lines that start in [start, end) of the file (the first one's start is the block before's)."""
    with open(path, "rb") as capture:
        capture.seek(start)
        if start:
            capture.readline()
        while capture.tell() < end:
            raw = capture.readline()
            if not raw:
                break
            yield raw


def block(path: str, start: int, end: int) -> bytes:
    """One block's exchanges, read, thinned and masked as RunReading.read does, pickled with its count of lines."""
    from probe.read.history_masks import HistoryMasks
    from probe.read.masked import masked_exchange
    from probe.read.thinning import thin_exchange
    from probe.read.traffic import exchange_of_line

    histories, exchanges, warnings, lines = HistoryMasks(), [], [], 0
    for lines, raw in enumerate(lines_of(path, start, end), 1):
        exchange = exchange_of_line(raw, lines, len(raw), lines, warnings, Path(path).parent)
        if exchange is not None:
            thin_exchange(exchange)
            exchanges.append(masked_exchange(exchange, frozenset(), histories))
    return pickle.dumps((lines, exchanges), protocol=pickle.HIGHEST_PROTOCOL)


def worker(spans: list, pipe) -> None:
    for span in spans:
        pipe.send_bytes(block(*span))  # blocks while the main process is a block behind: memory stays bounded
    pipe.close()


def split_exchanges(traffic: Path, warnings: list, progress=None, seen=None, vet=None):
    """The exchanges as probe.read.traffic.iter_exchanges gives them, read by WORKERS processes, block by block,
    round robin, each read straight from its worker's pipe (no thread in the main process: a result thread waits
    for the interpreter lock the reduce holds)."""
    size, block_size, count = traffic.stat().st_size, int(os.environ["SPLIT_BLOCK"]), int(os.environ["SPLIT_WORKERS"])
    spans = [(str(traffic), start, min(start + block_size, size)) for start in range(0, size, block_size)]
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for index in range(count):
        here, there = context.Pipe(duplex=False)
        process = context.Process(target=worker, args=(spans[index::count], there), daemon=True)
        process.start()
        there.close()
        pipes.append(here)
        processes.append(process)
    number = lines = 0
    for index in range(len(spans)):
        block_lines, exchanges = pickle.loads(pipes[index % count].recv_bytes())
        exchanges.reverse()
        while exchanges:
            exchange = exchanges.pop()
            number += 1
            exchange.number, exchange.line = number, exchange.line + lines
            yield exchange
            del exchange
        lines += block_lines
    for process in processes:
        process.join()


CHILD = """
import os, resource, sys, time
sys.path.insert(0, {bench!r})
if os.environ.get("SPLIT_WORKERS"):
    import analyzer_split
    import probe.analysis.report as report
    report.iter_exchanges = analyzer_split.split_exchanges
    report.masked_exchange = lambda exchange, *rest: exchange  # masked in the workers
from probe.analysis.analyze import main
sys.argv = ["analyze", "--input", sys.argv[1], "--output", sys.argv[2], "--target", sys.argv[3]]
started = time.perf_counter()
try:
    main()
except SystemExit:
    pass
wall = time.perf_counter() - started
me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime, me.ru_maxrss / 1024,
      children.ru_maxrss / 1024, file=sys.stderr)
"""


def analysed(capture: Path, out: Path, target: str, workers: int, block_mb: int) -> list[float]:
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SPLIT_WORKERS=str(workers) if workers else "", SPLIT_BLOCK=str(block_mb << 20))
    code = CHILD.format(bench=str(PROJECT_ROOT / "bench"))
    argv = [sys.executable, "-c", code, str(capture), str(out / "report.md"), target]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return [float(word) for word in done.stderr.strip().splitlines()[-1].split()]


def same_outputs(one: Path, other: Path) -> bool:
    from probe.write.unchanged import same_page, same_report

    return (
        same_report(one / "report.md", other / "report.md")
        and same_page(one / "report.html", other / "report.html")
        and all((one / name).read_bytes() == (other / name).read_bytes() for name in ("turns.jsonl", "insight.jsonl"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path, required=True)
    parser.add_argument("--target", default="claude-code")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--block-mb", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/analyzer-split"))
    args = parser.parse_args()
    figures: dict[str, list[list[float]]] = {"one process": [], f"{args.workers} workers": []}
    for _ in range(args.runs):  # interleaved: the machine's load falls on both alike
        for name, workers in (("one process", 0), (f"{args.workers} workers", args.workers)):
            figures[name].append(analysed(args.capture, args.out / str(workers), args.target, workers, args.block_mb))
    print(f"{args.capture.name}, {args.runs} runs each, medians (peak RSS: the largest)")
    for name, runs in figures.items():
        wall, main_cpu, workers_cpu = (statistics.median(run[at] for run in runs) for at in range(3))
        rss, workers_rss = (max(run[at] for run in runs) for at in (3, 4))
        print(f"  {name:12} wall {wall:6.1f} s  main CPU {main_cpu:6.1f} s  workers CPU {workers_cpu:5.1f} s  "
              f"peak RSS {rss:4.0f} MB (a worker {workers_rss:3.0f} MB)")  # fmt: skip
    print(f"  outputs the same: {same_outputs(args.out / '0', args.out / str(args.workers))}")


if __name__ == "__main__":
    main()
