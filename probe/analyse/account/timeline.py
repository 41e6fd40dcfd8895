"""The model exchanges indexed for the join: by their ids, and by start and end in time, so that each record finds
its exchange in logarithmic time however many a run holds."""

import bisect
from collections import defaultdict

from probe.analyse.account.wire import WireCall


class Timeline:
    def __init__(self, calls: list[WireCall]):
        self.calls = calls
        self.started = sorted((call for call in calls if call.start is not None), key=lambda call: call.start)
        self.starts = [call.start for call in self.started]
        self.ended = sorted((call for call in calls if call.end is not None), key=lambda call: call.end)
        self.ends = [call.end for call in self.ended]
        self.by_call_id: dict[str, WireCall] = {}
        # A WebSocket's turns share the request id its upgrade was answered with: each id has its exchanges in order.
        self.by_request_id: dict[str, list[WireCall]] = defaultdict(list)
        self.by_response_id: dict[str, WireCall] = {}
        self.by_prompt: dict[str, list[int]] = defaultdict(list)
        for call in calls:
            for call_id in call.call_ids:
                self.by_call_id.setdefault(call_id, call)
            if call.request_id:
                self.by_request_id[call.request_id].append(call)
            if call.response_id:
                self.by_response_id.setdefault(call.response_id, call)
            if call.prompt:
                self.by_prompt[call.prompt].append(call.number)

    def starting(self, low: float, high: float) -> list[WireCall]:
        """The exchanges that started at `low` or later, before `high`, in order."""
        return self.started[bisect.bisect_left(self.starts, low) : bisect.bisect_left(self.starts, high)]

    def ending(self, low: float, high: float) -> list[WireCall]:
        """The exchanges that ended at `low` or later, before `high`, in order."""
        return self.ended[bisect.bisect_left(self.ends, low) : bisect.bisect_left(self.ends, high)]

    def last_ended(self, moment: float) -> WireCall | None:
        """The exchange that ended last at or before `moment`."""
        index = bisect.bisect_right(self.ends, moment)
        return self.ended[index - 1] if index else None

    def next_start(self, moment: float) -> float | None:
        """When the first exchange after `moment` started."""
        index = bisect.bisect_right(self.starts, moment)
        return self.starts[index] if index < len(self.starts) else None

    def asking(self, call_id: str) -> WireCall | None:
        """The exchange whose answer asked for the call with this id; an agent's id that prefixes the wire's with the
        tool's name (gemini-cli's `run_shell_command__call_…`) is the wire's after it."""
        return self.by_call_id.get(call_id) or self.by_call_id.get(call_id.rsplit("__", 1)[-1])
