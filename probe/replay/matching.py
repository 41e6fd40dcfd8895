"""Which recorded answer each request of a replay gets: the first not yet served whose key is the request's, in the
order recorded, taken from the recorded thread its own thread is bound to (so each agent, main or sub-agent, gets
its own answers in turn, however the agents' requests interleave); and the first request that matches none."""

from collections import defaultdict
from dataclasses import dataclass

from probe.common import markdown as md
from probe.replay.keys import RequestKey
from probe.replay.recorded import Answer
from probe.replay.threads import Thread
from probe.write.value_diff import shown_changes


@dataclass
class Divergence:
    """A request no recorded answer fits: its number among the requests the replay got, and the recorded
    exchange it should most likely have been (the next one not served on its endpoint), with their difference;
    the thread that asked, and the recorded thread bound to it (None for a thread no recorded one was left for)."""

    request: int
    key: RequestKey
    expected: Answer | None
    thread: Thread | None = None
    recorded_thread: str | None = None
    first: "Divergence | None" = None  # the replay's first divergence, for one that came after it

    def where(self) -> str:
        if self.thread is None:
            return self.key.endpoint
        if self.recorded_thread is None:
            return f"{self.key.endpoint}, thread {self.thread.id}, bound to no recorded thread"
        return f"{self.key.endpoint}, recorded thread {self.recorded_thread}"

    def summary(self) -> str:
        expected = f"exchange #{self.expected.number} of the recording" if self.expected else "nothing recorded"
        return f"diverged at request {self.request} ({self.where()}): it matches no recorded request; " + (
            f"expected {expected}"
        )

    def said(self) -> str:
        """What the agent is told in its API's error, which it shows: the replay's first divergence first, since an
        agent shows the error of its last request, which may only follow from an earlier one."""
        if self.first is None:
            return self.summary()
        return (
            f"{self.first.summary()}; request {self.request} ({self.where()}), after it, matches no recorded request "
            "either"
        )

    def diff(self) -> str:
        """Markdown: the expected and the actual request as the replay compares them, path by path, as
        `invoke diff` shows a changed JSON value."""
        expected = self.expected.key.shown() if self.expected else {}
        rows = shown_changes(expected, self.key.shown())
        return str(md.table(["Path", "Expected (recorded)", "Actual (this run)"], rows))

    def threads(self) -> dict | None:
        """The thread that diverged, as the manifest's replay record names it."""
        if self.thread is None:
            return None
        return {"this_run": self.thread.id, "recorded": self.recorded_thread}


