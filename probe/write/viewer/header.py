"""The facts at the top of the viewer: what report.md's header says, as (label, plain text) pairs."""

from collections.abc import Callable
from typing import Any


def manifest_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)


def run_facts(manifest: dict | None, notes: dict[str, str]) -> list[tuple[str, str]]:
    """The run's facts from its manifest, which is as untrusted as the capture: any field, of any type.
    `notes` are the report's sentences for a status that needs one, shared with report.md."""
    if not isinstance(manifest, dict) or not manifest:
        return [("Run", "no manifest.json beside this capture")]
    agent = manifest.get("agent") if isinstance(manifest.get("agent"), dict) else {}
    exit_code = manifest.get("agent_exit_code")
    facts = [
        ("Target", manifest_text(manifest.get("target"))),
        ("Status", manifest_text(manifest.get("status"))),
        ("Agent exit code", manifest_text(exit_code)),
        ("Agent version", manifest_text(agent.get("version"))),
    ]
    status = manifest.get("status")
    if isinstance(status, str) and status in notes:
        facts.append(("Note", notes[status]))
    if manifest.get("note"):
        facts.append(("Note", manifest_text(manifest["note"])))
    failures = manifest.get("recording_errors")
    if failures is not None and failures != 0:
        facts.append(("Recording errors", f"{manifest_text(failures)} (see proxies.log)"))
    if manifest.get("prompt"):
        facts.append(("Prompt", manifest_text(manifest["prompt"])))
    return facts


def page_header(
    run: str, source: str, stamp: str, manifest: dict | None, totals, warnings: list[str],
    notes: dict[str, str], turns: list[dict], mask: Callable[[str], str],
) -> dict:  # fmt: skip
    """Everything the page's Run panel shows; `totals` is the report's (probe.write.report.Totals). Captured text
    (the manifest's fields, paths, warnings that quote a capture) is masked with `mask`, as report.md masks it."""
    duration = "unknown"
    if totals.first_start is not None and totals.last_end is not None:
        duration = f"{totals.last_end - totals.first_start:.2f} s"
    unrecognised: dict[str, list[int]] = {}
    for turn in turns:
        for kind in turn["unrecognised"]:
            unrecognised.setdefault(kind, []).append(turn["n"])
    # When the page was generated is not among them: it is on a line of its own (probe.write.viewer.page.GENERATED), so
    # that two pages of the same capture differ in that line only.
    facts = [
        ("Source", source),
        ("Made with", stamp),
        *run_facts(manifest, notes),
        (
            "Totals",
            f"{totals.exchanges} exchanges ({totals.http} HTTP, {totals.websocket} WebSocket), "
            f"{totals.frames} WebSocket messages ({totals.client_frames} from the client), duration {duration}, "
            f"{totals.sent:,} bytes sent, {totals.received:,} bytes received",
        ),
        ("Tokens", totals.tokens.described()),
        ("Read as", ", ".join(f"{api} ×{count} ({totals.renderers[api]})" for api, count in totals.apis.items())),
        ("Incomplete exchanges", str(totals.incomplete)),
        ("Unrecognised", f"{len(unrecognised)} kinds" + (" (listed below)" if unrecognised else "")),
    ]
    return {
        "run": run,
        "facts": [(label, mask(text)) for label, text in facts],
        "warnings": [mask(warning) for warning in warnings],
        "unrecognised": {mask(kind): numbers for kind, numbers in sorted(unrecognised.items())},
        "endpoints": [
            [mask(proxy), mask(path), ", ".join(sorted(counter)), sum(counter.values())]
            for (proxy, path), counter in sorted(totals.endpoints.items())
        ],
        "methods": sorted(totals.methods.items()),
        "statuses": sorted(totals.statuses.items()),
        "key_paths": {
            "request": [[mask(path), types, count] for path, types, count in totals.request_paths.top()],
            "response": [[mask(path), types, count] for path, types, count in totals.response_paths.top()],
        },
    }
