"""What only one of the agents compared has: a tool it declares, a request header it sends, a host it calls."""

from collections import Counter
from dataclasses import dataclass, field

from probe.analyse.side_by_side.figures import Figures

# Headers every HTTP client sends in some form, or that differ only by transport: naming them as one agent's own
# would say nothing about the agent.
TRANSPORT_HEADERS = frozenset({"accept", "accept-encoding", "connection", "content-length", "content-type", "host",
                               "upgrade", "sec-websocket-extensions", "sec-websocket-key", "sec-websocket-version",
                               "user-agent"})  # fmt: skip


@dataclass
class Unique:
    """The names one agent has that no other agent in the table has, each sorted."""

    tools: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tools or self.headers or self.hosts)


def unique_to_each(agents: dict[str, Figures]) -> dict[str, Unique]:
    """For each agent (by its column's name), what none of the others has. Hosts are compared only among the runs
    that recorded every host (--all-hosts): a run without it saw only the hosts reached through the model's proxy."""
    tools = only_in({name: figures.tool_names for name, figures in agents.items()})
    headers = only_in({name: figures.header_names - TRANSPORT_HEADERS for name, figures in agents.items()})
    hosts = only_in({name: set(figures.hosts) for name, figures in agents.items() if figures.all_hosts})
    return {name: Unique(tools[name], headers[name], hosts.get(name, [])) for name in agents}


def only_in(names: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each set's names that no other set holds; nothing is unique where there is only one set to compare."""
    if len(names) < 2:
        return {key: [] for key in names}
    seen = Counter(name for each in names.values() for name in each)
    return {key: sorted(name for name in each if seen[name] == 1) for key, each in names.items()}
