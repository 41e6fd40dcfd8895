"""What changed from one version to the next: instruction blocks and tools added, removed or changed (with their
sizes), the default model and the models asked for, endpoints, headers, hosts and telemetry events."""

from collections.abc import Iterator
from typing import Any

from probe.analyse.block_pairs import block_name, match_blocks
from probe.analyse.context import tool_text
from probe.analyse.releases.facts import BlockChange, Changes, Size, ToolChange, VersionRuns
from probe.analyse.run_facts import RunSummary, ToolKey
from probe.analyse.token_count import TokenCounter
from probe.read.conversation import TextBlock

FIELD_DEPTH = 6  # levels of a tool's schema whose fields are named; deeper ones are not compared one by one
FIELDS_KEPT = 500  # fields named per schema
VALUES_SHOWN = 3  # a header with more values than this in one run is said to change, its values not listed


def changes(older: VersionRuns, newer: VersionRuns, scenario: str | None) -> Changes:
    """From `older` to `newer`, their structure compared on the `scenario`'s runs (comparing_scenario)."""
    counter = TokenCounter()
    found = Changes(older.version, newer.version, scenario, counter.encoding)
    if scenario is not None:
        a, b = older.runs[scenario].summary, newer.runs[scenario].summary
        found.blocks = list(block_changes(a, b, counter))
        found.tools = list(tool_changes(a, b, counter))
        found.endpoints_added, found.endpoints_removed = added_removed(a.endpoints, b.endpoints)
        found.headers_added, found.headers_removed = added_removed(a.headers, b.headers)
        found.header_values = header_values(a, b)
    found.default_model = (older.default_model(scenario), newer.default_model(scenario))
    found.models_added, found.models_removed = added_removed(older.models, newer.models)
    if older.hosts is not None and newer.hosts is not None:
        found.hosts_added, found.hosts_removed = added_removed(older.hosts, newer.hosts)
    old_events, new_events = older.events, newer.events
    if old_events is not None and new_events is not None:
        found.events_added, found.events_removed = added_removed(old_events, new_events)
    return found


def added_removed(old: Any, new: Any) -> tuple[list[str], list[str]]:
    return sorted(set(new) - set(old)), sorted(set(old) - set(new))


def size(text: str, counter: TokenCounter) -> Size:
    return Size(len(text), counter.count(text))


def block_changes(a: RunSummary, b: RunSummary, counter: TokenCounter) -> Iterator[BlockChange]:
    """The blocks paired as the diff pairs them (by role and likeness, not position)."""
    pairs, only_a, only_b = match_blocks(list(a.instructions.values()), list(b.instructions.values()))
    for old, new, ratio in pairs:
        if old.text != new.text:
            yield BlockChange(block_name(new), "changed", old.text, new.text, size(old.text, counter),
                              size(new.text, counter), ratio)  # fmt: skip
    for block in only_a:
        yield one_sided(block, "removed", counter)
    for block in only_b:
        yield one_sided(block, "added", counter)


def one_sided(block: TextBlock, change: str, counter: TokenCounter) -> BlockChange:
    measured = size(block.text, counter)
    if change == "removed":
        return BlockChange(block_name(block), change, block.text, None, measured, None)
    return BlockChange(block_name(block), change, None, block.text, None, measured)


def tool_changes(a: RunSummary, b: RunSummary, counter: TokenCounter) -> Iterator[ToolChange]:
    """Each tool's cost counted as the report's context split counts a tool (its name, description and schema)."""
    for key in sorted(set(a.tools) | set(b.tools), key=ToolKey.order):
        old, new = a.tools.get(key), b.tools.get(key)
        sizes = [size(tool_text(tool), counter) if tool is not None else None for tool in (old, new)]
        if old is None or new is None:
            yield ToolChange(key, "added" if old is None else "removed", *sizes)
            continue
        old_fields, new_fields = set(fields(old.schema)), set(fields(new.schema))
        change = ToolChange(key, "changed", *sizes, *added_removed(old_fields, new_fields))
        if old.description != new.description:
            change.old_description, change.new_description = old.description, new.description
        change.other = tool_text(old) != tool_text(new) or old.type != new.type or old.metadata != new.metadata
        if change.fields_added or change.fields_removed or change.new_description is not None or change.other:
            yield change


def fields(schema: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """The names of a JSON schema's fields (`properties`, nested as `a.b`, an array's items as `a[]`)."""
    if depth >= FIELD_DEPTH or not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    named = 0
    if isinstance(properties, dict):
        for name, inner in properties.items():
            if named >= FIELDS_KEPT:
                return
            named += 1
            path = f"{prefix}{name}"
            yield path
            yield from fields(inner, path + ".", depth + 1)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from fields(items, prefix.removesuffix(".") + "[]." if prefix else "[].", depth + 1)


def header_values(a: RunSummary, b: RunSummary) -> list[tuple[str, list[str], list[str]]]:
    """The headers both runs sent whose values changed; values that are volatile are normalised already, and a
    header with many values in one run (a per-request id) has them left out (empty lists)."""
    changed = []
    for name in sorted(set(a.headers) & set(b.headers)):
        old, new = a.headers[name], b.headers[name]
        if old == new:
            continue
        listed = len(old) <= VALUES_SHOWN and len(new) <= VALUES_SHOWN
        changed.append((name, sorted(old) if listed else [], sorted(new) if listed else []))
    return changed
