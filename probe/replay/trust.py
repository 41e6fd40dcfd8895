"""Whether a replay may start its agent, decided and said before anything runs. The agent carries out the tool calls the
recorded answers make (shell commands, file writes), with what its mcp.jsonl says the MCP servers answered, as the
user running the replay. A run recorded on this machine (signed by its capture: probe.runs.provenance) of a target whose
agent asks before its tools replays as it is; any other, a run from elsewhere or one of an agent that auto-approves its
tools (agent.auto_approve), runs only with --trust, or with the agent's approvals on (--approvals:
probe.runs.auto_approve.with_approvals)."""

import os
import pwd
import sys
from dataclasses import dataclass
from pathlib import Path

from probe.common.cli import FRESH
from probe.common.errors import UsageError, one_line
from probe.common.paths import display
from probe.runs import provenance
from probe.runs.auto_approve import with_approvals
from probe.runs.targets import Target

RECORDED_HERE, TRUSTED, APPROVALS_ON = "recorded here", "trusted (--trust)", "approvals on (--approvals)"
NO_MCP_RECORD = "none"  # the run was signed without an mcp.jsonl: none may be served from


@dataclass(frozen=True)
class Permit:
    """How the replay runs: the target its agent runs as, why it may (the new manifest's `replay.trust`), the
    sha256 the stand-in must find its capture to have (when the signature over it is what lets the replay run),
    what to say just before the agent starts, and whether what the run's manifest says of the agent (the version to
    install and run, the prompt it is given) may be used: only for a run recorded here, or one the user trusts."""

    target: Target
    why: str
    traffic_sha256: str | None = None
    note: str | None = None
    vouched: bool = False
    mcp_sha256: str | None = None  # with traffic_sha256: the signed mcp.jsonl's, NO_MCP_RECORD when none was signed

    def say(self) -> None:
        if self.note:
            print(f"replay: {one_line(self.note)}", file=sys.stderr, flush=True)


def permit(run: Path, manifest: dict, target: Target, trust: bool, approvals: bool, workdir: str) -> Permit:
    """The permit to replay `run`; a UsageError that says what the replay would do, and how to let it, if none."""
    here = provenance.recorded_here(manifest)
    auto = target.auto_approve
    if approvals:
        if auto is not None and not auto.arguments and not auto.approvals_env:
            raise UsageError(
                f"--approvals: {target.name}'s agent runs its tools without asking, and its target file gives no way "
                "to run it with its approvals on (agent.auto_approve names no arguments or variables): give --trust"
            )
        return Permit(with_approvals(target), APPROVALS_ON, note=f"approvals on: {approvals_on(target)}", vouched=here)
    if trust:
        note = f"--trust: {what_it_does(run, target, workdir)}" if not here or auto is not None else None
        return Permit(target, TRUSTED, note=note, vouched=True)
    if here and auto is None:
        signed_mcp = manifest.get(provenance.MCP_DIGEST)
        mcp_sha256 = signed_mcp if isinstance(signed_mcp, str) else NO_MCP_RECORD
        return Permit(target, RECORDED_HERE, manifest["traffic_sha256"], vouched=True, mcp_sha256=mcp_sha256)
    reasons = [] if here else [f"{display(run)} was not recorded on this machine (no signature of this machine's)"]
    if auto is not None:
        reasons.append(f"{target.name}'s agent runs its tools without asking ({auto.said()})")
    if auto is not None and not auto.arguments and not auto.approvals_env:
        way = f"its target file gives no way to run {agent_program(target)} with its approvals on"
        raise UsageError(
            f"replay refused: {' and '.join(reasons)}. Replaying it, {what_it_does(run, target, workdir)}. Give "
            f"--trust if you trust where the run came from ({way})"
        )
    raise UsageError(
        f"replay refused: {' and '.join(reasons)}. Replaying it, {what_it_does(run, target, workdir)}. Give --trust "
        f"if you trust where the run came from, or --approvals to run the agent with its approvals on: "
        f"{approvals_on(target)}"
    )


def what_it_does(run: Path, target: Target, workdir: str) -> str:
    """What a replay does, in plain words."""
    where = "a new empty folder" if workdir == FRESH else display(Path(workdir))
    return (
        f"{agent_program(target)} carries out the tool calls the recorded answers of "
        f"{display(run)} make (shell commands, file writes, whatever its tools do) as {user()}, in {where}"
    )


def approvals_on(target: Target) -> str:
    """What --approvals changes for this target's agent, in plain words."""
    auto, program = target.auto_approve, agent_program(target)
    if auto is None:
        return (
            f"{program} runs as its target runs it, which keeps it from changing anything without an approval nobody "
            "is there to give (tools that only read still run)"
        )
    changes = [f"without {' '.join(auto.arguments)}"] if auto.arguments else []
    changes += [f"with {name} set" for name in auto.approvals_env]
    return (
        f"{program} runs {' and '.join(changes)}, and refuses the tool calls that need approval (the replay may "
        "diverge then)"
    )


def agent_program(target: Target) -> str:
    return target.command[0] if target.command else target.name


def user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"user {os.getuid()}"
