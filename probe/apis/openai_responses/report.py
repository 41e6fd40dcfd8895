"""Renders OpenAI Responses API turns (HTTP+SSE and WebSocket) as Markdown, in that API's words."""

from probe.apis import turn_markdown
from probe.apis.openai_responses import reader
from probe.apis.report_shape import read_with, usage_table, usage_tokens
from probe.apis.said_once import config_lines, mapping_block, text_once
from probe.apis.tool_markdown import tools_section
from probe.common.counting import counted
from probe.common.markdown import Markdown, Rendered, details, inline
from probe.read.conversation import Item, Tool, Turn
from probe.read.dedupe import RecentResponses

# The conversation model of each exchange comes from this API's reader: the report, turns.jsonl and the diff.
API, PROVIDER, OPERATION, read_request, read_response, history_key, stream_asked = read_with(reader)
HISTORY_FIELD = "input"  # the request field holding the re-sent history (left out of the key-path counts)
MAPPING_FIELDS = ("client_metadata",)  # config shown as a table of its own, only what changed
TOKEN_COLUMNS = ["input", "cached", "output", "reasoning", "total"]
COUNTS = ("input_tokens", "output_tokens", "total_tokens")  # input, output and total, in this API's words
DETAILS = ("input_tokens_details", "output_tokens_details")  # where the cached input and the reasoning are
# Requests ----------------------------------------------------------------------------------------


def render_request(turn: Turn, label: str, state: dict) -> Rendered:
    config = ({"model": turn.model} if turn.model is not None else {}) | turn.config
    rendered = Rendered(config_lines(config, set(MAPPING_FIELDS), label, state))
    instructions = [block for block in turn.system if block.role == "instructions"]
    if instructions:
        rendered.add(text_once("Instructions", instructions[0].text, label, state), "")
    for field in MAPPING_FIELDS:
        if field in turn.config:
            rendered.add(mapping_block("Client metadata", turn.config[field], label, state), "")
    carried = turn.carried.items if turn.carried else 0
    if turn.previous_response_id:
        if turn.carried:
            rendered.add(
                Markdown("Continues response {} from exchange #{}: its input holds only the new items.").format(
                    inline(turn.previous_response_id), turn.carried.source
                ),
                "",
            )
        else:
            rendered.add(
                Markdown(
                    "Continues response {} from a response not in this capture: its input holds only the new items."
                ).format(inline(turn.previous_response_id)),
                "",
            )
    tools = tools_in_context(turn, state)
    if tools:
        rendered.add(*tools_section(tools, label, state, with_namespace=True))
    if turn.input or turn.previous_response_id:
        rendered.add(Markdown("**Input**: {}").format(input_summary(turn)), "")
    prefix = turn.carried is not None and turn.carried.by == "prefix"
    new = turn.input[carried:] if prefix else turn.input
    first = carried + 1 if turn.carried else 1
    gap = turn_markdown.history_gap(turn, carried if prefix else 0)
    turn_markdown.items_section(new, first, "input", state.setdefault("calls", {}), rendered,
                                [item.size for item in new], notes=part_kinds, gap=gap)  # fmt: skip
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


def input_summary(turn: Turn) -> Markdown:
    carried = turn.carried
    count = turn.input_count - (carried.items if carried and carried.by == "prefix" else 0)
    summary = Markdown("+ {} new item{}").format(count, "s" if count != 1 else "")
    if carried and carried.items:
        how = " (by previous_response_id)" if carried.by == "previous_response_id" else ""
        summary = Markdown("{}; {} carried over from #{}{}").format(summary, carried.items, carried.source, how)
    return summary


def part_kinds(item: Item) -> dict[int, Markdown]:
    """What codex says each part of a message is (`content_item_kinds`, one per part), beside the part."""
    passthrough = item.metadata.get("internal_chat_message_metadata_passthrough")
    kinds = passthrough.get("content_item_kinds") if isinstance(passthrough, dict) else None
    if not isinstance(kinds, list):
        return {}
    return {position: Markdown("kind {}").format(inline(str(kind))) for position, kind in enumerate(kinds)}


def tools_in_context(turn: Turn, state: dict) -> list[Tool]:
    """The tools the whole context declares: a request continuing a response by id sends only new items, so the
    tools declared earlier in that context still apply."""
    known = state.setdefault("context_tools", RecentResponses())  # response id -> tools of its context
    earlier = known.get(turn.previous_response_id) if turn.previous_response_id else None
    tools = (earlier or []) + turn.tools
    state.setdefault("pending_tools", {})[turn.number] = tools
    return tools


# Responses ---------------------------------------------------------------------------------------


def render_response(turn: Turn, label: str, state: dict) -> Rendered:
    tools = state.setdefault("pending_tools", {}).pop(turn.number, turn.tools)
    if turn.response_id:
        state.setdefault("context_tools", RecentResponses()).remember(turn.response_id, tools)
    final = any(kind in turn.events for kind in reader.FINAL_EVENTS)
    rendered = turn_markdown.response_opening(turn, state)
    turn_markdown.output_section(turn, state.setdefault("calls", {}), rendered)
    if turn.events and not final:
        rendered.add(Markdown("**No final event**: the stream ended before `response.completed`."), "")
    elif final or turn.response_id:
        facts = [("status", turn.stop_reason)] if turn.stop_reason is not None else []
        facts += [("id", turn.response_id)] + ([("model", turn.model)] if turn.model else [])
        rendered.add(turn_markdown.facts_line("Response", facts), "")
    rendered.add(*turn_markdown.response_fields_lines(turn))
    if turn.usage is not None:
        rendered.tokens = usage_tokens(turn.usage.raw, COUNTS, DETAILS)
        rendered.add(usage_table(TOKEN_COLUMNS, rendered.tokens), "")
    elif final and not turn.output:
        rendered.add(Markdown("No usage and no output (a warm-up request answers like this)."), "")
    rendered.unrecognised |= set(turn.unrecognised)
    return rendered


def render_epilogue(state: dict) -> Rendered:
    """The whole context of the last request, for readers who want it rebuilt in one place."""
    rendered = Rendered()
    last = state.get("last_context")
    if last and last[1]:
        number, items, _, gap = last if len(last) == 4 else (*last, None)
        inner = Rendered()
        turn_markdown.items_section(items, 1, "input", dict(state.get("calls", {})), inner,
                                    [item.size for item in items], notes=part_kinds, gap=gap)  # fmt: skip
        count = len(items) + (gap[1] if gap is not None else 0)
        rendered.add(
            Markdown("## Full context of the last request (#{})").format(number),
            "",
            details(f"All {counted(count, 'input item')} of #{number}, rebuilt from the history", *inner.lines),
        )
    return rendered
