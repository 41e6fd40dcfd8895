"""The facts at the top of the viewer: what report.md's header says, as (label, plain text) pairs."""

from collections.abc import Callable
from typing import Any

from probe.analyse.insight import interactive_session
from probe.common.counting import counted
from probe.write.account_section import account_facts
from probe.write.hooks_section import hooks_facts
from probe.write.hosts_section import hosts_rows
from probe.write.manifest_facts import manifest_facts, session_words
from probe.write.setup_section import setup_fact
from probe.write.summary_facts import plain, summary_facts
from probe.write.viewer.not_understood import SHOWN, NotUnderstood


def manifest_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)


def run_facts(manifest: dict | None, seen=None) -> list[tuple[str, str]]:
    """The run's facts from its manifest (probe.write.manifest_facts), with the logins `seen` in its requests, as
    the Run panel's (label, text) pairs."""
    facts = manifest_facts(manifest, seen)
    if facts is None:
        return [("Run", "no manifest.json beside this capture")]
    shown = [
        ("Target", manifest_text(facts.target)),
        ("Status", manifest_text(facts.status)),
        ("Agent exit code", manifest_text(facts.exit_code)),
        ("Agent version", manifest_text(facts.agent_version)),
    ]
    if facts.status_note:
        shown.append(("Note", facts.status_note))
    if facts.note is not None:
        shown.append(("Note", manifest_text(facts.note)))
    if facts.recording_errors is not None and facts.recording_errors != 0:
        shown.append(("Recording errors", f"{manifest_text(facts.recording_errors)} (see proxies.log)"))
    if facts.prompt is not None:
        shown.append(("Prompt", manifest_text(facts.prompt)))
    shown += [(what.capitalize(), manifest_text(value)) for what, value in session_words(facts)]
    return shown


def first_shown(rows: list, more: Callable[[int], object]) -> list:
    """The first SHOWN rows, then `more(how many others)` if there are others: a hostile capture's header would
    take the page's room."""
    return rows if len(rows) <= SHOWN else [*rows[:SHOWN], more(len(rows) - SHOWN)]


def fork_point(manifest: dict | None, mask: Callable[[str], str]) -> dict | None:
    """A fork's point, for the timeline's mark: `request`, this run's request that was served the origin's request
    `at` from the recording (the last one; those after it went live), and the `model` asked for after it; None
    for a run that is no fork, or a fork that never went live (it diverged, or its agent ended first)."""
    origin = manifest.get("origin") if isinstance(manifest, dict) else None
    replay = manifest.get("replay") if isinstance(manifest, dict) else None
    if not isinstance(origin, dict) or origin.get("kind") != "fork" or not isinstance(replay, dict):
        return None
    request, at, model = replay.get("forked_at_request"), origin.get("at"), origin.get("model")
    if type(request) is not int or request < 1:
        return None
    model = mask(model) if isinstance(model, str) else None
    return {"request": request, "at": at if type(at) is int else None, "model": model}


def page_header(
    run: str, source: str, stamp: str, manifest: dict | None, totals, warnings: list[str],
    not_understood: NotUnderstood, mask: Callable[[str], str], insight: dict | None = None,
) -> dict:  # fmt: skip
    """Everything the page's Run panel and overview show; `totals` is the report's (probe.analyse.run_totals.Totals),
    `insight` the run's records of insight.jsonl (probe.write.insight_lines, masked there). Captured text (the
    manifest's fields, paths, warnings that quote a capture) is masked with `mask`, as report.md masks it."""
    duration = "unknown"
    if totals.first_start is not None and totals.last_end is not None:
        duration = f"{totals.last_end - totals.first_start:.2f} s"
    unrecognised = not_understood.kinds
    endpoints = sorted(totals.endpoints.items())
    # When the page was generated is not among them: it is on a line of its own (probe.write.viewer.page.GENERATED), so
    # that two pages of the same capture differ in that line only.
    facts = [
        ("Source", source),
        ("Made with", stamp),
        *run_facts(manifest, totals.logins),
        (
            "Totals",
            f"{counted(totals.exchanges, 'exchange')} ({totals.http} HTTP, {totals.websocket} WebSocket), "
            f"{counted(totals.frames, 'WebSocket message')} ({totals.client_frames} from the client), "
            f"duration {duration}, "
            f"{totals.sent:,} bytes sent, {totals.received:,} bytes received",
        ),
        ("Tokens", totals.tokens.described()),
        *[(label, plain(pieces)) for label, pieces in summary_facts(totals.insight)],
        *[("Set-up sent", fact) for fact in [setup_fact(totals.insight.setup)] if fact is not None],
        ("Read as", ", ".join(f"{api} ×{count} ({totals.renderers[api]})" for api, count in totals.apis.items())),
        *account_facts(totals.insight.account, mask),
        *hooks_facts(totals.insight.hooks, mask),
        ("Incomplete exchanges", str(totals.incomplete)),
        (
            "Unrecognised",
            f"{'more than ' if not_understood.more else ''}{counted(len(unrecognised), 'kind')}"
            + (" (listed below)" if unrecognised else ""),
        ),
    ]
    hosts = hosts_rows(totals.insight.hosts, mask)
    return (
        ({"other_hosts": hosts} if hosts else {})
        | {  # (a run without other hosts' traffic: as it always was)
            "run": run,
            # An interactive session: its live page counts down the prompt cache's lifetime (js/live_cache.js).
            "interactive": interactive_session(manifest),
            "fork": fork_point(manifest, mask),
            "insight": insight or {"run": None, "agents": [], "tool_calls": [], "tool_calls_left_out": 0},
            "facts": [(label, mask(text)) for label, text in facts],
            "warnings": first_shown(
                [mask(warning) for warning in warnings[: SHOWN + 1]],
                lambda more: f"and {counted(len(warnings) - SHOWN, 'more warning')}: report.md lists every one",
            ),
            "unrecognised": {mask(kind): numbers for kind, numbers in sorted(unrecognised.items())},
            "endpoints": first_shown(
                [
                    [mask(proxy), mask(path), ", ".join(sorted(counter)), sum(counter.values())]
                    for (proxy, path), counter in endpoints[: SHOWN + 1]
                ],
                lambda more: [
                    "…",
                    f"{len(endpoints) - SHOWN:,} more endpoints: report.md lists every one",
                    "",
                    sum(sum(counter.values()) for _, counter in endpoints[SHOWN:]),
                ],
            ),
            "methods": sorted(totals.methods.items()),
            "statuses": sorted(totals.statuses.items()),
            "key_paths": {
                "request": [[mask(path), types, count] for path, types, count in totals.request_paths.top()],
                "response": [[mask(path), types, count] for path, types, count in totals.response_paths.top()],
            },
        }
    )
