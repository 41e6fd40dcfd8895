"""The installed command, `agent-probe`: the invoke tasks of probe/tasks.py, run from any folder."""

import signal
import sys


def interrupted_while_loading(signum, frame):
    """Ctrl-C while the command loads: nothing has started that needs stopping, so it ends as every interrupted run
    does (exit 130), not with a traceback. The scripts take over from here."""
    sys.exit(130)


# Loading the project's modules takes a moment, longer on a busy machine; a background job's ignored Ctrl-C stays
# ignored. (tasks.py does the same for `invoke` in the checkout.)
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, interrupted_while_loading)

from importlib.metadata import version

from invoke import Program

from probe.common.paths import checkout
from probe.tasks import ns

if signal.getsignal(signal.SIGINT) is interrupted_while_loading:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # loaded: from here Ctrl-C is each script's to take

NAME = "agent-probe"


class ProbeProgram(Program):
    """invoke's Program over the bundled tasks; run from a checkout, it reads the checkout's invoke.yaml as `invoke`
    does there, so that its defaults (probe.target, probe.data_dir) hold in both."""

    def create_config(self) -> None:
        super().create_config()
        folder = checkout()
        if folder is not None:
            self.config.set_project_location(str(folder))
            self.config.load_project()


def main() -> None:
    ProbeProgram(namespace=ns, name=NAME, binary=NAME, version=version(NAME)).run()
