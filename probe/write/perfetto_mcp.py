"""The Perfetto export's MCP lanes: a process per MCP server, named after it, whose calls (insight.jsonl's mcp_call
records) are async begin/end pairs, one id each, so that calls that overlap stay on the server's own tracks."""

from collections.abc import Iterator

from probe.write.perfetto_slices import cut, micros, plain, seconds

MAX_CALLS = 100_000  # MCP calls drawn; past this they are counted, not drawn (held until the trace's end)
MAX_SERVERS = 256
CALL_ARGS = ("server", "request_id", "asked_by", "model_tool", "call_id", "asked_in", "answered_in", "server_seconds",
             "agent_wait_seconds", "result_sent", "error")  # fmt: skip


class McpLanes:
    """The servers and calls read, held until the run's start is known: calls start before the first model request
    (the agent starts its servers first), so they are read before the spans and drawn at the end."""

    def __init__(self) -> None:
        self.servers: dict[str, None] = {}  # names, in the order met
        self.calls: list[tuple[str, str, float, float, dict]] = []  # server, slice name, start, end, args
        self.earliest: float | None = None
        self.left_out = self.unreadable = 0

    def add_server(self, record: dict) -> None:
        name = record.get("server")
        if isinstance(name, str) and len(self.servers) < MAX_SERVERS:
            self.servers.setdefault(name, None)

    def add_call(self, record: dict) -> None:
        server, start = record.get("server"), seconds(record.get("start"))
        end = seconds(record.get("end"))
        if not isinstance(server, str) or start is None or (end is not None and end < start):
            self.unreadable += 1
            return
        if len(self.calls) >= MAX_CALLS or (server not in self.servers and len(self.servers) >= MAX_SERVERS):
            self.left_out += 1
            return
        self.servers.setdefault(server, None)
        tool = record.get("tool")
        name = cut(f"{record.get('method')} {tool}" if isinstance(tool, str) else record.get("method"))
        args = {key: plain(record.get(key)) for key in CALL_ARGS if record.get(key) is not None}
        if end is None:
            args["answered"] = False  # drawn as an instant at its start: its end is not known
        self.calls.append((server, name, start, start if end is None else end, args))
        self.earliest = start if self.earliest is None else min(self.earliest, start)

    def events(self, first_pid: int, first_sort: int, origin: float) -> Iterator[dict]:
        """Each server's process (named, sorted after the agents), then each call's begin and end."""
        pids = {}
        for index, server in enumerate(self.servers):
            pid = pids[server] = first_pid + index
            yield {"ph": "M", "name": "process_name", "pid": pid, "args": {"name": cut(f"MCP server {server}")}}
            yield {"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": first_sort + index}}
            yield {"ph": "M", "name": "thread_name", "pid": pid, "tid": pid, "args": {"name": "calls"}}
        for number, (server, name, start, end, args) in enumerate(self.calls, 1):
            pid = pids[server]
            begin = {"ph": "b", "cat": "mcp", "name": name, "id": number, "pid": pid, "tid": pid,
                     "ts": micros(start, origin), "args": args}  # fmt: skip
            yield begin
            yield {"ph": "e", "cat": "mcp", "name": name, "id": number, "pid": pid, "tid": pid,
                   "ts": micros(end, origin)}  # fmt: skip
