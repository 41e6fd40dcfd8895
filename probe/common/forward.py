"""The forward channel's name (the listener --all-hosts adds) and what counts as this machine's own address."""

import ipaddress
import socket

# The proxy name the forward listener is recorded under; a target may not give a proxy of its own this name.
ALL_HOSTS = "all-hosts"
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host on this network" (RFC 1122)


def is_loopback(host: str) -> bool:
    """Whether a host, as a client names it, is this machine without asking a resolver: `localhost` (and any name
    under it), or an address in any spelling that reaches this machine (see `is_this_machine`), including the
    IPv4 forms the C library's inet_aton reads (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and is_this_machine(address)


def literal_address(host: str) -> str | None:
    """The address a host names by itself, in its usual spelling, or None for a name that needs resolving."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if not host or not host[0].isdigit():
        return None  # inet_aton reads a number first; a name (even `1e100.net`) is for the resolver
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_this_machine(address: str) -> bool:
    """Whether a connection to this address reaches this machine, or its link at most: loopback (IPv4's whole
    127/8, ::1), unspecified or "this network" (0/8, ::), link-local (169.254/16, where cloud metadata services
    answer, and fe80::/10), or any of these mapped into IPv6. This machine's address on its network is not among
    them: what listens there is open to the network anyway."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return any(
        candidate.is_loopback or candidate.is_unspecified or candidate.is_link_local or candidate in THIS_NETWORK
        for candidate in filter(None, (parsed, mapped))
    )
