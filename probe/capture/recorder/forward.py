"""The forward listener's half of the capture addon (--all-hosts): clients without the run's proxy credentials
refused with a 407, destinations on this machine with a 403, and TLS handshakes the client refused, each recorded
as a line of traffic.jsonl; every other exchange through it is recorded as the reverse proxies' are.

A forward proxy on 127.0.0.1 would otherwise let whatever runs on the machine reach every local service through it,
with the run's CA vouching for them, and ride on the upstream proxy's login: so only a client with the credentials
the run handed its agent is served, and a CONNECT, or a plain-HTTP request, to this machine (an address in any
spelling, a name under `localhost`, or a name that resolves here, whether or not an upstream proxy will resolve it
again) is refused unless it is one of the run's own reverse proxies.
"""

import asyncio
import functools
import hmac
import os
import socket
import time
import uuid

from mitmproxy import http, tls
from mitmproxy.proxy import server_hooks

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder.record import SCHEMA_VERSION
from probe.common.forward import ALL_HOSTS, is_loopback, is_this_machine

RESOLVE_TIMEOUT = 10.0  # seconds a name may take to resolve before it is let through to mitmproxy's own connect
FORWARD_AUTH_VARIABLE = "PROBE_FORWARD_AUTH"  # how probe.capture.proxies hands the addon the run's user:password
NO_CREDENTIALS = "refused: no valid proxy credentials; the forward proxy serves only the run's own agent"
OFFLINE = "refused: a run against a stand-in model reaches no other host; the request is recorded, not sent"


class RunCredentials:
    """The one user:password of the run, compared in constant time; none given, nobody is let in (a validator of
    mitmproxy's proxy authentication)."""

    def __init__(self, credentials: str):
        self.expected = credentials.encode() if ":" in credentials else None

    def __call__(self, username: str, password: str) -> bool:
        return self.expected is not None and hmac.compare_digest(f"{username}:{password}".encode(), self.expected)


@functools.cache  # one for the process: the forward proxy serves only the holder of the run's credentials
def run_proxy_auth():
    """mitmproxy's own proxy authentication, for the forward listener only (its `proxyauth` option would ask the
    reverse proxies' clients too), checking the credentials given in the environment: an option would show in
    mitmdump's argv, which every user can read."""
    # Imported here, when the forward listener has its first client: its module loads LDAP and htpasswd libraries,
    # a tenth of a second of every start, and most runs have no forward listener.
    from mitmproxy.addons.proxyauth import ProxyAuth

    credentials = os.environ.get(FORWARD_AUTH_VARIABLE, "")
    auth = ProxyAuth()
    auth.validator = RunCredentials(credentials)
    return auth


class ForwardRecording:
    """What the capture addon does on its forward listener; the addon (Capture) provides proxy_names, refused,
    policy, recording, append and the fields of a message."""

    def prepare_forward(self) -> None:
        """With a forward listener, its authentication made now, at the start, not while its first client waits."""
        if ALL_HOSTS in self.proxy_names.values():
            run_proxy_auth()

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if not self.on_forward(flow.client_conn):
            return
        with self.recording("http_connect", flow):
            run_proxy_auth().http_connect(flow)  # the tunnel's requests are then the client's, authenticated
            if flow.response is not None:
                self.record_connect(flow.request.host, flow.request.port, NO_CREDENTIALS, flow)
                return  # mitmproxy answers the 407 its authentication set, and forwards nothing
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
            # Inside an authenticated tunnel, or plain HTTP carrying the credentials (removed before it goes on).
            run_proxy_auth().requestheaders(flow)
            if flow.response is not None:
                self.refused[flow.id] = NO_CREDENTIALS
                return
            reason = await self.refusal(flow.request.host, flow.request.port)
            if reason is None and self.forward_offline and not self.own_proxy(flow.request.host, flow.request.port):
                reason = OFFLINE  # what the agent would have sent is recorded whole, and goes nowhere
            if reason is not None:
                self.refused[flow.id] = reason
                flow.response = refusal_response(reason)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """Against a stand-in model, nothing the forward listener serves connects beyond the run's own proxies: not
        a tunnel that carries no HTTP (whose bytes no request hook sees), nor anything a hook above let through."""
        if not self.forward_offline or not self.on_forward(data.client) or data.server.address is None:
            return
        host, port = data.server.address[:2]
        if not self.own_proxy(host, port):
            data.server.error = OFFLINE

    def own_proxy(self, host: str, port: int) -> bool:
        return self.proxy_names.get(port, ALL_HOSTS) != ALL_HOSTS and is_loopback(host)

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
        if self.own_proxy(host, port):
            return None  # one of the run's own reverse proxies, reached through the forward one
        elsewhere = "this machine; the forward proxy reaches other hosts only"
        if is_loopback(host):
            return f"refused: {host} is {elsewhere}"
        # Resolved here even when an upstream proxy will resolve it again: one on this machine (or a name that is
        # this machine's wherever it is asked) would reach this machine's services all the same.
        for address in await resolve(host, port):
            if is_this_machine(address):
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
