"""A stand-in agent for the receiver's tests inside a real capture: the standard library only. Its telemetry endpoint
comes from $TELEMETRY ({telemetry}, the run's receiver), and it does each step its prompt names, one JSON line per
step into $AGENT_REPORT (outside the run):

    endpoint       the endpoint's path (the run's token), for the test to look for it in the run's files
    rss            the capture process's peak and current resident memory (its parent's /proc status)
    amplify        a 3.9 KB gzip export of 2,000,000 empty log records, then the capture's memory
    forged         a forged user_prompt and a $4,242 api_request, posted with no token, with a wrong one, and as
                   another local process finds the receiver: the endpoint's port only
    minus-chunk    chunked exports whose first chunk size is -1, +10, 0x10, " 10" or 1_0, and the answer to each
    handler-errors JSON exports with a lone surrogate, a 310-digit timestamp, NaN and Infinity, and a protobuf one
                   with a string that is not UTF-8
    gone           an export whose client goes away half way through its body
    secret-across  two log records: `export ANTHROPIC_API_KEY=` in the first's body, the key in the next's
    held           a connection that sends an export's headers and never its body, held by a process of its own
                   session (it outlives the agent; its pid is reported) until $HELD_FOR seconds have passed, then
                   it writes `released`
"""

import gzip
import json
import os
import socket
import sys
import time
import urllib.parse

ENDPOINT = urllib.parse.urlsplit(os.environ["TELEMETRY"])
KEY = "Zq8" + "Wm3Kp7Xv2Rt9Lb4Nc6Hd"  # a key no shape rule knows: only its name, in the record before, says so


def report(step: str, **said) -> None:
    with open(os.environ["AGENT_REPORT"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"step": step, **said}) + "\n")


