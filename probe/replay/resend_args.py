"""`invoke resend`'s options: the run and the request, where it goes, and the edits, kept in the order given (an edit
may build on the one before: a tool added, then a field of it set)."""

import argparse
import math

from probe.apis.request_edits import Edit
from probe.common import cli

MOST_REPEATS = 50  # sends of one request: more is a load test, not a what-if


class EditAction(argparse.Action):
    """Appends the option as an Edit to `edits`, in command-line order; a flag (nargs=0) has no value."""

    def __call__(self, parser, namespace, values, option_string=None):
        edits = list(getattr(namespace, "edits", None) or [])
        edits.append(Edit(self.dest, None if self.nargs == 0 else str(values)))
        namespace.edits = edits


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if not 1 <= value <= MOST_REPEATS:
        raise argparse.ArgumentTypeError(f"from 1 to {MOST_REPEATS}")
    return value


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):  # (JSON has no NaN or infinity: the request would not be JSON)
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a finite number")
    return value


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m probe.replay.resend", description=description)
    parser.add_argument("--run", required=True, metavar="RUN", help="the recorded run: `latest`, a folder name or path")
    parser.add_argument(
        "--turn",
        required=True,
        type=whole,
        metavar="N",
        help="the request to re-send: its exchange number (the `n` of turns.jsonl and the SQL views)",
    )
    parser.add_argument("--target", metavar="NAME|FILE", help="the run's target (default: the one its manifest names)")
    parser.add_argument("--upstream", metavar="mock|URL",
                        help="send it to the bundled mock model or to this URL (default: the target's own upstream, "
                        "the real API)")  # fmt: skip
    parser.add_argument("--repeat", type=count, default=1, metavar="K", help="send it K times and show the spread")
    parser.add_argument("--yes", action="store_true", help="send without asking")
    parser.add_argument("--prices", metavar="FILE", help="a price file (models' prices per million tokens)")
    parser.add_argument("--label", default="resend", metavar="TEXT", help="added to the new run folder's name")
    parser.add_argument("--timeout", type=cli.seconds, default=None, metavar="SECONDS", help="stop sending then")
    edits = parser.add_argument_group("edits, made in the order given")
    edits.add_argument("--model", action=EditAction, metavar="M", help="ask another model")
    edits.add_argument("--instructions", action=EditAction, metavar="TEXT|@FILE",
                       help="replace the instructions (system prompt) with this text, or a file's")  # fmt: skip
    edits.add_argument("--no-instructions", action=EditAction, nargs=0, help="remove the instructions")
    edits.add_argument("--drop-tool", action=EditAction, metavar="NAME", help="remove this tool (repeatable)")
    edits.add_argument("--add-tool", action=EditAction, metavar="JSON|@FILE",
                       help="add a tool, defined as the API defines its tools (repeatable)")  # fmt: skip
    edits.add_argument("--drop-history", action=EditAction, metavar="ITEMS",
                       help="remove history items, numbered from 1 (instructions not counted): 3, 2-5, 4-, "
                       "1,3")  # fmt: skip
    edits.add_argument("--temperature", action=EditAction, type=number, metavar="T")
    edits.add_argument("--max-tokens", action=EditAction, type=whole, metavar="N", help="the answer's token limit")
    edits.add_argument("--top-p", action=EditAction, type=number, metavar="P")
    edits.add_argument("--top-k", action=EditAction, type=whole, metavar="K")
    edits.add_argument("--set", action=EditAction, metavar="PATH=JSON",
                       help="set a field of the body by its JSON path: generationConfig.topK=5, "
                       "tools[0].name='\"x\"'")  # fmt: skip
    edits.add_argument("--unset", action=EditAction, metavar="PATH", help="remove a field of the body")
    parser.set_defaults(edits=[])
    args = parser.parse_args(argv)
    if args.turn < 1:
        parser.error("--turn: exchanges are numbered from 1")
    return args
