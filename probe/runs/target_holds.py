"""What a target's file lets a run do with its agent (logins, own home, its telemetry, hooks, MCP, other hosts,
replay, its UI), said once for `invoke targets` and the README's table of agents."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Holds:
    """One run option or way of working, and whether the target's agent takes it (and why not, where it says)."""

    name: str  # as `invoke targets` says it
    short: str  # as the README's table says it
    holds: bool
    why_not: str = ""


def what_holds(target) -> list[Holds]:
    """Each option's answer for `target` (a probe.runs.targets.Target), in a fixed order."""
    if not target.command:  # a --command client: only what the proxies do holds
        return [Holds("other hosts (--all-hosts)", "all hosts", True), Holds("replay", "replay", True)]
    telemetry = target.telemetry
    return [
        Holds(
            "logins " + ", ".join(login.name for login in target.logins),
            "logins " + ", ".join(login.name for login in target.logins),
            bool(target.logins),
        ),
        Holds("your own home's login (--home own)", "own home's login", own_home_login(target)),
        Holds(
            "its own telemetry (--agent-telemetry)",
            "its telemetry",
            telemetry is not None and not telemetry.none,
            telemetry.none if telemetry is not None else "",
        ),
        Holds("hooks (--hooks)", "hooks", target.hooks is not None),
        Holds("MCP servers (--mcp-server)", "MCP", target.mcp is not None),
        Holds("other hosts (--all-hosts)", "all hosts", True),
        Holds("replay", "replay", True),
        Holds("its own UI (a run without --prompt)", "its UI", bool(target.interactive)),
    ]


def own_home_login(target) -> bool:
    """Whether a run with --home own finds a login in the user's own home (else its key comes from the
    environment, and the own home brings only the user's settings)."""
    ways = [*target.requires, *(way for login in target.logins for way in login.requires)]
    return any(way.home == "own" for way in ways)


def holds_lines(target) -> list[str]:
    """`invoke targets`'s two lines: what holds, and what does not (with the file's reason, where it gives one)."""
    answers = what_holds(target)
    lines = ["  holds: " + "; ".join(answer.name for answer in answers if answer.holds)]
    missing = [
        f"{answer.name}: {answer.why_not}" if answer.why_not else answer.name
        for answer in answers
        if not answer.holds and not answer.name.startswith("logins ")
    ]
    if missing:
        lines.append("  not offered: " + "; ".join(missing))
    return lines


def holds_summary(target) -> str:
    """The README's cell: what holds, shortly."""
    return "; ".join(answer.short for answer in what_holds(target) if answer.holds)
