"""Which recorded answer each request of a replay gets: the first not yet served whose key is the request's, in
the order recorded (so a thread's requests get its answers in turn); and the first request that matches none."""

from collections import defaultdict
from dataclasses import dataclass

from probe.common import markdown as md
from probe.replay.keys import RequestKey
from probe.replay.recorded import Answer
from probe.write.value_diff import shown_changes


@dataclass
class Divergence:
    """A request no recorded answer fits: its number among the requests the replay got, and the recorded
    exchange it should most likely have been (the next one not served on its endpoint), with their difference."""

    request: int
    key: RequestKey
    expected: Answer | None

    def summary(self) -> str:
        expected = f"exchange #{self.expected.number} of the recording" if self.expected else "nothing recorded"
        return f"diverged at request {self.request} ({self.key.endpoint}): it matches no recorded request; " + (
            f"expected {expected}"
        )

    def diff(self) -> str:
        """Markdown: the expected and the actual request as the replay compares them, path by path, as
        `invoke diff` shows a changed JSON value."""
        expected = self.expected.key.shown() if self.expected else {}
        rows = shown_changes(expected, self.key.shown())
        return str(md.table(["Path", "Expected (recorded)", "Actual (this run)"], rows))


class Matcher:
    """Hands out recorded answers to requests as they come (from one thread: the server's event loop)."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.by_key: dict[RequestKey, list[Answer]] = defaultdict(list)
        for answer in answers:
            self.by_key[answer.key].append(answer)
        self.served: set[int] = set()
        self.requests = 0
        self.repeated = 0  # requests answered again with an answer already served: asked more often than recorded
        self.divergences: list[Divergence] = []

    def websocket_paths(self) -> set[str]:
        return {answer.key.endpoint.removeprefix("WS ") for answer in self.answers if answer.messages is not None}

    def answer(self, key: RequestKey) -> Answer | Divergence:
        self.requests += 1
        fitting = self.by_key.get(key, [])
        fresh = next((answer for answer in fitting if answer.number not in self.served), None)
        if fresh is not None:
            self.served.add(fresh.number)
            return fresh
        if fitting:  # asked again (a retry, a poll): the same answer, counted
            self.repeated += 1
            return fitting[-1]
        divergence = Divergence(self.requests, key, self.expected(key))
        self.divergences.append(divergence)
        return divergence

    def expected(self, key: RequestKey) -> Answer | None:
        """The recorded exchange a request that matches none most likely stands for: the first not served on its
        endpoint that carries a conversation if it does, else the first not served on its endpoint."""
        waiting = [answer for answer in self.answers if answer.number not in self.served]
        same_endpoint = [answer for answer in waiting if answer.key.endpoint == key.endpoint]
        talking = [answer for answer in same_endpoint if (answer.key.items is None) == (key.items is None)]
        return (talking or same_endpoint or [None])[0]

    def unserved(self) -> list[int]:
        """Recorded exchanges with a model that no request asked for."""
        waiting = [answer for answer in self.answers if answer.number not in self.served]
        return [answer.number for answer in waiting if answer.key.items is not None]
