"""Re-sends one recorded request, edited, and compares the answers with the recorded one (`python -m
probe.replay.resend --run RUN --turn N [edits…]`, `invoke resend`). The request is read as masked on disk, edited
(probe.apis.edit_families), shown with its estimated cost, and, once confirmed, sent through a reverse proxy of the
run's target, recorded as a capture records (a run of its own, labelled `resend`, whose manifest names its origin);
its resend.md puts each answer beside the recorded one. Masked secrets are sent as their masks; a key comes from the
environment only."""

import hashlib
import json
import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from probe.analyse.prices import MOCK_PRICES, PRICES_ENV, price_book
from probe.analyse.resend_numbers import Estimate, answer, estimate, spread
from probe.analysis.report import analyze_run
from probe.apis.edit_families import Family, apply_edits, family_of
from probe.apis.request_edits import Edit, read_tool
from probe.apis.turns import Reading
from probe.capture.run import CaptureResult, capture
from probe.capture.upstreams import is_local
from probe.common import markdown as md
from probe.common.bounded_read import read_at_most
from probe.common.counting import counted
from probe.common.errors import RunError, UsageError, inert_lines, one_line, run_main
from probe.common.paths import display
from probe.read.traffic import Body, Exchange, iter_exchanges
from probe.redact.masking import mask_text
from probe.redact.replacing import ANY_MASK
from probe.replay.recorded import changed_since_recorded, recorded_digest
from probe.replay.recorded_target import recorded_login, recorded_target
from probe.replay.resend_args import parse_args
from probe.replay.resend_request import recorded_exchange, sent_headers
from probe.runs.folders import load_manifest, resolve_run, write_manifest
from probe.runs.targets import load_target
from probe.write.resend_section import resend_markdown, usd

FILE_LIMIT = 4 << 20  # bytes of an --instructions or --add-tool file
GENERIC = frozenset({"set", "unset"})  # the edits any JSON request takes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__)
    chosen = load_target(args.target) if args.target else None
    origin = resolve_run(args.run, chosen.name if chosen else None)
    manifest, problem = load_manifest(origin)
    if manifest is None:
        raise RunError(problem or f"{display(origin)} has no manifest.json: it is not a run folder")
    if chosen and manifest.get("target") and manifest.get("target") != chosen.name:
        raise UsageError(f"{display(origin)} is a run of {repr(manifest['target'])[:80]}, not of {chosen.name!r}")
    target = chosen or recorded_target(origin, manifest)
    digest = hashlib.sha256()
    recorded, exchange = recorded_exchange(origin, args.turn, digest.update)
    changed = changed_since_recorded(origin / "traffic.jsonl", digest.hexdigest(), manifest)
    if exchange.proxy not in [proxy.name for proxy in target.proxies]:
        names = ", ".join(proxy.name for proxy in target.proxies)
        raise UsageError(
            f"exchange {args.turn} went through proxy {exchange.proxy[:80]!r}, which {target.name} has not (its "
            f"proxies: {names}): it cannot be sent the way it went"
        )
    recorded_turn = Reading().build(recorded, [])[0]
    family = family_of(recorded_turn.api)
    edits, tools = resolved(args.edits)
    if family is None and any(edit.kind not in GENERIC for edit in edits):
        raise UsageError(f"exchange {args.turn} is of API {recorded_turn.api!r}: only --set and --unset edit it")
    path, body = edited_request(family, exchange, edits, tools)
    edited = replace(exchange, path=path, request_body=Body(body, "json"))
    edited_turn = Reading().build(edited, [])[0]
    # (sent to the mock, an answer is priced as a run against the mock is, with its price file, unless told)
    book = price_book(
        args.prices or (MOCK_PRICES if args.upstream == "mock" and not os.environ.get(PRICES_ENV) else None)
    )
    guess = estimate(recorded_turn, edited_turn, book)
    login = recorded_login(manifest, target) or (target.logins[0].name if target.logins else None)
    keys = login_keys(target, login, exchange)
    run_name = f"{origin.parent.name}/{origin.name}"
    print(summary(run_name, edited, family, args, guess, recorded.kind == "websocket"))
    if changed:  # (as a replay says it, before it refuses)
        print(f"  warning: {one_line(changed)}: exchange {args.turn} is sent as the file holds it now")
    say_where(args.upstream, target, edited, keys)
    orphans = answered_elsewhere(edited_turn)
    if orphans and any(edit.kind == "drop_history" for edit in edits):
        print(f"  warning: {counted(orphans, 'tool result')} answer{'s' * (orphans == 1)} a call no longer in "
              "the history: the API may refuse the request")  # fmt: skip
    confirm(args.yes)
    result = send(edited, keys, target, login, args)
    print(f"run folder: {display(result.run)} ({result.status})")
    shown_edits = [mask_text(edit.shown)[0] for edit in args.edits]
    new_manifest, _ = load_manifest(result.run)
    if new_manifest is not None:
        known = recorded_digest(manifest) is not None  # (a manifest that names no digest cannot tell: null)
        record = {"run": run_name, "path": str(origin.resolve()), "kind": "resend", "at": args.turn,
                  "traffic_sha256": digest.hexdigest(),
                  "traffic_changed": changed is not None if known else None}  # fmt: skip
        new = {key: value for key, value in new_manifest.items() if key != "schema"}
        write_manifest(result.run, {**new, "origin": record | {"edits": shown_edits}})
    answers = [answer(turn, book) for turn in new_turns(result.run, exchange.proxy)]
    if not answers:
        raise RunError(f"{display(result.run)}: no answer was recorded (the run's log says why)")
    if result.status != "recording-failed":
        report, _ = analyze_run(result.run, target)
        print(f"report: {display(report)}")
    head = heading(run_name, args.turn, shown_edits, args.upstream, guess, changed)
    page = resend_markdown(head, answer(recorded_turn, book), answers, spread(answers) if len(answers) > 1 else None)
    (result.run / "resend.md").write_text(page, encoding="utf-8")
    print(inert_lines(page))
    print(f"resend: {display(result.run / 'resend.md')}", file=sys.stderr)
    return 0 if all(each.status is not None and 200 <= each.status < 300 for each in answers) else 1


