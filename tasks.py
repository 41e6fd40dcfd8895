"""The checkout's invoke tasks (`invoke --list`): they are defined in probe/tasks/ and gathered in probe/program.py;
this file only lets invoke find them from the checkout, with invoke.yaml beside it."""

import signal
import sys


def interrupted_while_loading(signum, frame):
    """Ctrl-C while invoke loads this file: nothing has started that needs stopping, so the run ends as every
    interrupted run does (exit 130), not in invoke's own handler (exit 1). The scripts take over from here."""
    sys.exit(130)


# Loading the project's modules takes a moment, longer on a busy machine; a background job's ignored Ctrl-C stays
# ignored.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, interrupted_while_loading)

from probe.program import ns  # noqa: F401  (invoke takes the tasks from `ns`)

# The handler stays until the task's script has loaded (probe.tasks.calls.load hands Ctrl-C to the script): a Ctrl-C
# while invoke parses the command line and calls the task would otherwise reach invoke's own handler, which ends the
# run with exit 1 and says nothing.
