"""Writes the parts of a turn that every API shares as report Markdown: items with their parts, tool listings,
instruction blocks, output, errors and unknown payloads. Renderers put them in order, in their API's words."""

import json
from typing import Any

from probe.apis.said_once import text_once
from probe.common import counting
from probe.common.markdown import (
    Markdown,
    Rendered,
    code,
    compact,
    details,
    first_line,
    inline,
    json_block,
    table,
    tally,
)
from probe.read.conversation import Item, Part, TextBlock, Turn, json_size
from probe.read.dedupe import FirstSeen


def default_attachment(part: Part) -> str:
    """An image or file, named by its type and size: its bytes (often base64) never fill the report."""
    return f"[{part.type}: {json_size(part.raw):,} bytes]"


def part_summary(part: Part, calls: dict, attachment=default_attachment) -> str:
    """One line naming a part: its text's first line, a tool call with its arguments, or its kind."""
    if part.kind == "tool_call":
        if part.call_id is not None:
            calls[part.call_id] = part.name or "?"
        arguments = part.arguments if isinstance(part.arguments, str) else compact(part.arguments)
        return f"{part.name or '?'}({first_line(arguments, 60)})"
    if part.kind == "image":
        return attachment(part)
    if part.kind == "tool_result":
        error = " (an error)" if part.is_error else ""
        return f"output of {calls.get(part.call_id, 'an earlier call')}{error}: {first_line(part.text or '', 60)}"
    if part.kind == "reasoning":
        return first_line(part.text or "") or f"({part.type}: no text)"
    if part.kind == "text":
        return first_line(part.text or "") or "(empty)"
    return f"[{part.type}]"


def part_body(
    part: Part, position: int, count: int, calls: dict, note: Markdown | None = None, attachment=default_attachment
) -> Markdown:
    """A part as Markdown: a heading naming it (so parts never run together), then its content."""
    heading = (
        Markdown("**part {} of {}: {}**").format(position, count, part.type)
        if count > 1
        else Markdown("**{}**").format(part.type)
    )
    facts = []
    if note:
        facts.append(note)
    if part.kind == "tool_call":
        facts.append(Markdown("{}{}").format(inline(part.name or "?"), call_id_note(part.call_id)))
    if part.kind == "tool_result":
        facts.append(Markdown("of {}{}").format(calls.get(part.call_id, "an earlier call"), call_id_note(part.call_id)))
        if part.is_error is not None:  # shown as sent, false included: an API that sends the flag means it
            facts.append(Markdown("is_error {}").format(inline(json.dumps(part.is_error))))
    if isinstance(part.raw, dict) and part.kind not in ("other", "image"):
        facts += [Markdown("{} {}").format(key, inline(compact(value))) for key, value in part.raw.items()]
    if part.kind == "image":
        facts.append(inline(attachment(part)))
        return Markdown("{}: {}").format(heading, Markdown("; ").join(facts))
    head = Markdown("{}: {}").format(heading, Markdown("; ").join(facts)) if facts else heading
    if part.kind == "tool_call":
        content = pretty(part.arguments)
    elif part.kind in ("text", "reasoning", "tool_result"):
        content = code(part.text if part.text is not None else "(no text)", "text")
    else:
        content = json_block(part.raw)
    return Markdown("{}\n\n{}").format(head, content)


def call_id_note(call_id: Any) -> Markdown:
    """` (call_id X)`, or nothing when the API sent none (Gemini's calls often have no id; legacy functions never)."""
    return Markdown(" (call_id {})").format(inline(str(call_id))) if call_id is not None else Markdown("")


def pretty(arguments: Any) -> Markdown:
    return code(arguments, "text") if isinstance(arguments, str) else json_block(arguments)


def item_summary(item: Item, calls: dict, attachment=default_attachment) -> str:
    """The line that best names an item: its first part that says something of its own."""
    lines = [part_summary(part, calls, attachment) for part in item.parts]
    # Its own words before attachments and reasoning, and never the <system-reminder> texts agents inject.
    own = [
        (line, part)
        for line, part in zip(lines, item.parts)
        if part.kind != "text" or not (part.text or "").startswith("<system-reminder>")
    ]
    texts = [line for line, part in own if part.kind == "text"]
    summary = (texts or [line for line, _ in own] or lines or [item_extra(item)])[0]
    return summary + (f" (+{len(lines) - 1} more part{'s' if len(lines) > 2 else ''})" if len(lines) > 1 else "")


