"""The tools a request declares, as report Markdown: a table the first time, then what changed or a reference back."""

from probe.apis.said_once import listing_once
from probe.common.markdown import (
    Markdown,
    compact,
    details,
    first_line,
    inline,
    json_block,
)
from probe.read.conversation import Tool


def tool_notes(tool: Tool) -> Markdown:
    notes = [
        Markdown("{} {}").format(key, inline(compact(value)))
        for key, value in tool.metadata.items()
        if value not in (None, False, "")
    ]
    return Markdown(", ").join(notes)


def tools_section(tools: list[Tool], label: str, state: dict, with_namespace: bool) -> list[Markdown]:
    """The declared tools: a table and their full schemas the first time, later "the same set as". A namespace
    (an entry of type `namespace`) has a row of its own, and groups its tools' names."""
    # The hash column tells tools apart whose table rows alike hide a changed schema or description.
    headers = (["namespace"] if with_namespace else []) + ["name", "type", "description", "notes", "hash"]
    rows, names = tool_listing(tools, state, with_namespace)
    namespaces = sum(tool.type == "namespace" for tool in tools)
    count = str(len(tools) - namespaces)
    if namespaces:
        count += f", in {namespaces} namespace{'s' if namespaces != 1 else ''}"
    return listing_once(
        "Tools declared",
        rows,
        headers,
        names or Markdown("(none)"),
        label,
        state,
        "Tool table",
        lambda: [details("Full tool definitions", json_block([definition(tool) for tool in tools]))],
        count,
    )


LISTINGS_KEPT = 64  # tool sets remembered with their rows before starting over


def tool_listing(tools: list[Tool], state: dict, with_namespace: bool) -> tuple[list, Markdown]:
    """The tools' table rows and names. A session declares the same tools with every request, and a tool re-sent
    unchanged is the same object (probe.apis.turns.TurnBuilder.hash_tools): the same objects, the same listing."""
    known = state.setdefault("tool_listings", {})
    key = (with_namespace, *map(id, tools))
    found = known.get(key)
    if found is not None and all(old is new for old, new in zip(found[0], tools)):
        return found[1], found[2]
    if len(known) >= LISTINGS_KEPT:
        known.clear()
    rows = [
        ([tool.namespace] if with_namespace else [])
        + [tool.name, tool.type or "", first_line(tool.description, 100), tool_notes(tool), inline(tool.hash[:8])]
        for tool in tools
    ]
    grouped: dict[str, list] = {}
    for tool in tools:
        if tool.type == "namespace":  # named by its tools' group, and in the table with its description
            continue
        shown = tool.name if tool.type in (None, "function") else Markdown("{} ({})").format(tool.name, tool.type)
        grouped.setdefault(tool.namespace or "", []).append(shown)
    if with_namespace:
        names = Markdown("; ").join(
            Markdown("{}: {}").format(space or "(top level)", Markdown(", ").join(group))
            for space, group in grouped.items()
        )
    else:
        names = Markdown(", ").join(name for group in grouped.values() for name in group)
    known[key] = (list(tools), rows, names)  # the tools kept alive: their ids stay theirs
    return rows, names


def definition(tool: Tool) -> dict:
    """A tool as declared: every field the model keeps, the description whole."""
    shown = {"namespace": tool.namespace} if tool.namespace else {}
    shown |= {"name": tool.name} | ({"type": tool.type} if tool.type is not None else {})
    schema = {"schema": tool.schema} if tool.type != "namespace" else {}  # a namespace has none: its tools do
    return shown | {"description": tool.description} | schema | tool.metadata
