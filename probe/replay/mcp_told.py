"""What a stand-in MCP server tells the replay that started it: its notes about the recording, each call that
diverged and, when it stops, what it served; JSON lines appended to one file that every stand-in of the run shares
(each line one write under a lock), read back into the new run's manifest (probe.replay.mcp_outcome)."""

import fcntl
import json
import os
import sys
from pathlib import Path

from probe.common.errors import one_line
from probe.replay.mcp_matching import McpDivergence, McpMatcher
from probe.replay.mcp_recorded import Recording

TOLD_DIVERGENCES = 21  # the first is the manifest's; the next twenty its consequences (the rest only counted)


class Told:
    """Where one stand-in says what it met; nowhere but stderr when the replay gave it no file."""

    def __init__(self, path: Path | None, server: str) -> None:
        self.path, self.server, self.divergences = path, server, 0

    def say(self, event: dict) -> None:
        if self.path is None:
            return
        data = (json.dumps(event) + "\n").encode()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.write(descriptor, data)
        finally:
            os.close(descriptor)

    def notes(self, recording: Recording) -> None:
        for note in recording.notes:
            print(f"agent-probe replay: {note}", file=sys.stderr, flush=True)
            self.say({"event": "note", "server": self.server, "note": one_line(note)})

    def diverged(self, divergence: McpDivergence) -> None:
        self.divergences += 1
        if self.divergences <= TOLD_DIVERGENCES:
            self.say(divergence.event())

    def stopped(self, matcher: McpMatcher) -> None:
        self.say(matcher.summary())