def body_text(exchange: Exchange) -> str:
    """The body as sent: compact JSON, as the agents send theirs."""
    return json.dumps(exchange.request_body.value, ensure_ascii=False, separators=(",", ":"))


def send(request: Exchange, keys: list[tuple[str, str]], target, login: str | None, args) -> CaptureResult:
    """Record a run in which the client (probe.replay.resend_send) sends the request through the proxy it went
    through; its plan, the request as masked and the names of the variables that hold keys, in a private folder
    removed after the run."""
    plan = {"proxy": request.proxy, "method": request.method, "path": request.path, "body": body_text(request),
            "repeat": args.repeat, "headers": sent_headers(request), "keys": [list(pair) for pair in keys]}  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="probe-resend-"))
    try:
        plan_file = folder / "plan.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        command = f"{shlex.quote(sys.executable)} -m probe.replay.resend_send {shlex.quote(str(plan_file))}"
        return capture(target, None, command, args.upstream, args.label, timeout=args.timeout, login=login)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def edited_request(family: Family | None, exchange: Exchange, edits: list[Edit], tools: dict) -> tuple[str, dict]:
    """The request's path and body with the edits made; each edit that does not apply is one line, the last of them
    the error that ends the run."""
    try:
        path, body = apply_edits(family or Family(), exchange.path, exchange.request_body.value, edits, tools)
        if isinstance(body, dict) and body.get("previous_response_id") is not None:
            continued(body)
        return path, body
    except UsageError as error:
        *earlier, last = str(error).split("\n")
        for line in earlier:
            print(f"error: {one_line(line)}", file=sys.stderr)
        raise UsageError(last) from None


def continued(body: dict) -> None:
    """A request that names an earlier answer of its connection (`previous_response_id`, codex over a WebSocket):
    that answer is the recorded upstream's, which no other holds, so the name is left out and said so; a request
    that carries only its new input (a tool's output) would then ask without its conversation, and is refused."""
    items = body.get("input") if isinstance(body.get("input"), list) else []
    if not any(isinstance(item, dict) and item.get("type", "message") == "message" for item in items):
        raise UsageError(
            "the request continues an earlier answer of its connection (previous_response_id) and carries only its "
            "new input: sent alone it would ask without its conversation; resend a request of that connection that "
            "carries its messages"
        )
    del body["previous_response_id"]
    print("  note: previous_response_id left out: it names an answer of the recorded connection, which no other "
          "upstream holds")  # fmt: skip


def resolved(edits: list[Edit]) -> tuple[list[Edit], dict[str, dict]]:
    """The edits with each `@FILE` read: an --instructions file's text in its place, an --add-tool's definition
    (inline or a file's) by the value given."""
    done, tools = [], {}
    for edit in edits:
        if edit.kind == "instructions" and edit.value.startswith("@"):
            edit = Edit(edit.kind, given_file(edit.value[1:], "--instructions"))
        elif edit.kind == "add_tool":
            opened = given_file(edit.value[1:], "--add-tool") if edit.value.startswith("@") else None
            tools[edit.value] = read_tool(edit.value, opened)
        done.append(edit)
    return done, tools


def given_file(name: str, flag: str) -> str:
    try:
        raw = read_at_most(Path(name), FILE_LIMIT)
    except OSError as error:
        raise UsageError(f"{flag} @{one_line(name)[:200]}: {error.strerror or error}") from None
    if raw is None:
        raise UsageError(f"{flag} @{one_line(name)[:200]}: larger than {FILE_LIMIT:,} bytes")
    return raw.decode("utf-8", "replace")


def login_keys(target, login: str | None, exchange: Exchange) -> list[tuple[str, str]]:
    """(header, variable): the headers by which the run's login shows in a request of this proxy, each with the
    variable its key comes from (the login's first), for those the recorded request holds masked."""
    found = next((each for each in target.logins if each.name == login), None)
    variable = next((need.env for need in found.requires if need.env), None) if found else None
    if variable is None:
        return []
    masked = {name.lower() for name, value in exchange.request_headers if ANY_MASK.search(value)}
    marks = [mark.header for mark in found.seen_as if mark.header and mark.proxy in ("", exchange.proxy)]
    return [(header, variable) for header in dict.fromkeys(marks) if header.lower() in masked]


