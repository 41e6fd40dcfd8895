"""One version of an agent in one scenario, Make-style: a run that already shows it is reused, else the version is
installed and the run made by the pipeline, in a process of its own so that no failure stops the others."""

import subprocess
import sys
import tempfile
from pathlib import Path

from probe.common.errors import one_line
from probe.runs.folders import list_runs, read_manifest
from probe.runs.release_runs import COMPLETE, FAILED, INSTALL_FAILED, NOT_OFFERED, ReleaseRun
from probe.runs.targets import Target

from .scenarios import Scenario

# How a run that ended says so; `running` (still recorded, or killed with its watchdog) and `interrupted` (stopped,
# or past its timeout) did not end and are made again.
UNENDED = ("running", "interrupted")
MOCK = "mock"
# Beyond the agent's own --timeout, the time a run's capture and report may take before it is taken as stuck.
GRACE = 180.0
TAIL = 65_536  # bytes of the pipeline's stderr read back for its last line


def label(version: str, scenario: Scenario) -> str:
    """The run folder's label: `v0.169.0-answer`."""
    return f"v{version}-{scenario.name}"


def same_run(manifest: dict, version: str, scenario: Scenario) -> bool:
    """Whether a run's manifest shows this version playing this scenario, with its prompt and options, against the
    mock, and ended (completed or failed: either is an outcome; an interrupted one is not)."""
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    account = manifest.get("account") if isinstance(manifest.get("account"), dict) else {}
    telemetry = account.get("telemetry") if isinstance(account.get("telemetry"), dict) else {}
    return (
        manifest.get("scenario") == scenario.name
        and agent.get("requested_version") == version
        and manifest.get("prompt") == scenario.prompt
        and manifest.get("upstream_override") == MOCK
        and bool(manifest.get("all_hosts")) == scenario.all_hosts
        and (not scenario.agent_telemetry or telemetry.get("state") == "on")
        and isinstance(manifest.get("status"), str)
        and manifest["status"] not in UNENDED
    )


def reusable(target: Target, version: str, scenario: Scenario) -> Path | None:
    """The newest run of the target that already shows `version` in `scenario`, if any."""
    for run in reversed(list_runs(target.name)):
        manifest = read_manifest(run)
        if manifest is not None and same_run(manifest, version, scenario):
            return run
    return None


def outcome_of(target: Target, version: str, scenario: Scenario, run: Path, made: bool, said: str = "") -> ReleaseRun:
    """The row a run gives: complete, or failed with how its manifest says it ended (and the pipeline's last line)."""
    manifest = read_manifest(run) or {}
    status = manifest.get("status")
    if status == "complete":
        return ReleaseRun(target.name, version, scenario.name, COMPLETE, run, None, made)
    why = f"{status or 'no manifest'}, agent exit code {manifest.get('agent_exit_code')}"
    note = manifest.get("note")
    for more in (note if isinstance(note, str) else "", said):
        if more and more not in why:
            why += f": {more}"
    return ReleaseRun(target.name, version, scenario.name, FAILED, run, one_line(why), made)


class Player:
    """Plays scenarios with versions of one target: installs each version once, when a run of it must be made."""

    def __init__(self, target: Target, spec: str, timeout: float | None, remake: bool = False):
        self.target = target
        self.spec = spec  # the target as the command line named it: a name, or a target file's path
        self.timeout = timeout
        self.remake = remake
        self.installs: dict[str, str | None] = {}  # version -> why it could not be installed (None: installed)

    def play(self, version: str, scenario: Scenario) -> ReleaseRun:
        target = self.target
        if scenario.agent_telemetry and (target.telemetry is None or target.telemetry.none):
            # Its target file says why (agent.telemetry.none), or says nothing of it.
            why = target.telemetry.none if target.telemetry else "its target file names no telemetry to switch on"
            return ReleaseRun(target.name, version, scenario.name, NOT_OFFERED, None, one_line(why))
        found = None if self.remake else reusable(target, version, scenario)
        if found is not None:
            return outcome_of(target, version, scenario, found, made=False)
        problem = self.install(version)
        if problem is not None:
            return ReleaseRun(target.name, version, scenario.name, INSTALL_FAILED, None, problem)
        return self.make(version, scenario)

    def install(self, version: str) -> str | None:
        """Why `version` could not be installed (npm's or pip's reason, in one line), or None once it is: installed
        by `python -m probe.capture.agents`, as the pipeline would, but before the run, so that the two failures
        are told apart."""
        if version not in self.installs:
            argv = [sys.executable, "-m", "probe.capture.agents", f"{self.spec}@{version}"]
            said = ""
            with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, errors="replace") as installing:  # fmt: skip
                for line in installing.stderr:  # `installing … into …`, shown as it comes: npm may take minutes
                    if line.startswith("error:"):
                        said = one_line(line.removeprefix("error:").strip())  # the row says it
                    else:
                        print(line, end="", file=sys.stderr, flush=True)
            code = installing.returncode
            self.installs[version] = (said or f"exited with {code}") if code else None
        return self.installs[version]

    def make(self, version: str, scenario: Scenario) -> ReleaseRun:
        """A new run of `version` in `scenario`, made by `python -m probe.pipeline` in a process of its own."""
        target = self.target
        before = set(list_runs(target.name))
        argv = [sys.executable, "-m", "probe.pipeline", "--target", self.spec, "--upstream", MOCK, "--prompt",
                scenario.prompt, "--agent-version", version, "--label", label(version, scenario), "--scenario",
                scenario.name, "--quiet"]  # fmt: skip
        argv += ["--timeout", f"{self.timeout:g}"] if self.timeout is not None else []
        argv += ["--all-hosts"] if scenario.all_hosts else []
        argv += ["--agent-telemetry"] if scenario.agent_telemetry else []
        with tempfile.TemporaryFile() as errors:
            try:
                subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                               timeout=None if self.timeout is None else self.timeout + GRACE)  # fmt: skip
                said = last_line(errors)
            except subprocess.TimeoutExpired:
                said = f"the pipeline did not end within {self.timeout + GRACE:g} s and was stopped"
        made = [
            run
            for run in list_runs(target.name)
            if run not in before and same_made(read_manifest(run), version, scenario)
        ]
        if not made:
            why = f"no run was made: {said}" if said else "no run was made"
            return ReleaseRun(target.name, version, scenario.name, FAILED, None, one_line(why), True)
        return outcome_of(target, version, scenario, made[-1], made=True, said=said)


def same_made(manifest: dict | None, version: str, scenario: Scenario) -> bool:
    """Whether a new run folder is the one this pipeline made (however it ended)."""
    agent = manifest.get("agent") if manifest and isinstance(manifest.get("agent"), dict) else {}
    return bool(manifest) and manifest.get("scenario") == scenario.name and agent.get("requested_version") == version


def last_line(output) -> str:
    """The last line a script wrote on stderr, without its `error:` prefix."""
    size = output.seek(0, 2)
    output.seek(max(0, size - TAIL))
    lines = [line.strip() for line in output.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return one_line(lines[-1].removeprefix("error:").strip()) if lines else ""