class Matcher:
    """Hands out recorded answers to requests as they come (from one thread: the server's event loop).

    Thread ids are fresh in every run, so each thread of this run is bound to a recorded thread by its first
    request that one fits (see bind); from then on it is served from that recorded thread alone. A request that
    names no thread is served as before threads were told apart, from the answers recorded without a thread
    first; one of a thread no recorded thread fits, from those alone (a recording whose agent named none)."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.by_key: dict[RequestKey, list[Answer]] = defaultdict(list)
        self.threads: dict[str, Thread] = {}  # the recorded threads, by id, in the order they first asked
        for answer in answers:
            self.by_key[answer.key].append(answer)
            if answer.thread is not None:
                self.threads.setdefault(answer.thread.id, answer.thread)
        self.bound: dict[str, str] = {}  # a thread of this run -> the recorded thread that serves it
        self.seen: set[str] = set()  # the threads of this run
        self.served: set[int] = set()
        self.requests = 0
        self.repeated = 0  # requests answered again with an answer already served: asked more often than recorded
        self.divergences: list[Divergence] = []

    def websocket_paths(self) -> set[str]:
        return {answer.key.endpoint.removeprefix("WS ") for answer in self.answers if answer.messages is not None}

    def answer(self, key: RequestKey, thread: Thread | None = None) -> Answer | Divergence:
        self.requests += 1
        recorded = None
        if thread is not None:
            self.seen.add(thread.id)
            recorded = self.bound.get(thread.id) or self.bind(key, thread)
        if recorded is not None:
            fitting = [answer for answer in self.by_key.get(key, []) if thread_of(answer) == recorded]
        elif thread is not None and self.threads:  # a thread no recorded one fits: not another thread's answers
            fitting = [answer for answer in self.by_key.get(key, []) if answer.thread is None]
        else:  # the answers recorded without a thread, then the others (sorted keeps the recorded order of each)
            fitting = sorted(self.by_key.get(key, []), key=lambda answer: answer.thread is not None)
        fresh = next((answer for answer in fitting if answer.number not in self.served), None)
        if fresh is not None:
            self.served.add(fresh.number)
            return fresh
        if fitting:  # asked again (a retry, a poll): the same answer, counted
            self.repeated += 1
            return fitting[-1]
        first = self.divergences[0] if self.divergences else None
        divergence = Divergence(self.requests, key, self.expected(key, thread, recorded), thread, recorded, first)
        self.divergences.append(divergence)
        return divergence

    def bind(self, key: RequestKey, thread: Thread) -> str | None:
        """The recorded thread, not bound yet, that this run's thread is from now on served from; None if none has
        an answer waiting for this request. Where several have, the one that shares the thread's name (the main
        agent's, or the one its requests give it), then the one whose parent is bound to the thread's parent,
        then the one whose next answer it is, then the one whose answer was recorded first."""
        taken = set(self.bound.values())
        first_fitting: dict[str, int] = {}
        for answer in self.by_key.get(key, []):
            recorded = thread_of(answer)
            if recorded is not None and recorded not in taken and answer.number not in self.served:
                first_fitting.setdefault(recorded, answer.number)
        if not first_fitting:
            return None
        chosen = min(first_fitting, key=lambda recorded: self.rank(recorded, thread, key, first_fitting[recorded]))
        self.bound[thread.id] = chosen
        return chosen

    def rank(self, recorded_id: str, thread: Thread, key: RequestKey, first_number: int) -> tuple:
        """How well a recorded thread stands for this run's thread (the least first)."""
        recorded = self.threads[recorded_id]
        same_name = recorded.id == thread.id or (thread.label is not None and recorded.label == thread.label)
        # A main agent's match is a main agent; a sub-agent's, a child of the thread its parent is bound to.
        if thread.parent is None:
            same_parent = recorded.parent is None
        else:
            same_parent = thread.parent in self.bound and recorded.parent == self.bound[thread.parent]
        following = self.next_waiting(recorded_id)
        is_next = following is not None and following.key == key
        return (not same_name, not same_parent, not is_next, first_number)

    def next_waiting(self, recorded: str) -> Answer | None:
        return next(
            (answer for answer in self.answers if thread_of(answer) == recorded and answer.number not in self.served),
            None,
        )

    def expected(self, key: RequestKey, thread: Thread | None, recorded: str | None) -> Answer | None:
        """The recorded exchange a request that matches none most likely stands for: the first not served on its
        endpoint that carries a conversation if it does, else the first not served on its endpoint; of its bound
        recorded thread, or for a thread not bound, of the recorded threads not bound."""
        waiting = [answer for answer in self.answers if answer.number not in self.served]
        if recorded is not None:
            waiting = [answer for answer in waiting if thread_of(answer) == recorded]
        elif thread is not None:
            taken = set(self.bound.values())
            waiting = [answer for answer in waiting if thread_of(answer) not in taken]
        same_endpoint = [answer for answer in waiting if answer.key.endpoint == key.endpoint]
        talking = [answer for answer in same_endpoint if (answer.key.items is None) == (key.items is None)]
        return (talking or same_endpoint or [None])[0]

    def unserved(self) -> list[int]:
        """Recorded exchanges with a model that no request asked for."""
        waiting = [answer for answer in self.answers if answer.number not in self.served]
        return [answer.number for answer in waiting if answer.key.items is not None]

    def thread_counts(self) -> dict:
        """How many threads the recording has, how many of them served a thread of this run, and how many threads
        of this run no recorded thread served."""
        return {"recorded": len(self.threads), "bound": len(self.bound), "unbound": len(self.seen - set(self.bound))}


def thread_of(answer: Answer) -> str | None:
    return answer.thread.id if answer.thread is not None else None
