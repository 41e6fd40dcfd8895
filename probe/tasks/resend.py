"""The task that re-sends one recorded request, edited, and compares the answers with the recorded one."""

from invoke import task

from probe.tasks.calls import ProbeTask, call, script, script_argv

HELP = {
    "run": "RUN: the recorded run: `latest`, a run folder name, or a run folder path",
    "turn": "N: the request to re-send, by its exchange number (the `n` of turns.jsonl and the SQL views)",
    "target": "NAME|FILE: the run's target (default: the target in targets/ its manifest names)",
    "upstream": "mock|URL: send it to the bundled mock model, or to this URL (default: the target's own upstream, "
    "the real API, with your key from the environment)",
    "repeat": "K: send it K times and show the spread (min, median, max; distinct answers)",
    "yes": "send without asking",
    "prices": "FILE: a price file, for models the price database does not know",
    "label": "TEXT: added to the new run folder's name (default: resend)",
    "timeout": "SECONDS: stop sending after this long",
    "model": "M: ask another model (Gemini: in the URL path)",
    "instructions": "TEXT: replace the instructions (system prompt) with this text (@FILE: with a file's)",
    "no_instructions": "remove the instructions",
    "drop_tool": "NAME: remove this tool (repeatable)",
    "add_tool": "JSON: add a tool, defined as the request's API defines its tools (@FILE: read from a file; "
    "repeatable)",
    "drop_history": "ITEMS: remove history items, numbered from 1, instructions not counted: 3, 2-5, 4-, 1,3 "
    "(repeatable)",
    "temperature": "T: the sampling temperature",
    "max_tokens": "N: the answer's token limit",
    "top_p": "P: nucleus sampling",
    "top_k": "K: top-k sampling (Anthropic, Gemini)",
    "set": "PATH=JSON: set a field of the body by its JSON path, e.g. generationConfig.topK=5 (repeatable)",
    "unset": "PATH: remove a field of the body (repeatable)",
}


@task(klass=ProbeTask, iterable=["drop_tool", "add_tool", "drop_history", "set", "unset"], help=HELP)
def resend(c, run=None, turn=None, target=None, upstream=None, repeat=None, yes=False, prices=None, label=None,
           timeout=None, model=None, instructions=None, no_instructions=False, drop_tool=None, add_tool=None,
           drop_history=None, temperature=None, max_tokens=None, top_p=None, top_k=None, set=None,
           unset=None):  # fmt: skip
    """Re-send one recorded request, edited, as a small run of its own; compare its answers with the recorded one.

    The request is shown first (masked: model, instructions, tools, history, bytes, the edits) with its estimated
    cost, and sent once you confirm (--yes: at once). The answers are put beside the recorded one: tokens, cache
    reads and writes, cost, tool calls and the text as a diff, in the new run's resend.md. The edits are made in
    this order: model, instructions, tools dropped, tools added, history, sampling, --set, --unset.
    """
    options = dict(run=run, turn=turn, target=target, upstream=upstream, repeat=repeat, yes=yes, prices=prices)
    options.update(label=label, timeout=timeout, model=model, instructions=instructions)
    options.update(no_instructions=no_instructions, drop_tool=drop_tool, add_tool=add_tool, drop_history=drop_history)
    options.update(temperature=temperature, max_tokens=max_tokens, top_p=top_p, top_k=top_k, set=set, unset=unset)
    call(c, script("probe.replay.resend"), script_argv(**options))