def item_extra(item: Item) -> str:
    """An item without parts (a tool list, a settings update) is named by its fields."""
    if not item.metadata:
        return "(empty)"
    return first_line(", ".join(f"{key} {compact(value)}" for key, value in item.metadata.items()), 80)


def opaque(value: Any) -> Any:
    """A long string without spaces (encrypted content, base64) as its size: it cannot be read, only counted."""
    if isinstance(value, str) and len(value) > 200 and " " not in value:
        return f"({len(value):,} characters, opaque)"
    return value


def item_body(
    item: Item, calls: dict, part_notes: dict[int, Markdown] | None = None, attachment=default_attachment
) -> list[Markdown]:
    """An item in full: its id and metadata as sent, then each part under its own heading."""
    lines = []
    if item.id is not None:
        lines.append(Markdown("id {}").format(inline(item.id)))
    if item.metadata:
        count = len(item.metadata)
        lines.append(
            details(
                f"metadata ({count} field{'s' if count != 1 else ''})",
                json_block({key: opaque(value) for key, value in item.metadata.items()}),
            )
        )
    count = len(item.parts)
    for position, part in enumerate(item.parts, start=1):
        lines.append(part_body(part, position, count, calls, (part_notes or {}).get(position - 1), attachment))
    return lines


ITEMS_SHOWN = 400  # a hostile request of 300,000 tiny items made a report of 150 MB
# Where a history too long to read whole left items out (probe.read.thinning): (the offset, among the items read,
# of the first read after them; how many were left out).
Gap = tuple[int, int]


def items_section(
    items: list[Item],
    first_index: int,
    prefix: str,
    calls: dict,
    rendered: Rendered,
    sizes: list[int] | None = None,
    notes=None,
    attachment=default_attachment,
    gap: Gap | None = None,
) -> None:
    """A table of items (one row each), then each item collapsed in full. `notes(item)` may name a part (by
    position) the way the agent does; `attachment(part)` names an image without its bytes. Past ITEMS_SHOWN
    items, the first and last halves of that many are shown, and a row says how many are left out between;
    `gap` says where items of a history too long to read were left out, which counts them among those."""
    rows, blocks = [], []
    for offset, item, left, not_read in shown_items(items, gap):
        if item is None:
            said = Markdown("{} left out here: turns.jsonl holds every one").format(counting.counted(left, "item"))
            if not_read:
                said = Markdown("{} left out here: {:,} not read (the history was too long to read whole)")
                said = said.format(counting.counted(left, "item"), not_read)
            rows.append(["…", "", "", "", said, ""])
            continue
        index = first_index + offset + (gap[1] if gap is not None and offset >= gap[0] else 0)
        summary = item_summary(item, calls, attachment)
        kinds = ", ".join(part.type for part in item.parts)
        size = sizes[offset] if sizes is not None and offset < len(sizes) else None
        size = f"{size:,}" if isinstance(size, int) else ""
        rows.append([index, item.type, item.role or "", kinds, summary, size])
        title = f"{prefix}[{index}] {item.type}{' ' + item.role if item.role else ''}: {summary}"
        blocks.append(details(title, *item_body(item, calls, notes(item) if notes else None, attachment)))
    if rows:
        rendered.add(table(["#", "type", "role", "parts", "summary", "bytes"], rows), "", *blocks)


def shown_items(items: list[Item], gap: Gap | None = None) -> list[tuple[int, Item | None, int, int]]:
    """(offset, item, 0, 0) for the items a report shows, with (0, None, how many are left out, how many of those
    were not read) where some are: the first and last halves of ITEMS_SHOWN, counting as sent (`gap`)."""
    at, not_read = gap if gap is not None else (len(items), 0)
    sent = len(items) + not_read
    half = ITEMS_SHOWN // 2
    rows: list[tuple[int, Item | None, int, int]] = []
    before = -1  # the position as sent of the last item shown
    for offset, item in enumerate(items):
        position = offset + (not_read if offset >= at else 0)
        if sent > ITEMS_SHOWN and half <= position < sent - half:
            continue
        if position > before + 1:  # a row for those between, and how many of them were not read
            unread = max(0, min(position, at + not_read) - max(before + 1, at))
            rows.append((0, None, position - before - 1, unread))
        rows.append((offset, item, 0, 0))
        before = position
    return rows


def history_gap(turn: Turn, carried: int = 0) -> Gap | None:
    """Where the items of the turn's history that were not read stood, among its items from `carried` on."""
    left = turn.history_left_out
    if left is None or left.first < carried:
        return None
    return left.first - carried, left.left


