"""A fork's point in the replay's stand-in: the recorded request after whose answer the agent goes on live, and the
flag file that says to the proxies (probe.capture.recorder.fork_switch) that it has been served."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from probe.common.errors import UsageError
from probe.replay.recorded import Answer


@dataclass
class Fork:
    at: int  # the recorded request (its exchange number) whose answer is the last served from the recording
    flag: Path
    request: int | None = None  # the request of this run it answered, once served

    @property
    def reached(self) -> bool:
        return self.request is not None

    def reach(self, request: int) -> None:
        """Makes the flag, before the answer goes out: the agent's next request is then the fork's. Says so on
        stdout, one JSON line, for the replay to show at once."""
        self.request = request
        os.close(os.open(self.flag, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        print(json.dumps({"event": "forked", "at": self.at, "request": request}), flush=True)


def fork_point(answers: list[Answer], at: int) -> int:
    """`at`, checked against the recording: a request it holds an answer to. One line if it is not."""
    numbers = {answer.number for answer in answers}
    last = max(numbers)
    if at > last:
        raise UsageError(f"--until {at}: the recording's requests end at {last}")
    if at not in numbers:
        raise UsageError(
            f"--until {at}: the recording holds no answer to request {at} that can be served again (it got none, or "
            "it went to another host): fork at another"
        )
    return at
