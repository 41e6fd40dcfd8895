"""A model server of known timing for tests/timed_agent.py: it answers each Messages request with the blocks the
request's last `answer: …` line names, its first byte `waiting` seconds after the agent sent the request, its last
byte `streaming` seconds after that. Independent of probe.mock."""

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from timed_agent import SENT

ANSWER = re.compile(r"^answer: (.+)$", re.MULTILINE)


def wanted(body: dict) -> list[tuple[str, str]]:
    """(tool, call id) of each call the request asks to be answered with; none for a text answer."""
    last = body["messages"][-1]["content"]
    texts = [block.get("text", "") for block in last if block.get("type") == "text"]
    [directive] = [found.group(1) for text in texts for found in ANSWER.finditer(text)]
    if directive == "text":
        return []
    return [tuple(part.split()) for part in directive.split(",")]


def events(body: dict) -> list[dict]:
    calls = wanted(body)
    usage = {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    message = {"id": "msg_timed", "type": "message", "role": "assistant", "model": body["model"], "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": usage}  # fmt: skip
    blocks = [{"type": "tool_use", "id": call_id, "name": name, "input": {}} for name, call_id in calls]
    blocks = blocks or [{"type": "text", "text": "done"}]
    out = [{"type": "message_start", "message": message}]
    for index, block in enumerate(blocks):
        out += [{"type": "content_block_start", "index": index, "content_block": block},
                {"type": "content_block_stop", "index": index}]  # fmt: skip
    stop = "tool_use" if calls else "end_turn"
    out += [{"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage},
            {"type": "message_stop"}]  # fmt: skip
    return out


def chunk(event: dict) -> bytes:
    data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextmanager
def timed_model(waiting: float, streaming: float) -> Iterator[tuple[str, list[dict]]]:
    """Serves on 127.0.0.1; yields its URL and its log: for each request, when the agent sent it (its SENT
    header) and when the server wrote the answer's first and last bytes, by its own clock."""
    log: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            answer = events(body)
            time.sleep(max(0.0, float(self.headers[SENT]) + waiting - time.time()))
            head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            self.wfile.write(head + chunk(answer[0]))  # the first byte and the first event go together
            self.wfile.flush()
            first_byte = time.time()
            time.sleep(streaming)
            self.wfile.write(b"".join(chunk(event) for event in answer[1:]) + b"0\r\n\r\n")
            self.wfile.flush()
            log.append({"sent": float(self.headers[SENT]), "first_byte": first_byte, "end": time.time()})

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