def memory() -> dict:
    """The capture process's peak (VmHWM) and current (VmRSS) resident memory in MB: the agent's parent."""
    found = {}
    with open(f"/proc/{os.getppid()}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = int(value.split()[0]) // 1024
    return found


def exchange(raw: bytes, timeout: float = 30, done: bool = True) -> tuple[int | None, bytes]:
    """Send `raw` on a new connection (`done`: all of the request, the sending side then closed); the answer's
    status and body, None where none came within `timeout` seconds."""
    with socket.create_connection((ENDPOINT.hostname, ENDPOINT.port), timeout=timeout) as connection:
        connection.sendall(raw)
        if done:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    if not answer.startswith(b"HTTP/1."):
        return None, answer
    return int(answer.split(b" ", 2)[1]), answer.split(b"\r\n\r\n", 1)[-1]


def request(path: str, body: bytes, content_type: str, extra: str = "", chunked: bytes | None = None) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: {ENDPOINT.netloc}\r\nContent-Type: {content_type}\r\n{extra}"
    if chunked is not None:
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def ours(signal: str) -> str:
    """The path of a signal at the endpoint the run gave: with whatever the run put in it."""
    return ENDPOINT.path.rstrip("/") + f"/v1/{signal}"


# (as probe.common.varints writes them: this stand-in agent imports nothing of the project's)
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


def logs(*records: dict, service: str = "an-agent") -> dict:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": list(records)}]}]}


def log(name: str, **attributes) -> dict:
    pairs = [{"key": "event.name", "value": {"stringValue": name}}]
    for key, value in attributes.items():
        kind = "doubleValue" if isinstance(value, float) else "intValue" if isinstance(value, int) else "stringValue"
        pairs.append({"key": key, "value": {kind: value}})
    return {"timeUnixNano": "1700000000000000000", "attributes": pairs}


def amplify() -> None:
    report("amplify-before", **memory())
    export = field(1, field(2, field(2, b"") * 2_000_000))  # ExportLogsServiceRequest{resource_logs{scope_logs}}
    body = gzip.compress(export, 9)
    extra = "Content-Encoding: gzip\r\n"
    status, _ = exchange(request(ours("logs"), body, "application/x-protobuf", extra), timeout=300)
    report("amplify", status=status, sent=len(body), **memory())


def forged() -> None:
    export = logs(
        log("user_prompt", prompt="forged: delete everything"),
        log("api_request", model="claude-forged", cost_usd=4242.0, input_tokens=1, request_id="req_forged"),
        service="claude-code",
    )
    body = json.dumps(export).encode()
    tried = {
        "bare": "/v1/logs",
        "wrong": "/0123456789abcdef0123456789abcdef/v1/logs",
        "bearer": "/v1/logs",
    }
    for name, path in tried.items():
        extra = "Authorization: Bearer 0123456789abcdef0123456789abcdef\r\n" if name == "bearer" else ""
        status, _ = exchange(request(path, body, "application/json", extra))
        report("forged", how=name, status=status)


def minus_chunk() -> None:
    # -1, and a megabyte after it, the connection left open: read(-1) would wait for the client to close it.
    chunked = b"-1\r\n" + b"\x00" * (1 << 20)
    status, _ = exchange(request(ours("logs"), b"", "application/x-protobuf", chunked=chunked), 5, done=False)
    report("minus-chunk", size="-1", status=status)
    # A whole export in one chunk whose size int(…, 16) would read but plain hex does not spell.
    export = json.dumps(logs(log("odd_chunk"))).encode()
    for size in (f"+{len(export):x}", f"0x{len(export):x}", f" {len(export):x}", "_".join(f"{len(export):x}")):
        chunked = f"{size}\r\n".encode() + export + b"\r\n0\r\n\r\n"
        status, _ = exchange(request(ours("logs"), b"", "application/json", chunked=chunked))
        report("minus-chunk", size=size, status=status)


def handler_errors() -> None:
    surrogate = json.dumps(logs({"timeUnixNano": "1700000000000000000", "body": {"stringValue": "cut \ud83d"}}))
    huge = json.dumps(logs({"timeUnixNano": "1" + "0" * 309, "body": {"stringValue": "a huge timestamp"}}))
    not_finite = (
        json.dumps(logs(log("api_request", cost_usd=0.5, duration_ms=2.0)))
        .replace("0.5", "NaN")
        .replace("2.0", "Infinity")
    )
    exponent = json.dumps(logs(log("api_request", cost_usd=0.5))).replace("0.5", "1e400")
    for name, text in (("surrogate", surrogate), ("huge-time", huge), ("nan", not_finite), ("1e400", exponent)):
        status, _ = exchange(request(ours("logs"), text.encode(), "application/json"))
        report("handler-errors", export=name, status=status)
    # A log record whose body's string is cut inside a character: not UTF-8, which protobuf strings must be.
    record = field(5, field(1, b"cut inside " + "\U0001f600".encode()[:2]))
    status, _ = exchange(request(ours("logs"), field(1, field(2, field(2, record))), "application/x-protobuf"))
    report("handler-errors", export="protobuf-utf8", status=status)


def gone() -> None:
    body = json.dumps(logs(log("gone", note="x" * 4000))).encode()
    with socket.create_connection((ENDPOINT.hostname, ENDPOINT.port), timeout=30) as connection:
        connection.sendall(request(ours("logs"), body, "application/json")[: -len(body) // 2])
        time.sleep(0.2)
    report("gone")


def secret_across() -> None:
    export = logs(
        {"timeUnixNano": "1700000000000000000", "body": {"stringValue": "export ANTHROPIC_API_KEY="}},
        {"timeUnixNano": "1700000000000000001", "body": {"stringValue": KEY}},
    )
    status, _ = exchange(request(ours("logs"), json.dumps(export).encode(), "application/json"))
    report("secret-across", status=status)


def held() -> None:
    """Headers sent, the body never: from a process of its own session, which the run's end does not stop."""
    connection = socket.create_connection((ENDPOINT.hostname, ENDPOINT.port), timeout=30)
    head = request(ours("logs"), b"x" * 1000, "application/json")[:-1000]
    connection.sendall(head)
    child = os.fork()
    if child:
        connection.close()
        report("held", pid=child)
        return
    os.setsid()
    quiet = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):  # as a daemon does: the agent's output ends when the agent does
        os.dup2(quiet, descriptor)
    time.sleep(float(os.environ.get("HELD_FOR", "60")))
    report("released")
    os._exit(0)


STEPS = {
    "endpoint": lambda: report("endpoint", path=ENDPOINT.path),
    "rss": lambda: report("rss", **memory()),
    "amplify": amplify,
    "forged": forged,
    "minus-chunk": minus_chunk,
    "handler-errors": handler_errors,
    "gone": gone,
    "secret-across": secret_across,
    "held": held,
}

if __name__ == "__main__":
    for step in sys.argv[1].split():
        STEPS[step]()
