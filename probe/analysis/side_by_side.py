"""Runs one step over many items in a few worker processes, one item at a time each, and hands back the results in
the items' order: `analyze --run all --jobs N` (a run's analysis depends on nothing but its own folder).

Workers are started by the 'forkserver' method where there is one (Linux), else 'spawn': never by a plain fork of
a parent that may run threads. The forkserver imports the step's module once, and every worker is forked from it
ready to work. A worker that dies (a crash, a kill) costs only the item it held: its result is an `Ended` saying
how it ended, and a new worker takes the items left. Ctrl-C stops every worker and is raised in the caller.
"""

import io
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

STOPPING = 5.0  # seconds a worker is given to stop after Ctrl-C before it is killed


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may run on (its affinity, not the machine's count)."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13 and later
    if counted is not None:
        return counted() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # (macOS, Windows)
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Ended:
    """What an item gets whose worker died before it answered."""

    why: str


def side_by_side(
    step: Callable[..., Any],
    items: Iterable[Any],
    jobs: int,
    *args: Any,
    preload: tuple[str, ...] = (),
    stay: Callable[[Any], bool] | None = None,
) -> Iterator[Any]:
    """`step(item, *args)` for each item, in the items' order: in this process if `jobs` is 1, else in up to `jobs`
    worker processes; with `stay`, here as long as it holds for each result, then the rest in the workers. `step`
    and `args` must pickle (`step` a module's function). `preload`: modules a forkserver imports before it forks the
    workers, besides the step's (what they set up is shared by every worker)."""
    items = list(items)
    done = 0
    # Here while the results say so (runs up to date: checking one takes milliseconds, starting the workers about a
    # second): the workers are started only once an item has real work, for the items after it.
    while jobs > 1 and stay is not None and done < len(items) - 1:
        result = step(items[done], *args)
        yield result
        done += 1
        if not stay(result):
            break
    if jobs <= 1 or len(items) - done <= 1:
        for item in items[done:]:
            yield step(item, *args)
        return
    pool = Pool(step, args, min(jobs, len(items) - done), preload)
    try:
        yield from pool.results(items[done:])
    finally:
        pool.stop()


def context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


@dataclass
class Worker:
    process: Any
    connection: Connection
    holding: int | None = None  # the index of the item it works on


class Pool:
    """The workers, each handed its next item when it answers the last."""

    def __init__(self, step: Callable[..., Any], args: tuple, size: int, preload: tuple[str, ...] = ()) -> None:
        self.step, self.args, self.size = step, args, size
        self.context = context()
        if self.context.get_start_method() == "forkserver":
            # Imported once in the server, not once per worker (a no-op once the server runs).
            self.context.set_forkserver_preload([step.__module__, *preload])
        self.workers: list[Worker] = []

    def start(self) -> Worker:
        ours, theirs = self.context.Pipe()
        # The environment as it is now (a price file given, the data folder): a forkserver's children inherit the
        # one it started with.
        settings = (dict(os.environ), sys.getrecursionlimit())
        process = self.context.Process(target=work, args=(theirs, settings, self.step, self.args), daemon=True)
        process.start()
        theirs.close()
        worker = Worker(process, ours)
        self.workers.append(worker)
        return worker

    def results(self, items: list[Any]) -> Iterator[Any]:
        waiting = deque(range(len(items)))
        done: dict[int, Any] = {}
        given = 0  # results handed back so far, in order
        while given < len(items):
            while len(self.workers) < self.size and waiting:
                self.hand(self.start(), waiting, items)
            ready = wait([worker.connection for worker in self.workers])
            for worker in [worker for worker in self.workers if worker.connection in ready]:
                try:
                    index, result = worker.connection.recv()
                except (EOFError, OSError):  # it died: the item it held fails alone
                    self.workers.remove(worker)
                    worker.connection.close()
                    worker.process.join()
                    if worker.holding is not None:
                        done[worker.holding] = Ended(how_it_ended(worker.process.exitcode))
                    continue
                done[index] = result
                worker.holding = None
                self.hand(worker, waiting, items)
            while given in done:
                yield done.pop(given)
                given += 1

    def hand(self, worker: Worker, waiting: deque, items: list[Any]) -> None:
        """Give the worker its next item, or tell it to stop when there is none."""
        if waiting:
            worker.holding = waiting.popleft()
            worker.connection.send((worker.holding, items[worker.holding]))
        else:
            worker.connection.send(None)
            worker.connection.close()
            self.workers.remove(worker)

    def stop(self) -> None:
        """Stop the workers still running (after Ctrl-C, or a failure here): each is terminated, then killed."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: it ends at once, without a word
        for worker in self.workers:
            worker.process.join(STOPPING)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self.workers.clear()


def how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the process analysing it was ended by {name}"
    return f"the process analysing it ended with exit code {exitcode}"


class NotATerminal(io.TextIOWrapper):
    """stderr for a worker: progress bars of items worked on side by side would write over each other."""

    def isatty(self) -> bool:
        return False


def work(connection: Connection, settings: tuple[dict, int], step: Callable[..., Any], args: tuple) -> None:
    """A worker's life: items from `connection` until told to stop, each answered with its index and its result."""
    # Ctrl-C is the caller's to handle (it stops every worker): a worker that took it too would print
    # multiprocessing's traceback if it came while it was exiting, or a second one came.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    environment, recursion = settings
    os.environ.clear()
    os.environ.update(environment)
    sys.setrecursionlimit(recursion)
    stderr = open(2, "wb", closefd=False)  # noqa: SIM115 (the worker's for its whole life)
    sys.stderr = NotATerminal(stderr, line_buffering=True, errors="backslashreplace")
    try:
        while (task := connection.recv()) is not None:
            index, item = task
            connection.send((index, step(item, *args)))
    except (EOFError, BrokenPipeError):  # the parent gone: stop without a word
        pass
