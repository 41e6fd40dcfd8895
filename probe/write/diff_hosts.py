"""The diff's section on other hosts (what the forward proxy recorded): the hosts only one run talked to, and for
the hosts both did, a change in their kind or in their number of requests."""

from probe.analyse.hosts.totals import OtherHosts
from probe.common import markdown as md


def hosts_section(a: OtherHosts, b: OtherHosts) -> list:
    """Empty when both runs talked to the same hosts as often (runs without a forward proxy among them)."""
    only_a = [host for name, host in a.hosts.items() if name not in b.hosts]
    only_b = [host for name, host in b.hosts.items() if name not in a.hosts]
    both = [(host, b.hosts[name]) for name, host in a.hosts.items() if name in b.hosts]
    changed = [(old, new) for old, new in both if (old.kind, old.requests) != (new.kind, new.requests)]
    if not (only_a or only_b or changed):
        return []
    lines = [md.Markdown("## Other hosts"), ""]
    for side, hosts in (("A", only_a), ("B", only_b)):
        lines += [
            md.Markdown("- Only in {}: {} ({}, {} request{})").format(
                md.Markdown(side),
                md.inline(host.name),
                host.kind,
                host.requests,
                md.Markdown("s" * (host.requests != 1)),
            )
            for host in hosts
        ]
    for old, new in changed:
        kind = (
            md.Markdown("{}").format(old.kind)
            if old.kind == new.kind
            else md.Markdown("{} → {}").format(old.kind, new.kind)
        )
        lines.append(
            md.Markdown("- {}: {}, requests {} → {}").format(md.inline(old.name), kind, old.requests, new.requests)
        )
    return lines + [""]