def history_summary(turn: Turn, noun: str) -> Markdown:
    """`+ 1 new message; 3 carried over from #1`: what a request adds to the history it re-sends."""
    carried = turn.carried.items if turn.carried else 0
    count = turn.input_count - carried
    summary = Markdown("+ {} new {}{}").format(count, noun, "s" if count != 1 else "")
    if turn.carried:
        summary = Markdown("{}; {} carried over from #{}").format(summary, carried, turn.carried.source)
    return summary


def history_section(turn: Turn, title: str, noun: str, rendered: Rendered, show) -> None:
    """A request's history under its title: the summary line says how many items are new and which were carried
    over from an earlier request, and `show(new_items, number_of_the_first, gap)` writes only the new ones (`gap`:
    where items of a history too long to read were left out, or None)."""
    carried = turn.carried.items if turn.carried else 0
    new = turn.input[carried:]
    rendered.add(Markdown("**{}**: {}").format(title, history_summary(turn, noun)), "")
    show(new, carried + 1, history_gap(turn, carried))


def history_items(turn: Turn, state: dict, rendered: Rendered, words: tuple[str, str, str], attachment, shown=None):
    """A request's history, when it has one: `words` (its title, the noun for one item, the request field holding
    it), the new items only, as `shown(items)` gives them (without bytes, say), sized as sent."""
    if turn.input:
        (title, noun, field), calls = words, state.setdefault("calls", {})
        history_section(turn, title, noun, rendered, lambda new, first, gap: items_section(
            shown(new) if shown else new, first, field, calls, rendered, [item.size for item in new],
            attachment=attachment, gap=gap))  # fmt: skip


def full_conversation(state: dict, prefix: str, noun: str, attachment=default_attachment, shown=None) -> Rendered:
    """The report's closing section: the last request's whole history, then the answer it got, in one place.
    `shown(items)` gives the items as the renderer shows them (without bytes, say)."""
    rendered = Rendered()
    last = state.get("last_context")
    if not last or not last[1]:
        return rendered
    label, items, reply, gap = last if len(last) == 4 else (*last, None)
    answered = items + reply
    inner = Rendered()
    sizes = [item.size for item in answered]
    items_section(shown(answered) if shown else answered, 1, prefix, dict(state.get("calls", {})), inner, sizes,
                  attachment=attachment, gap=gap)  # fmt: skip
    count = len(items) + (gap[1] if gap is not None else 0)
    summary = f"All {count} {noun}s of #{label}" + (", then its answer" if reply else "")
    rendered.add(
        Markdown("## Full conversation of the last request (#{})").format(label), "", details(summary, *inner.lines)
    )
    return rendered


def block_marker(block: TextBlock) -> Markdown:
    shown = [Markdown(", {} {}").format(key, inline(compact(value))) for key, value in block.metadata.items()]
    return Markdown("").join(shown)


def instructions_section(
    title: str, blocks: list[TextBlock], label: str, state: dict, as_blocks: bool = False
) -> Markdown:
    """Instruction blocks in full with their boundaries once; later "the same as", or a diff."""
    flat, full = [], []
    for index, block in enumerate(blocks, start=1):
        marker = block_marker(block)
        # The flat form is code-block content (it is what later requests are compared and diffed with).
        flat.append(f"[block {index}: {block.type}, {len(block.text):,} chars{marker}]\n{block.text}")
        full.append(
            Markdown("Block {}: {}, {:,} chars{}\n\n{}").format(
                index, block.type, len(block.text), marker, code(block.text, "text")
            )
        )
    if not as_blocks and len(blocks) == 1 and not blocks[0].metadata:
        return text_once(title, blocks[0].text, label, state)
    count = Markdown("{} block{}").format(len(blocks), "s" if len(blocks) != 1 else "")
    return text_once(title, "\n\n".join(flat), label, state, Markdown("\n\n").join([count, *full]))


def events_line(turn: Turn) -> Markdown:
    return Markdown("**Events ({})**: {}").format(sum(turn.events.values()), tally(turn.events))


def response_opening(turn: Turn, state: dict, describe=None) -> Rendered:
    """How every rendered response starts: the tally of its events, its errors (`describe(error)` in the API's
    words), and the payloads of kinds the reader did not know."""
    rendered = Rendered()
    if turn.events:
        rendered.add(events_line(turn), "")
    rendered.add(*[line for error in errors_lines(turn, describe) for line in (error, "")])
    unknown_payloads(turn, state, rendered)
    return rendered


