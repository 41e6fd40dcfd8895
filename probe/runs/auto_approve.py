"""A target's `agent.auto_approve`: that its agent runs its tools without asking, and how to run it with its
approvals on instead (arguments of its command left out, variables set), which a replay of a run it does not trust
does (probe.replay.trust)."""

import dataclasses
from dataclasses import dataclass, field

KEYS = {
    "arguments": ("list of strings", False),
    "approvals_env": ("string mapping", False),
    "interactive": ("boolean", False),
}


@dataclass(frozen=True)
class AutoApprove:
    """The arguments of the agent's command that make it run its tools without asking (left out with approvals
    on), the variables that turn its approvals on where its default is to ask nobody (set with them on), and
    whether its own interactive UI runs its tools without asking too (`interactive`; else it asks the user there)."""

    arguments: tuple[str, ...] = ()
    approvals_env: dict[str, str] = field(default_factory=dict)
    interactive: bool = False

    def said(self) -> str:
        """How the target makes its agent auto-approve, in a few words: `--yolo`, or `by default`."""
        return " ".join(self.arguments) if self.arguments else "by default"


def parse_auto_approve(declared: object, command: list[str] | None, check) -> AutoApprove:
    """`agent.auto_approve`, checked by the target file's `check` (probe.runs.targets.Checker): each argument must
    be one of the command's (never its program); the variables are checked with the agent's other ones."""
    if not command:
        raise check.fail("agent.auto_approve", "there is no agent.command whose approvals it could describe")
    check.mapping(declared, KEYS, "agent.auto_approve")
    arguments = declared.get("arguments", [])
    for index, argument in enumerate(arguments):
        if argument not in command[1:]:
            where = f"agent.auto_approve.arguments[{index}]"
            raise check.fail(where, f"{argument!r} is not an argument of agent.command")
    return AutoApprove(tuple(arguments), dict(declared.get("approvals_env", {})), declared.get("interactive", False))


def with_approvals(target):
    """The target (probe.runs.targets.Target) with its agent's approvals on: the auto-approving arguments left
    out of its command, the variables that turn approvals on added to its environment. A target that does not
    auto-approve is returned as it is."""
    auto = target.auto_approve
    if auto is None:
        return target
    command = tuple(argument for argument in target.command[1:] if argument not in auto.arguments)
    env = {**target.env, **auto.approvals_env}
    return dataclasses.replace(target, command=target.command[:1] + command, env=env, auto_approve=None)
