"""The forward listener's half of the capture addon (--all-hosts): destinations on this machine refused with a 403,
and TLS handshakes the client refused, each recorded as a line of traffic.jsonl; every other exchange through it is
recorded as the reverse proxies' are.

A forward proxy on 127.0.0.1 would otherwise let whatever runs on the machine reach every local service through it,
with the run's CA vouching for them: so a CONNECT, or a plain-HTTP request, to a loopback address (literal, a name
under `localhost`, or a name that resolves to one) is refused unless it is one of the run's own reverse proxies.
"""

import asyncio
import socket
import time
import uuid

from mitmproxy import http, tls

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder.record import SCHEMA_VERSION
from probe.common.forward import ALL_HOSTS, is_loopback

RESOLVE_TIMEOUT = 10.0  # seconds a name may take to resolve before it is let through to mitmproxy's own connect


class ForwardRecording:
    """What the capture addon does on its forward listener; the addon (Capture) provides proxy_names, refused,
    upstream_proxy, bypasses_proxy, policy, recording, append and the fields of a message."""

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if not self.on_forward(flow.client_conn):
            return
        with self.recording("http_connect", flow):
            reason = await self.refusal(flow.request.host, flow.request.port)
            if reason is not None:
                flow.response = refusal_response(reason)
                self.record_connect(flow.request.host, flow.request.port, reason, flow)

    async def request(self, flow: http.HTTPFlow) -> None:
        """A request through the forward listener (plain HTTP, or inside a tunnel) is checked again before mitmproxy
        connects (lazily, after this hook): a name may resolve elsewhere by now."""
        if not self.on_forward(flow.client_conn) or flow.response is not None:
            return
        with self.recording("request", flow):
            reason = await self.refusal(flow.request.host, flow.request.port)
            if reason is not None:
                self.refused[flow.id] = reason
                flow.response = refusal_response(reason)

    def tls_failed_client(self, data: tls.TlsData) -> None:
        """The client broke off the TLS handshake inside its CONNECT: it pins its certificates, or does not trust
        the run's CA. The host is recorded with the reason; the run goes on."""
        if not self.on_forward(data.context.client):
            return
        host, port = data.context.server.address or (data.conn.sni or "?", 443)
        why = " ".join(str(data.conn.error or "the handshake failed").split())
        error = f"tls: the client refused the TLS handshake with {host}: {why}"
        try:
            self.record_connect(host, port, error, None, data.conn.timestamp_start)
        except Exception as failure:  # reported like any hook's failure, never lost
            self.report("recording-error", f"tls_failed_client of {host}: {type(failure).__name__}: {failure}")

    def on_forward(self, client) -> bool:
        sockname = client.sockname
        return self.proxy_names.get(sockname[1] if sockname else 0) == ALL_HOSTS

    async def refusal(self, host: str, port: int) -> str | None:
        """Why a destination is refused ("refused: …"), or None: this machine, outside the run's reverse proxies."""
        if self.proxy_names.get(port, ALL_HOSTS) != ALL_HOSTS and is_loopback(host):
            return None  # one of the run's own reverse proxies, reached through the forward one
        elsewhere = "this machine; the forward proxy reaches other hosts only"
        if is_loopback(host):
            return f"refused: {host} is {elsewhere}"
        if self.upstream_proxy and not self.bypasses_proxy(host):
            return None  # the upstream proxy resolves the name, on its own machine
        for address in await resolve(host, port):
            if is_loopback(address):
                return f"refused: {host} resolves to {address}, {elsewhere}"
        return None

    def record_connect(
        self, host: str, port: int, error: str, flow: http.HTTPFlow | None, start: float | None = None
    ) -> None:
        """A CONNECT that went no further: refused here (`flow` holds the 403 sent), or its TLS handshake refused."""
        policy, now = self.policy, time.time()
        start = start or (flow.request.timestamp_start if flow else now)
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        request = self.message_fields(flow.request) if flow else {"headers": []}
        record = {
            "schema": SCHEMA_VERSION,
            "kind": "http",
            "id": flow.id if flow else str(uuid.uuid4()),
            "proxy": ALL_HOSTS,
            "complete": False,
            "error": stored.text(error, policy),
            "timing": {"start": start, "request_end": start, "end": now},
            "request": request
            | {
                "method": "CONNECT",
                "url": stored.url(f"https://{authority}", policy),
                "path": "",
                "http_version": flow.request.http_version if flow else "HTTP/1.1",
                **stored.store_body(b"", "", "", policy).fields,
            },
            "response": None,
        }
        if flow is not None and flow.response is not None:
            response = flow.response
            record["response"] = self.message_fields(response) | {
                "status": response.status_code,
                "reason": stored.text(response.reason, policy),
                "http_version": response.http_version,
                **stored.store_body(response.raw_content, "", response.headers.get("content-type", ""), policy).fields,
            }
        self.append([capture_line.line(record)], "traffic.jsonl")


def refusal_response(reason: str) -> http.Response:
    return http.Response.make(403, (reason + "\n").encode(), {"content-type": "text/plain; charset=utf-8"})


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to; none if it does not resolve (mitmproxy's connect then fails, recorded)."""
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (TimeoutError, OSError, UnicodeError):
        return []
    return [entry[4][0] for entry in found]
