"""What every invoke task shares: one short flag per option, and the script's arguments and call."""

import importlib
import os
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from invoke import Exit, Task

from probe.common.errors import run_main
from probe.common.paths import checkout

# One letter, one option, in every task that has it. Invoke would otherwise give each option the first free letter
# of its name, task by task: `-i` was --timeout in pipeline and --input in analyze.
SHORT_FLAGS = {"target": "t", "prompt": "p", "run": "r", "label": "l", "input": "i", "output": "o", "upstream": "u"}


class ProbeTask(Task):
    """A task whose short flags come from SHORT_FLAGS alone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "auto_shortflags": False})

    def arg_opts(self, name, default, taken_names):
        options = super().arg_opts(name, default, taken_names)
        if name in SHORT_FLAGS:
            options["names"] = [*options["names"], SHORT_FLAGS[name]]
        return options


def interrupted_while_loading(signum, frame):
    """Ctrl-C while a script loads: nothing has started that needs stopping, so the run ends as every interrupted
    run does (exit 130), as when tasks.py loads. (A KeyboardInterrupt raised inside an import, even once caught,
    can make Python end itself by SIGINT at exit.)"""
    sys.exit(130)


def load(module: str):
    """The script's module, imported with Ctrl-C taken as interrupted_while_loading (tasks.py and the installed
    command take it so from their own start until here)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return importlib.import_module(module)  # a background job's ignored Ctrl-C stays ignored
    signal.signal(signal.SIGINT, interrupted_while_loading)
    try:
        return importlib.import_module(module)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # loaded: from here Ctrl-C is the script's to take


def script(module: str, function: str = "main") -> Callable[[list[str] | None], int]:
    """The script's `function`, imported only when a task calls it: `invoke --list`, and each task, then load only
    the scripts they run (loading every one took about 0.4 s of each `invoke`)."""

    def main(argv: list[str] | None = None) -> int:
        return getattr(load(module), function)(argv)

    main.__qualname__ = main.__name__ = f"{module}.{function}"
    return main


def script_argv(**options) -> list[str]:
    """The script's arguments for the options given: `--name VALUE`, `--name` for a flag that is on, one
    `--name VALUE` per item of a list. Options left at None, False or "" are not passed: the script's own
    defaults apply."""
    argv = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            argv += [part for item in value for part in (flag, str(item))]
        elif value not in (None, False, ""):
            argv += [flag, str(value)]
    return argv


def call(c, main, argv: list[str]) -> None:
    """Run a script's main with the data folder invoke.yaml names (unless PROBE_DATA_DIR says otherwise); a
    failure exits with the script's code, its one-line reason already printed."""
    if c.config.probe.data_dir and "PROBE_DATA_DIR" not in os.environ:
        # Relative to invoke.yaml's folder, the checkout; installed, to the folder the command runs in.
        os.environ["PROBE_DATA_DIR"] = str((checkout() or Path.cwd()) / Path(c.config.probe.data_dir).expanduser())
    code = run_main(main, argv)
    if code:
        raise Exit(code=code)


def agent_arguments(c) -> list[str]:
    """What followed a standalone `--` on the command line, for the agent: taken from the command line itself, as
    invoke keeps it only as one string (c.remainder), with the quoting gone."""
    if not c.remainder:
        return []
    return ["--", *sys.argv[sys.argv.index("--") + 1 :]] if "--" in sys.argv else ["--", *shlex.split(c.remainder)]


def target_or_default(c, target: str | None) -> str:
    """--target, else `probe.target` from invoke.yaml, so that a project sets its usual agent once."""
    chosen = target or c.config.probe.target
    if not chosen:
        from probe.runs.targets import known_targets  # (only for this message: loading targets takes a moment)

        raise Exit(f"error: --target is required (known targets: {', '.join(known_targets())})", code=2)
    return chosen
