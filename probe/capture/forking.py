"""What a fork hands the proxies (probe.capture.recorder.fork_switch): the flag file the replay's stand-in makes
once it has served the fork point, the upstream every request goes to from then on, and the model they ask for."""

from dataclasses import dataclass
from pathlib import Path

FORK_ADDON = Path(__file__).parent / "recorder" / "fork_switch.py"


@dataclass(frozen=True)
class ForkSwitch:
    flag: Path
    upstream: str
    model: str | None = None

    def script(self) -> list[str]:
        """The addon, for mitmdump's command line before the capture's: its hooks then run first, and the capture
        records each WebSocket message as it was rewritten (an HTTP request is recorded once answered)."""
        return ["-s", str(FORK_ADDON)]

    def options(self) -> list[str]:
        """Its options, for mitmdump's command line (no secret among them: --upstream refuses credentials)."""
        options = [f"probe_fork_flag={self.flag}", f"probe_fork_upstream={self.upstream}"]
        options += [f"probe_fork_model={self.model}"] if self.model else []
        return [part for option in options for part in ("--set", option)]
