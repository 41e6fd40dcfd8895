"""The thread (the agent, main or sub-agent) each request of a replay belongs to, named from its headers by the
rules the analysis groups a run's agents by (probe.analyse.agents), for the recorded requests and the new ones."""

from dataclasses import dataclass

from probe.analyse.agents import Senders, label_in, names_sender


@dataclass(frozen=True)
class Thread:
    """The agent that sent a request: its id in its run (fresh in every run but for the main agent's), its
    parent's id (None for a main agent), and the name its requests give it where they give one (a name the
    recorded run and its replay share, as the ids are not)."""

    id: str
    parent: str | None = None
    label: str | None = None


class ThreadNames:
    """Names the thread of each request of one run; fed in the order the requests came (the first session named
    is the run's main one)."""

    def __init__(self) -> None:
        self.senders = Senders()

    def of(self, headers: list[tuple[str, str]]) -> Thread | None:
        """None for a request whose headers name neither an agent nor a session: a replay matches it by its key
        alone, as it did before threads were told apart."""
        if not names_sender(headers):
            return None
        own, parent = self.senders.sender(headers)
        return Thread(own, parent, label_in(headers))
