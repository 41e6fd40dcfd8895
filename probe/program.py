"""The installed command, `agent-probe`: the invoke tasks of probe/tasks/, gathered here, run from any folder."""

import itertools
import re
import shlex
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

from invoke import Collection, Exit, ParseError, Program

from probe.common.errors import one_line
from probe.common.paths import checkout
from probe.tasks import analyze, bench, capture, diff, export, import_, pipeline, proxies, samples, targets, view
from probe.tasks.compare import compare
from probe.tasks.fork import replay
from probe.tasks.releases import releases
from probe.tasks.resend import resend
from probe.tasks.team import lake, publish, sql

# The handler stays until the task's script has loaded (probe.tasks.calls.load hands Ctrl-C to the script): a Ctrl-C
# while invoke parses the command line and calls the task would otherwise reach invoke's own handler, which ends the
# run with exit 1 and says nothing.

# Every task, gathered here rather than in probe/tasks/__init__.py: there it would be a link between this command and
# each task, in the longest chain of imports (tests/project/test_house.py). tasks.py at the checkout's root hands
# this same collection to `invoke`.
ns = Collection(
    proxies, capture, analyze, view, export, sql, publish, lake, diff, compare, pipeline, replay, resend, import_,
    releases, targets, samples, bench,
)  # fmt: skip
# The documented defaults live in invoke.yaml; these only make the keys exist if it is gone.
ns.configure({"probe": {"target": None, "data_dir": None}})

NAME = "agent-probe"
# invoke's core options that mean something here: help, version, the task list, shell completion and a
# configuration file (its probe.target and probe.data_dir). The others (--pty, --echo, --dry, --warn-only, --hide,
# --prompt-for-sudo-password, ...) shape the shell commands a task runs with c.run, and no task of ours runs one.
# invoke's answer to a word it takes for neither an option nor a task (`agent-probe compare A B`).
STRAY = re.compile(r"No idea what (.*) is!", re.DOTALL)  # the word as Python's repr writes it
CORE_OPTIONS = ("complete", "config", "help", "list", "list-format", "print-completion-script", "version")


class ProbeProgram(Program):
    """invoke's Program over the bundled tasks; run from a checkout, it reads the checkout's invoke.yaml as `invoke`
    does there, so that its defaults (probe.target, probe.data_dir) hold in both. Only the core options that apply
    are shown or taken (CORE_OPTIONS); the rest are kept at their defaults, which invoke itself reads."""

    def create_config(self) -> None:
        super().create_config()
        folder = checkout()
        if folder is not None:
            self.config.set_project_location(str(folder))
            self.config.load_project()

    def print_help(self) -> None:
        """invoke's help, with only the core options that apply."""
        applying = {self.initial_context.help_for(f"--{name}") for name in CORE_OPTIONS}
        print(f"Usage: {self.binary} [--core-opts] <subcommand> [--subcommand-opts] ...")
        print("")
        print("Core options:")
        print("")
        self.print_columns([pair for pair in self.initial_context.help_tuples() if pair in applying])
        self.list_tasks()

    def parse_tasks(self) -> None:
        """A run given where a task takes it as an option (`compare A B`) is answered with the form it wants."""
        try:
            super().parse_tasks()
        except ParseError as error:
            context, stray = error.context, STRAY.fullmatch(str(error))
            if context is None or stray is None or "run" not in context.args:
                raise
            # The stray word and the plain words after it, each a run the user meant (`compare A B`).
            words = self.core.unparsed
            first = next((at for at, word in enumerate(words) if repr(word) == stray.group(1)), len(words))
            runs = list(itertools.takewhile(lambda word: not word.startswith("-"), words[first:]))
            if not runs:
                raise
            # (after the words the task takes in place, `lake remove`'s action)
            given = [shlex.quote(one_line(str(arg.value))) for arg in context.positional_args if arg.value]
            wanted = " ".join([*given, *(f"--run {shlex.quote(one_line(run))}" for run in runs)])
            raise Exit(f"error: {NAME} {context.name} takes its runs as options: {NAME} {context.name} {wanted} (see "
                       f"{NAME} {context.name} --help)", 2) from None  # fmt: skip

    def parse_core_args(self) -> None:
        """A core option that does not apply is refused in one line, not taken without effect."""
        super().parse_core_args()
        for name, argument in self.core[0].args.items():
            if argument.got_value and name not in CORE_OPTIONS:
                raise Exit(f"error: --{name} is an option of invoke's that {NAME} does not use (see {NAME} --help)", 2)


def main() -> None:
    from importlib.metadata import version  # (here: `invoke`, which takes `ns` from this module, needs no version)

    ProbeProgram(namespace=ns, name=NAME, binary=NAME, version=version(NAME)).run()
