"""The report's section on other hosts (what the forward proxy recorded, and every request that is no model call,
probe.analyse.model_calls): each host, its kind, its requests by
method and path, the bytes each way, the errors met, and the telemetry events its bodies carried, counted by name."""

from collections import Counter

from probe.analyse.hosts.totals import Host, OtherHosts
from probe.common import markdown as md
from probe.common.counting import counted

EVENTS_SHOWN = 40  # event names listed per host, the most frequent first; the rest are counted
PATHS_SHOWN = 20  # a host's requests listed by method and path, the most frequent first; the rest are counted


def hosts_section(hosts: OtherHosts) -> list[str]:
    """The section's lines; none when the run recorded no other host (its report is then as it always was)."""
    if not hosts:
        return []
    listed = list(hosts.hosts.values())
    requests = sum(host.requests for host in listed)
    lines: list[str] = [
        "", "## Other hosts", "",
        f"{counted(requests, 'request')} to {counted(len(listed), 'host')} besides the model API's calls: other hosts "
        "the forward proxy reached, and requests no API reader recognises as a model call (a price or model list "
        "fetched, traces uploaded, telemetry); none of them is a turn of the conversation.",
        "",
    ]  # fmt: skip
    rows = [
        [md.inline(host.name), host.kind, host.requests, md.tally(dict(host.methods.most_common())),
         f"{host.sent:,}", f"{host.received:,}", sum(host.errors.values()),
         sum(host.events.values()) + host.events_more]
        for host in listed
    ]  # fmt: skip
    lines.append(md.table(["host", "kind", "requests", "methods", "bytes sent", "bytes received", "errors", "events"],
                          rows))  # fmt: skip
    for host in listed:
        lines += host_details(host)
    return lines


def host_details(host: Host) -> list[str]:
    """A host's requests by path, its errors, events and notes."""
    lines: list[str] = ["", md.Markdown("### {}").format(md.inline(host.name)), ""]
    shown, more = listed(host.paths, PATHS_SHOWN, host.requests - sum(host.paths.values()))
    asked = md.Markdown(", ").join(md.Markdown("{} ×{}").format(md.inline(path), count) for path, count in shown)
    lines.append(md.Markdown("- Requests: {}{}").format(asked, f" and {more:,} more" if more else ""))
    if len(host.kinds) > 1:
        lines.append(md.Markdown("- Kinds: {}").format(md.tally(dict(host.kinds.most_common()))))
    for error, count in host.errors.most_common():
        lines.append(md.Markdown("- Error ×{}: {}").format(count, md.inline(error)))
    if host.events or host.events_more:
        named, more = listed(host.events, EVENTS_SHOWN, host.events_more)
        events = md.Markdown(", ").join(md.Markdown("{} ×{}").format(md.inline(name), count) for name, count in named)
        tail = f" and {more:,} more" if more else ""
        lines.append(md.Markdown("- Events: {}{}").format(events, tail))
    for note in host.notes:
        lines.append(md.Markdown("- Not decoded: {}").format(note))
    return lines


def listed(counter: Counter, shown: int, uncounted: int = 0) -> tuple[list[tuple[str, int]], int]:
    """The `shown` most frequent of a count, and how many times the rest occurred (with `uncounted`: those past the
    count's bounds)."""
    named = counter.most_common(shown)
    return named, sum(counter.values()) - sum(count for _, count in named) + uncounted


def hosts_rows(hosts: OtherHosts, mask) -> list[list]:
    """The viewer's table of other hosts, as plain text (the page shows it as text, never as markup): each host,
    its kind, requests, methods, bytes each way, its errors and its events, with their counts; `mask` masks what
    was captured."""
    rows = []
    for host in hosts.hosts.values():
        named, more = listed(host.events, EVENTS_SHOWN, host.events_more)
        events = ", ".join(f"{name} ×{count}" for name, count in named) + (f" and {more:,} more" if more else "")
        errors = "; ".join(f"{error} ×{count}" for error, count in host.errors.most_common())
        methods = ", ".join(f"{method} ×{count}" for method, count in host.methods.most_common())
        kinds = ", ".join(f"{kind} ×{count}" for kind, count in host.kinds.most_common()) if len(host.kinds) > 1 else ""
        rows.append([mask(host.name), host.kind + (f" ({kinds})" if kinds else ""), host.requests, mask(methods),
                     host.sent, host.received, mask(errors), mask(events)])  # fmt: skip
    return rows
