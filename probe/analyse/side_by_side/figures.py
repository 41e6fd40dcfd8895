"""One run's figures for the side-by-side table (probe.analyse.side_by_side.reading fills them): instructions and tools
at its fullest request, requests, tokens, prompt cache, sub-agents, hosts, telemetry, cost and wall time, and the
tool, header and host names that tell agents apart."""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass
class Figures:
    """What the table shows of one run; None where its report says nothing of it."""

    run: Path
    target: str = ""
    agent: str = ""  # the agent's version, as the manifest records it
    models: dict[str, int] = field(default_factory=dict)  # requests naming each model
    # The request that sent the most instruction and tool tokens (a request continuing a response by its id may send
    # none: the server kept them), whose row of the report's Context "By turn" table the figures below are.
    fullest_turn: int | None = None
    instruction_tokens: int | None = None
    instruction_blocks: int | None = None
    instruction_chars: int = 0  # of the distinct instruction blocks sent over the run, as the diff compares them
    tools: int | None = None  # declared in the fullest request, as the Context "By turn" table counts them
    tool_tokens: int | None = None
    tools_share: float | None = None  # over the run, as the Summary's Context line gives it
    requests: int = 0  # model requests, as the Agents section counts them
    tokens: dict[str, int | None] = field(default_factory=dict)  # by kind; None: no turn reported it
    cache_markers: int = 0  # cache markers on tools and instruction blocks, in the request that carried most
    cache_input: int = 0
    cache_read: int = 0
    cache_turns: int = 0  # turns that reported both input and cached tokens
    sub_agents: int = 0
    all_hosts: bool = False  # recorded with --all-hosts: every host the agent called went through the capture
    hosts: list[str] = field(default_factory=list)  # the other hosts met, in the order first met
    host_events: int = 0  # telemetry events the other hosts' bodies carried
    telemetry: str = "absent"  # the agent's own account: on, off, none, absent, missing
    telemetry_records: int | None = None  # its records received, when on
    cost_usd: Decimal | None = None
    priced_turns: int = 0
    unknown_turns: int = 0
    unknown_reason: str | None = None  # why turns have no price, the most frequent reason
    prices: str = ""  # the price file or database the cost comes from
    wall_s: float | None = None  # from the first request to the last answer, as the Time section gives it
    tool_names: set[str] = field(default_factory=set)
    header_names: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    @property
    def hit_rate(self) -> float | None:
        return self.cache_read / self.cache_input if self.cache_turns and self.cache_input else None
