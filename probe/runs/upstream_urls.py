"""What a target's upstream URL, or an upstream HTTP proxy's, may be: the few words that say why one cannot."""

import re

UPSTREAM_URL = re.compile(r"^https?://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?/?$")
UPSTREAM_PROXY_URL = re.compile(r"^http://(?:[^/@\s]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?/?$")


def upstream_problem(url: str, proxy: bool = False) -> str | None:
    """Why `url` cannot be an upstream (or, with `proxy`, an upstream HTTP proxy), in a few words; None if it can."""
    match = (UPSTREAM_PROXY_URL if proxy else UPSTREAM_URL).match(url)
    if match is None:
        return (
            "expected http://[user:pass@]host:port"
            if proxy
            else "expected http(s)://host[:port], with no path, query or user:password"
        )
    if match.group(1) and int(match.group(1)) > 65535:
        return "its port is outside 0-65535"
    return None