def summary(run: str, request: Exchange, family: Family | None, args, guess: Estimate, websocket: bool) -> str:
    """The request to be sent, in a few lines: masked, and captured text in them inert."""
    family, body, repeat = family or Family(), request.request_body.value, args.repeat
    model = family.model(request.path, body) or "(none named)"
    tools = family.tool_names(body)
    lines = [
        f"resend: exchange {request.number} of {run}: {request.method} {one_line(request.path)[:200]}"
        + (" (its WebSocket turn as its API's HTTP request)" if websocket else ""),
        f"  model {one_line(model)[:120]}; instructions {family.instruction_size(body):,} characters; "
        f"{len(tools)} tool{'s' * (len(tools) != 1)}; {counted(len(family.history_indexes(body)), 'history item')}; "
        f"{len(body_text(request).encode()):,} bytes",
        f"  edits: {one_line(mask_text(' '.join(edit.shown for edit in args.edits))[0])[:400] or 'none'}",
        f"  estimated input: {guess.tokens:,} tokens"
        + (f" (counted {guess.counted:,}, scaled as the recorded turn's count scales)" if guess.scaled else ""),
        f"  estimated cost: {usd(guess.usd, guess.unknown)} a send, its input uncached and its output "
        f"{guess.output:,} tokens as recorded"
        + (f" ({usd(guess.usd * repeat)} for {repeat} sends)" if repeat > 1 and guess.usd is not None else ""),
    ]
    return "\n".join(lines)


def say_where(upstream: str | None, target, exchange: Exchange, keys: list[tuple[str, str]]) -> None:
    """Where the request goes, and what it carries that is masked; a real upstream's key must be at hand."""
    keyed = {header.lower() for header, _ in keys}
    headers = [name for name, value in sent_headers(exchange) if ANY_MASK.search(value) and name.lower() not in keyed]
    masks = len(ANY_MASK.findall(body_text(exchange))) + len(headers)
    if masks:
        print(f"  the request holds {masks} masked secret{'s' * (masks != 1)}: sent as the masks, never unmasked (a "
              "request that carried a key in its body will not work as it did)")  # fmt: skip
    if headers and upstream != "mock":
        names = ", ".join(one_line(name)[:60] for name in headers[:8])
        print(f"  no key from the environment fills its masked {names}: an API that checks it will refuse the request")
    if upstream == "mock":
        print("  it goes to the bundled mock model")
        return
    proxy = next((each for each in target.proxies if each.name == exchange.proxy), None)
    url = upstream or (proxy.upstream if proxy else "")
    host = urlsplit(url).hostname or url
    print(
        f"  the recorded context goes to {one_line(host)[:200]}" + (" (the target's upstream)" if not upstream else "")
    )
    for header, variable in keys:
        if not os.environ.get(variable) and not is_local(upstream):  # a stand-in of one's own may take the mask
            raise UsageError(f"the request's {header} is masked: {variable} in your environment gives the key to send")
        print(f"  its {header}: your key from {variable}" if os.environ.get(variable) else f"  its {header}: the mask")


def answered_elsewhere(turn) -> int:
    """Tool results in the request's history whose call is not in it (the items dropped held it)."""
    parts = [part for item in turn.input for part in item.parts]
    calls = {part.call_id for part in parts if part.kind == "tool_call"}
    return sum(1 for part in parts if part.kind == "tool_result" and part.call_id and part.call_id not in calls)


def confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal, so nobody can confirm: give --yes to send")
    try:
        reply = input("send it? [y/N] ")
    except EOFError:
        reply = ""
    if reply.strip().lower() not in ("y", "yes"):
        raise UsageError("not sent")


def new_turns(run: Path, proxy: str) -> list:
    """The new run's turns of the proxy the request went through, in order."""
    reading, turns = Reading(), []
    for exchange in iter_exchanges(run / "traffic.jsonl", []):
        if exchange.proxy == proxy and exchange.kind == "http":
            turns.append(reading.build(exchange, [])[0])
    return turns


def heading(
    run: str, number: int, edits: list[str], upstream: str | None, guess: Estimate, changed: str | None
) -> list[str]:
    warning = ["", md.text(f"Warning: {changed}: exchange {number} was sent as the file held it then.")]
    return [
        f"Exchange {number} of {md_text(run)}, re-sent to {md_text(upstream or 'the target’s upstream')}.",
        *(warning if changed else []),
        "",
        f"Edits: {md_text(' '.join(edits)) if edits else 'none'}.",
        "",
        f"Estimated before sending: {guess.tokens:,} input tokens, {usd(guess.usd, guess.unknown)} a send.",
    ]


def md_text(value: str) -> str:
    return md.inline(value)


if __name__ == "__main__":
    sys.exit(run_main(main))
