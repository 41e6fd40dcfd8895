"""The sub-agent scenario: which prompts ask the mock to spawn a sub-agent, and the prompt each sub-agent gets.

A prompt containing TRIGGER ("spawn a sub-agent") makes the main agent spawn a child; the child's prompt, written
here, carries a marker with its depth, so its own requests make it spawn a grandchild; the grandchild does the
ordinary scenario (one harmless tool call, then an answer). Every decision is taken from the request alone.
"""

import re

TRIGGER = "spawn a sub-agent"
LEVELS = 2  # a child and a grandchild: the least that shows a sub-agent with a parent of its own
# At the start of a line: a report that quotes a sub-agent's prompt (its answer, a notification) is no such prompt.
MARKER = re.compile(r"^\[agent-probe sub-agent (\d+) of (\d+)\]", re.MULTILINE)


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