def unknown_payloads(turn: Turn, state: dict, rendered: Rendered) -> None:
    """Payloads the reader did not understand, shown as JSON: an unknown event type once per report, since its
    example says what the type carries, and each other payload where it occurs."""
    seen = state.setdefault("unknown_shown", FirstSeen())
    for entry in turn.unknown:
        where = str(entry.get("where"))
        if where.startswith("event "):
            first = seen.earlier(where, f"#{turn.number}")
            if first:
                rendered.add(Markdown("Unknown {}: as shown in {}").format(where, first), "")
                continue
        rendered.add(details(f"Unknown {where} (not understood here), as captured", json_block(entry.get("raw"))))
        rendered.add("")


def output_section(turn: Turn, calls: dict, rendered: Rendered, attachment=default_attachment) -> None:
    """The model's output, part by part: reasoning, text, tool calls and anything else, in the order it came. An
    image the model made is named by `attachment(part)`, as an input image is: its bytes stay in turns.jsonl."""
    for item in turn.output:
        unknown_item = item.type not in ("message", "reasoning") and not any(
            part.kind == "tool_call" for part in item.parts
        )
        if unknown_item:
            rendered.add(details(f"Output item {item.type}", *item_body(item, calls)), "")
            continue
        for part in item.parts:
            note = Markdown("") if part.complete else Markdown(" (cut off before its end)")
            if part.kind == "reasoning":
                title = Markdown("**Reasoning summary**") if part.type == "summary_text" else Markdown("**Thinking**")
                extra = (
                    [
                        Markdown("{}: {:,} chars").format(key, len(str(value)))
                        for key, value in part.raw.items()
                        if key in ("signature", "data")
                    ]
                    if isinstance(part.raw, dict)
                    else []
                )
                if extra:
                    title = Markdown("{} ({})").format(title, Markdown(", ").join(extra))
                if part.text:
                    rendered.add(Markdown("{}{}").format(title, note), "", code(part.text, "text"), "")
                else:
                    rendered.add(Markdown("{}{}: no text").format(title, note), "")
            elif part.kind == "text":
                rendered.add(Markdown("**Output text**{}").format(note), "", code(part.text or "", "text"), "")
            elif part.kind == "tool_call":
                if part.call_id is not None:
                    calls[part.call_id] = part.name or "?"
                shown = pretty(part.arguments)
                if not part.complete and isinstance(part.arguments, str):
                    shown = Markdown("{}\n\n(arguments cut off: not valid JSON)").format(shown)
                rendered.add(
                    Markdown("**Tool call** {}{}{}").format(inline(part.name or "?"), call_id_note(part.call_id), note),
                    "",
                    shown,
                    "",
                )
            elif part.kind == "image":
                rendered.add(Markdown("**Output {}**{}: {}").format(part.type, note, inline(attachment(part))), "")
            else:
                rendered.add(details(f"Output part {part.type}", json_block(part.raw)), "")


def errors_lines(turn: Turn, describe=None) -> list[Markdown]:
    """The errors the API sent (a connection's error is in the exchange's facts already), each described by
    the renderer's `describe` if it knows the API's error shape."""
    title = Markdown("**Error event**") if turn.events else Markdown("**Error**")
    return [
        Markdown("{}: {}").format(title, describe(error) if describe else inline(compact(error)))
        for error in turn.errors
        if not (isinstance(error, dict) and set(error) == {"connection"})
    ]


MESSAGE_INLINE = 500  # characters of an error message shown in its line; a longer one follows in a block


def error_message(message: str) -> Markdown:
    """An error's message exactly as sent: a code span, or, when it runs over lines or long, its first line and
    then the whole message in a block (an error is often the one thing a reader looks for)."""
    if len(message) <= MESSAGE_INLINE and "\n" not in message and "\r" not in message:
        return inline(message)
    return Markdown("{}\n\n{}").format(inline(first_line(message, 200)), code(message, "text"))


def response_fields_lines(turn: Turn) -> list[Markdown]:
    """The answer's own fields that have no section of their own (Turn.response_metadata), each as sent."""
    if not turn.response_metadata:
        return []
    shown = [Markdown("{} {}").format(key, inline(compact(value))) for key, value in turn.response_metadata.items()]
    return [Markdown("**Response fields**: {}").format(Markdown("; ").join(shown)), ""]


def facts_line(title: str, facts: list[tuple[str, Any]]) -> Markdown:
    shown = [Markdown("{} {}").format(name, inline(str(value))) for name, value in facts]
    return Markdown("**{}**: {}").format(title, Markdown(", ").join(shown))
