"""The forward channel's name (the listener --all-hosts adds) and what counts as this machine's own address."""

import ipaddress

# The proxy name the forward listener is recorded under; a target may not give a proxy of its own this name.
ALL_HOSTS = "all-hosts"


def is_loopback(host: str) -> bool:
    """Whether a host, as a client names it, is this machine: `localhost` (and any name under it), a loopback
    address (IPv4, IPv6, or IPv4 mapped into IPv6), or the unspecified address, which connects here too."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return any(candidate.is_loopback or candidate.is_unspecified for candidate in filter(None, (address, mapped)))
