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

if signal.getsignal(signal.SIGINT) is interrupted_while_loading:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # loaded: from here Ctrl-C is each script's to take
