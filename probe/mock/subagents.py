"""The sub-agent scenarios: which prompts ask the mock to spawn sub-agents, and the prompt each sub-agent gets.

A prompt containing TRIGGER ("spawn a sub-agent") makes the main agent spawn a child; the child's prompt, written
here, carries a marker with its depth, so its own requests make it spawn a grandchild; the grandchild does the
ordinary scenario (one harmless tool call, then an answer). A prompt asking to "spawn two sub-agents" (two to four,
in words or digits) makes the main agent spawn them all in one answer, side by side; each does the ordinary
scenario. Every decision is taken from the request alone.
"""

import re
from typing import NamedTuple

TRIGGER = "spawn a sub-agent"
LEVELS = 2  # a child and a grandchild: the least that shows a sub-agent with a parent of its own
# At the start of a line: a report that quotes a sub-agent's prompt (its answer, a notification) is no such prompt.
MARKER = re.compile(r"^\[agent-probe sub-agent (\d+) of (\d+)\]", re.MULTILINE)
COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
PARALLEL_TRIGGER = re.compile(rf"\bspawn ({'|'.join(COUNTS)}) sub-?agents\b", re.IGNORECASE)
# A parallel child's marker: its words differ from MARKER's, so the child spawns none of its own.
PARALLEL_MARKER = re.compile(r"^\[agent-probe parallel sub-agent (\d+) of (\d+)\]", re.MULTILINE)


def child_depth(prompt: str) -> int | None:
    """The depth of the sub-agent the agent given this prompt should spawn, or None when it spawns none."""
    found = MARKER.search(prompt)
    if found:
        depth, levels = int(found.group(1)), int(found.group(2))
        return depth + 1 if depth < levels else None
    return 1 if TRIGGER in prompt.lower() else None


def child_prompt(depth: int) -> str:
    """The task the mock hands the sub-agent at `depth`; its marker is what the sub-agent's requests are known by."""
    marker = f"[agent-probe sub-agent {depth} of {LEVELS}]"
    if depth < LEVELS:
        return f"{marker} Spawn one sub-agent of your own, wait for its answer, then report back."
    return f"{marker} Run one harmless tool, then report back."


def parallel_count(prompt: str) -> int:
    """How many sub-agents the agent given this prompt should spawn side by side: 0 for a sub-agent's own task
    (which carries a marker) or a prompt that asks for none."""
    if MARKER.search(prompt) or PARALLEL_MARKER.search(prompt):
        return 0
    found = PARALLEL_TRIGGER.search(prompt)
    return COUNTS[found.group(1).lower()] if found else 0


def parallel_prompt(number: int, count: int) -> str:
    """The task of the `number`th of `count` sub-agents spawned side by side: the ordinary scenario."""
    return f"[agent-probe parallel sub-agent {number} of {count}] Run one harmless tool, then report back."


class Spawn(NamedTuple):
    """One sub-agent to spawn: the task's name (codex's task_name), a short description (Claude Code's) and the
    task itself."""

    name: str
    description: str
    task: str


def spawned_tasks(prompt: str) -> list[Spawn]:
    """The sub-agents the agent given this prompt spawns in its first answer: none, the next of the chain, or
    several side by side."""
    count = parallel_count(prompt)
    if count:
        return [
            Spawn(
                f"probe_parallel_{number}", f"agent-probe parallel sub-agent {number}", parallel_prompt(number, count)
            )
            for number in range(1, count + 1)
        ]
    depth = child_depth(prompt)
    if depth is None:
        return []
    return [Spawn(f"probe_sub_agent_{depth}", f"agent-probe sub-agent {depth}", child_prompt(depth))]
