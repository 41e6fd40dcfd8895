"""Where the proxies send what they receive: the upstream URL a run may override, and the HTTP proxy on the way."""

import ipaddress
import urllib.parse
from dataclasses import dataclass

from probe.common.errors import ProxyError
from probe.redact.replacing import fingerprint
from probe.redact.urls_and_headers import mask_url
from probe.runs.targets import Target, upstream_problem


@dataclass(frozen=True)
class UpstreamProxy:
    """Where upstream connections are tunnelled through, and why."""

    url: str | None  # None: connect directly
    source: str  # --upstream-proxy, the target file, HTTPS_PROXY, or none
    no_proxy: str = ""  # hosts that still connect directly (only for a proxy taken from the environment)

    def describe(self) -> str:
        return f"{mask_proxy_credentials(self.url)} (from {self.source})" if self.url else "none"


def mask_proxy_credentials(url: str | None) -> str:
    """The URL with its whole user:password part replaced by a fingerprint: neither belongs in a log."""
    parts = urllib.parse.urlsplit(url or "")
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url or ""
    return parts._replace(netloc=f"{fingerprint(userinfo)}@{host}").geturl()


def choose_upstream_proxy(option: str | None, target: Target, environ: dict[str, str]) -> UpstreamProxy:
    """--upstream-proxy (or `none`), else the target's upstream_proxy, else HTTPS_PROXY / https_proxy."""
    if option == "none":
        return UpstreamProxy(None, "--upstream-proxy none")
    if option:
        problem = upstream_problem(option, proxy=True)
        if problem:
            raise ProxyError(f"--upstream-proxy {mask_proxy_credentials(option)}: {problem}, or none")
        return UpstreamProxy(option, "--upstream-proxy")
    if target.upstream_proxy:
        return UpstreamProxy(target.upstream_proxy, "the target file")
    for name in ("HTTPS_PROXY", "https_proxy"):
        if environ.get(name, "").startswith("http://"):
            # Like curl: loopback and NO_PROXY hosts (a local mock or gateway) still connect directly.
            no_proxy = ",".join(
                filter(None, [environ.get("NO_PROXY", ""), environ.get("no_proxy", ""), "localhost,127.0.0.1,::1"])
            )
            return UpstreamProxy(environ[name], name, no_proxy)
    return UpstreamProxy(None, "none")


UPSTREAM_PROXY_VARIABLE = "PROBE_UPSTREAM_PROXY"  # read by the capture addon


def is_local(upstream: str | None) -> bool:
    """Whether --upstream is a URL on this machine (a test server, a local gateway), not the mock's name."""
    if not upstream or upstream == "mock":
        return False
    host = (urllib.parse.urlsplit(upstream).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_upstream(upstream: str | None) -> None:
    """Refuse an --upstream that is neither `mock` nor a URL mitmproxy can forward to, without echoing secrets."""
    if upstream is None or upstream == "mock":
        return
    problem = upstream_problem(upstream)
    if problem:
        # Only the scheme and host are shown: any path, query or user:password may be a secret.
        scheme, separator, rest = upstream.partition("://")
        authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        shown = mask_url(f"{scheme}{separator}{authority}")[0] + ("/…" if len(authority) < len(rest) else "")
        raise ProxyError(f"--upstream {shown}: {problem}, or `mock`")
