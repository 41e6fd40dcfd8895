"""200 concurrent clients on two proxies: every exchange the upstream served is captured, byte-exact."""

import hashlib
import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from conftest import WebSocketClient, post_json, read_traffic

CLIENTS = 200


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_two_hundred_concurrent_clients(proxied):
    start, run = proxied
    proxies = start("mock", "websocket")
    model, backend = proxies.urls["model"], proxies.urls["backend"]
    sent: Counter = Counter()  # sha256 of every body or frame a client sent
    received: Counter = Counter()  # ... and of every one it received

    def sse(index):
        body = {
            "model": "m",
            "stream": True,
            "input": [{"type": "message", "role": "user", "content": f"client {index}"}],
        }
        status, _, data = post_json(model, "/v1/responses", body, timeout=120)
        assert status == 200 and b"response.completed" in data
        return [sha(json.dumps(body).encode())], [sha(data)]

    def plain_json(index):
        body = {"client": index, "padding": "x" * random.randint(0, 50_000)}
        status, _, data = post_json(backend, "/backend-api/wham/tasks", body, timeout=120)
        assert status == 200
        return [sha(json.dumps(body).encode())], [sha(data)]

    def websocket(index):
        client = WebSocketClient(model, "/v1/responses")
        frame = {
            "type": "response.create",
            "model": "m",
            "input": [{"type": "message", "role": "user", "content": f"socket {index}"}],
        }
        client.send(frame)
        events = client.until("response.completed")
        client.close()
        return [sha(json.dumps(frame).encode())], [sha(json.dumps(event).encode()) for event in events]

    kinds = [sse, plain_json, websocket]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for out, back in pool.map(lambda index: kinds[index % 3](index), range(CLIENTS)):
            sent.update(out)
            received.update(back)
    mock_port = proxies.upstreams["model"].rsplit(":", 1)[1].strip("/")
    _, _, stats = post_json(f"http://127.0.0.1:{mock_port}", "/__mock/stats", {})
    proxies.stop()

    served = json.loads(stats)
    entries = read_traffic(run)  # every line parses: nothing interleaved
    assert served["http_exchanges"] + served["websocket_exchanges"] == CLIENTS
    assert len(entries) == CLIENTS
    backend_clients = sum(1 for index in range(CLIENTS) if kinds[index % 3] is plain_json)
    assert Counter(entry["proxy"] for entry in entries) == {
        "model": CLIENTS - backend_clients,
        "backend": backend_clients,
    }
    captured_sent: Counter = Counter()
    captured_received: Counter = Counter()
    for entry in entries:
        if entry["kind"] == "http":
            captured_sent[entry["request"]["body_sha256"]] += 1
            captured_received[entry["response"]["body_sha256"]] += 1
        for frame in entry.get("messages", []):
            (captured_sent if frame["from"] == "client" else captured_received)[frame["sha256"]] += 1
    assert captured_sent == sent
    assert captured_received == received
