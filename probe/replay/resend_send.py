"""The client `invoke resend` records: it sends one request, as planned, K times through the run's reverse proxy
(`python -m probe.replay.resend_send PLAN`, started by the capture as its command, with the proxies' addresses in
PROBE_PROXY_<NAME>_URL). The plan file holds the request as masked on disk and the names of the variables whose
keys fill its login's masked headers: a key is read from the environment here, never written anywhere."""

import http.client
import json
import os
import sys
import urllib.parse

from probe.redact.replacing import ANY_MASK

CHUNK = 1 << 16  # bytes read at a time from an answer, which the proxy records: it is only drained here
TIMEOUT = 600.0  # seconds an answer may take (a long generation streams for minutes)


def filled(headers: list[list[str]], keys: list[list[str]]) -> list[tuple[str, str]]:
    """The headers, a login's masked header given the key its variable holds, where the environment has one (the
    mask stays otherwise: the mock takes any)."""
    by_header = {header.lower(): os.environ.get(variable) for header, variable in keys}
    sent = []
    for name, value in headers:
        key = by_header.get(name.lower())
        sent.append((name, ANY_MASK.sub(lambda _, key=key: key, value) if key else value))
    return sent


def send(plan: dict, url: str, number: int) -> int:
    """One send, its headers in the recorded order and spelling; the answer's status (0: none came)."""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT)
    body = plan["body"].encode()
    try:
        connection.putrequest(plan["method"], plan["path"], skip_accept_encoding=True)
        for name, value in filled(plan["headers"], plan["keys"]):
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        while response.read(CHUNK):
            pass
    except (OSError, http.client.HTTPException) as error:
        print(f"send {number}: {error}", file=sys.stderr)
        return 0
    finally:
        connection.close()
    print(f"send {number}: HTTP {response.status}", file=sys.stderr)
    return response.status


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as file:
        plan = json.load(file)
    base = os.environ[f"PROBE_PROXY_{plan['proxy'].upper().replace('-', '_')}_URL"].rstrip("/")
    statuses = [send(plan, base, number) for number in range(1, plan["repeat"] + 1)]
    return 0 if all(200 <= status < 300 for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
