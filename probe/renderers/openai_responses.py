"""Renders OpenAI Responses API requests and responses (HTTP+SSE and WebSocket) as Markdown."""

import json
from itertools import chain
from typing import Any

from probe.dedupe import (Carried, History, RecentResponses, carried_summary, config_lines, listing_once, mapping_block,
                          text_once)
from probe.markdown import Markdown, Rendered, code, compact, details, first_line, inline, json_block, table, tally
from probe.sse import Event
from probe.readers import openai_responses as reader

# The conversation model of each exchange comes from this API's reader: turns.jsonl and the diff use it.
API, PROVIDER, read_request, read_response = reader.API, reader.PROVIDER, reader.read_request, reader.read_response

# Request fields shown in their own sections rather than in the config list.
SECTION_FIELDS = {"input", "instructions", "tools", "client_metadata"}
KNOWN_ITEMS = {
    "message", "additional_tools", "configuration_update", "reasoning", "function_call", "function_call_output",
    "custom_tool_call", "custom_tool_call_output",
}
KNOWN_EVENTS = {
    "response.created", "response.in_progress", "response.completed", "response.failed", "response.incomplete",
    "response.queued", "response.output_item.added", "response.output_item.done", "response.content_part.added",
    "response.content_part.done", "response.output_text.delta", "response.output_text.done",
    "response.output_text.annotation.added", "response.refusal.delta", "response.refusal.done",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
    "response.reasoning_summary_part.added", "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
    "response.reasoning_text.delta", "response.reasoning_text.done", "error", "[DONE]",
}
FINAL_EVENTS = {"response.completed", "response.failed", "response.incomplete"}
OUTPUT_TEXT = Markdown("**Output text**")
REASONING_SUMMARY = Markdown("**Reasoning summary**")


def text_of(content: Any) -> str:
    """The readable text of a message's content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    parts = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif part.get("type") == "input_image":
            parts.append(f"[image: {str(part.get('image_url') or part.get('file_id') or '')[:60]}]")
        elif part.get("type") == "input_file":
            parts.append(f"[file: {part.get('filename') or part.get('file_id') or ''}]")
    return "\n\n".join(parts)


def tool_listing(tools: Any, namespace: str = "") -> list[list[str]]:
    """Rows of (namespace, name, type, description) for tools, descending into namespaces."""
    rows = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        if tool.get("type") == "namespace":
            rows += tool_listing(tool.get("tools"), str(tool.get("name", "")))
        else:
            name = tool.get("name") or tool.get("type", "?")
            rows.append([namespace, str(name), str(tool.get("type", "")),
                         first_line(str(tool.get("description", "")), 100)])
    return rows


def tool_names(rows: list[list[str]]) -> Markdown:
    grouped: dict[str, list] = {}
    for namespace, name, kind, _ in rows:
        named = name if kind in ("function", "") else Markdown("{} ({})").format(name, kind)
        grouped.setdefault(namespace or "(top level)", []).append(named)
    return Markdown("; ").join(Markdown("{}: {}").format(namespace, Markdown(", ").join(names))
                               for namespace, names in grouped.items())


# Requests ----------------------------------------------------------------------------------------


def render_request(body: Any, label: str, state: dict) -> Rendered:
    if not isinstance(body, dict):
        return Rendered([json_block(body)])
    rendered = Rendered(config_lines(body, SECTION_FIELDS, label, state))
    if isinstance(body.get("instructions"), str):
        rendered.add(text_once("Instructions", body["instructions"], label, state), "")
    if "client_metadata" in body:
        rendered.add(mapping_block("Client metadata", body["client_metadata"], label, state), "")
    items = body.get("input")
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    items = items if isinstance(items, list) else []
    carried, full, history_lines = split_history(body, items, label, state)
    tool_rows = tool_listing(body.get("tools")) + tools_in_context(carried, full, label, state)
    if tool_rows:
        rendered.add(*listing_once("Tools declared", tool_rows, ["namespace", "name", "type", "description"],
                                   tool_names(tool_rows), label, state, "Tool table"))
    rendered.add(*history_lines)
    if items:
        render_input(carried.new, rendered, state, first_index=carried.count + 1)
    rendered.payload = {key: value for key, value in body.items() if key != "input"} | {"input": carried.new}
    return rendered


def declared_tools(item: Any) -> list[list[str]]:
    if isinstance(item, dict) and item.get("type") == "additional_tools":
        return tool_listing(item.get("tools"))
    return []


def tools_in_context(carried: Carried, full: list, label: str, state: dict) -> list[list[str]]:
    """Tool rows declared by the whole context, reusing what the carried-over part declared before."""
    rows_by_item = state.setdefault("tool_rows", RecentResponses())  # label -> tool rows of each context item
    earlier = rows_by_item.get(carried.source) if carried.count else []
    if earlier is None:  # forgotten already: list the whole context again
        own = [declared_tools(item) for item in full]
    else:
        # Items past the earlier request's own (the model's output after it) declare no tools.
        own = earlier[:carried.count] + [[]] * max(0, carried.count - len(earlier))
        own += [declared_tools(item) for item in carried.new]
    rows_by_item.remember(label, own)
    return list(chain.from_iterable(own))


def split_history(body: dict, items: list, label: str, state: dict) -> tuple[Carried, list, list[str]]:
    """Which input items an earlier exchange already showed, the full context, and lines saying so."""
    contexts = state.setdefault("contexts", RecentResponses())  # response id -> (label, context after it)
    previous = body.get("previous_response_id")
    lines: list[str] = []
    if previous:
        origin = contexts.get(str(previous))
        if origin is None:
            lines += [Markdown("Continues response {} from a response not in this capture: "
                               "its input holds only the new items.").format(inline(str(previous))), ""]
            carried, full = Carried(0, None, items), items
        else:
            lines += [Markdown("Continues response {} from exchange {}: its input holds only the new items.")
                      .format(inline(str(previous)), origin[0]), ""]
            carried, full = Carried(len(origin[1]), origin[0], items), origin[1] + items
        how = " (by previous_response_id)"
    else:
        carried, full = state.setdefault("history", History()).split(label, items), items
        how = ""
    # Only a response that can be continued by id (a WebSocket turn, or one the server stores, which is
    # the API's default) keeps its context for later: codex over HTTP sends store:false, and holding
    # every context would make memory and time grow with the capture.
    continuable = body.get("type") == "response.create" or bool(previous) or body.get("store") is not False
    state.setdefault("pending", {})[label] = (full, continuable)
    state["last_request"] = (label, full)
    if items:
        lines += [Markdown("**Input**: {}").format(carried_summary(carried, how)), ""]
    return carried, full, lines


def render_input(items: list, rendered: Rendered, state: dict, first_index: int = 1) -> None:
    calls = state.setdefault("calls", {})
    rows, blocks = [], []
    for index, item in enumerate(items, start=first_index):
        if not isinstance(item, dict):
            rows.append([index, type(item).__name__, "", "", ""])
            blocks.append(details(f"input[{index}] (not an object)", json_block(item)))
            continue
        kind = str(item.get("type", "message"))
        role = str(item.get("role", ""))
        summary, body = describe_item(item, kind, calls)
        if kind not in KNOWN_ITEMS:
            rendered.unrecognised.add(f"input item {kind}")
        size = len(json.dumps(item, ensure_ascii=False))
        rows.append([index, kind, role, summary, f"{size:,}"])
        blocks.append(details(f"input[{index}] {kind}{' ' + role if role else ''}: {summary}", body))
    if rows:
        rendered.add(table(["#", "type", "role", "summary", "bytes"], rows), "", *blocks)


def render_epilogue(state: dict) -> Rendered:
    """The whole context of the last request, for readers who want it rebuilt in one place."""
    rendered = Rendered()
    if state.get("last_request"):
        label, items = state["last_request"]
        inner = Rendered()
        render_input(items, inner, {"calls": dict(state.get("calls", {}))})
        rendered.add(Markdown("## Full context of the last request ({})").format(label), "",
                     details(f"All {len(items)} input items of {label}, rebuilt from the history", *inner.lines))
    return rendered


def describe_item(item: dict, kind: str, calls: dict) -> tuple[str, Markdown]:
    """A one-line summary and the full Markdown body of one input item."""
    if kind == "message":
        text = text_of(item.get("content"))
        return first_line(text) or "(empty)", code(text, "text")
    if kind == "additional_tools":
        rows = tool_listing(item.get("tools"))
        return f"{len(rows)} tools", Markdown("{}\n\n{}").format(
            table(["namespace", "name", "type", "description"], rows),
            details("Full tool schemas", json_block(item.get("tools"))))
    if kind == "reasoning":
        text = "\n\n".join(text_of([part]) for part in item.get("summary") or [] if isinstance(part, dict))
        encrypted = " (with encrypted content)" if item.get("encrypted_content") else ""
        shown = code(text or "(no summary)", "text")
        if encrypted:  # below the block: text after a closing fence would keep the block open
            shown = Markdown("{}\n\n{}").format(shown, encrypted.strip())
        return first_line(text) or f"(no summary){encrypted}", shown
    if kind in ("function_call", "custom_tool_call"):
        name = qualified_name(item)
        calls[str(item.get("call_id"))] = name
        arguments = item.get("arguments", item.get("input", ""))
        return f"{name}({first_line(str(arguments), 60)})", Markdown("call_id {}\n\n{}").format(
            inline(str(item.get("call_id"))), pretty_arguments(arguments))
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        text = output if isinstance(output, str) else text_of(output) or json.dumps(output)
        name = calls.get(str(item.get("call_id")), "an earlier call")
        return f"output of {name}: {first_line(text, 60)}", Markdown("call_id {}\n\n{}").format(
            inline(str(item.get("call_id"))), code(text, "text"))
    return f"{len(json.dumps(item))} bytes", json_block(item)


def qualified_name(item: dict) -> str:
    name = str(item.get("name", "?"))
    return f"{item['namespace']}.{name}" if item.get("namespace") else name


def pretty_arguments(arguments: Any) -> Markdown:
    if isinstance(arguments, str):
        try:
            return json_block(json.loads(arguments))
        except ValueError:
            return code(arguments, "text")
    return json_block(arguments)


# Responses ---------------------------------------------------------------------------------------


def render_response(events: list[Event] | None, body: Any, label: str, state: dict) -> Rendered:
    rendered = Rendered()
    if events is None:
        if isinstance(body, dict) and body.get("object") == "response":
            render_final(body, {}, rendered, label, state)
        elif isinstance(body, dict) and "error" in body:
            rendered.add(Markdown("**Error**: {}").format(inline(compact(body["error"]))))
        elif body is not None:
            rendered.add(details("JSON body", json_block(body)))
        return rendered
    counts: dict[str, int] = {}
    texts: dict[str, list[str]] = {}  # lists joined at the end: a long answer arrives as thousands of deltas
    summaries: dict[str, list[str]] = {}
    items: dict[str, dict] = {}  # output items by id: added, grown by argument deltas, replaced when done
    final: dict | None = None
    errors: list[Any] = []
    for event in events:
        data = event.data if type(event.data) is dict else {}
        kind = data.get("type") or event.name or (event.data if event.data == "[DONE]" else "(untyped)")
        kind = kind if type(kind) is str else str(kind)
        counts[kind] = counts.get(kind, 0) + 1
        if kind not in KNOWN_EVENTS:
            rendered.unrecognised.add(f"event {kind}")
        item_id = str(data.get("item_id", ""))
        if kind == "response.output_text.delta":
            texts.setdefault(item_id, []).append(str(data.get("delta", "")))
        elif kind == "response.reasoning_summary_text.delta":
            summaries.setdefault(item_id, []).append(str(data.get("delta", "")))
        elif kind in ("response.output_item.added", "response.output_item.done") and isinstance(data.get("item"), dict):
            item = data["item"]
            items[str(item.get("id") or data.get("output_index") or len(items))] = dict(item)
        elif kind == "response.function_call_arguments.delta" and item_id in items:
            # Kept for streams cut before output_item.done: the call is still shown, as far as it got.
            items[item_id]["arguments"] = str(items[item_id].get("arguments") or "") + str(data.get("delta", ""))
        elif kind in FINAL_EVENTS and isinstance(data.get("response"), dict):
            final = data["response"]
        elif kind == "error":
            errors.append(data.get("error", data))
    if final is not None:
        for index, item in enumerate(final.get("output") or []):
            if isinstance(item, dict):
                items.setdefault(str(item.get("id") or index), item)
    rendered.add(Markdown("**Events ({})**: {}").format(sum(counts.values()), tally(counts)), "")
    for error in errors:
        rendered.add(Markdown("**Error event**: {}").format(inline(compact(error))), "")
    if summaries:
        rendered.add(REASONING_SUMMARY, "", code("\n\n".join(map("".join, summaries.values())), "text"), "")
    if texts:
        rendered.add(OUTPUT_TEXT, "", code("".join(map("".join, texts.values())), "text"), "")
    render_items(list(items.values()), rendered, state, skip_text=bool(texts), skip_reasoning=bool(summaries))
    if final is not None:
        render_final(final, {"events": True}, rendered, label, state, list(items.values()))
    else:
        rendered.add(Markdown("**No final event**: the stream ended before `response.completed`."), "")
    return rendered


def render_items(items: list[dict], rendered: Rendered, state: dict, skip_text: bool, skip_reasoning: bool) -> None:
    """Tool calls, and text or reasoning not already assembled from deltas."""
    calls = state.setdefault("calls", {})
    for item in items:
        kind = str(item.get("type", ""))
        if kind in ("function_call", "custom_tool_call"):
            name = qualified_name(item)
            calls[str(item.get("call_id"))] = name
            arguments = item.get("arguments", item.get("input", ""))
            rendered.add(Markdown("**Tool call** {} (call_id {})").format(inline(name), inline(str(item.get("call_id")))),
                         "", pretty_arguments(arguments), "")
        elif kind == "message" and not skip_text:
            rendered.add(OUTPUT_TEXT, "", code(text_of(item.get("content")), "text"), "")
        elif kind == "reasoning" and not skip_reasoning:
            summary = "\n\n".join(text_of([part]) for part in item.get("summary") or [] if isinstance(part, dict))
            if summary:
                rendered.add(REASONING_SUMMARY, "", code(summary, "text"), "")
        elif kind not in ("message", "reasoning"):
            rendered.unrecognised.add(f"output item {kind}")
            rendered.add(details(f"Output item {kind}", json_block(item)))


def render_final(response: dict, seen: dict, rendered: Rendered, label: str, state: dict,
                 output: list | None = None) -> None:
    response_id = response.get("id")
    if output is None:
        output = [item for item in response.get("output") or [] if isinstance(item, dict)]
    if not seen.get("events"):
        render_items(output, rendered, state, skip_text=False, skip_reasoning=False)
    full, continuable = state.setdefault("pending", {}).pop(label, (None, False))
    if response_id and full is not None:
        # What the next turn continues from: this request's context plus the model's output.
        context = full + output
        if continuable:
            state.setdefault("contexts", RecentResponses()).remember(str(response_id), (label, context))
        if "history" in state:
            state["history"].update(label, context)
    fact = Markdown("{} {}")
    facts = [fact.format("status", inline(str(response.get("status")))), fact.format("id", inline(str(response_id)))]
    if response.get("model"):
        facts.append(fact.format("model", inline(str(response["model"]))))
    if response.get("error"):
        facts.append(fact.format("error", inline(compact(response["error"]))))
    if response.get("incomplete_details"):
        facts.append(fact.format("incomplete", inline(compact(response["incomplete_details"]))))
    rendered.add(Markdown("**Response**: {}").format(Markdown(", ").join(facts)), "")
    usage = response.get("usage")
    if isinstance(usage, dict):
        tokens = usage_tokens(usage)
        rendered.tokens = tokens
        rendered.add(table(["input", "cached", "output", "reasoning", "total"],
                           [[f"{tokens[key]:,}" for key in ("input", "cached", "output", "reasoning", "total")]]), "")
    elif not response.get("output"):
        rendered.add(Markdown("No usage and no output (a warm-up request answers like this)."), "")


def usage_tokens(usage: dict) -> dict[str, int]:
    def number(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    input_details = usage.get("input_tokens_details") if isinstance(usage.get("input_tokens_details"), dict) else {}
    output_details = usage.get("output_tokens_details") if isinstance(usage.get("output_tokens_details"), dict) else {}
    return {
        "input": number(usage.get("input_tokens")),
        "cached": number(input_details.get("cached_tokens")),
        "output": number(usage.get("output_tokens")),
        "reasoning": number(output_details.get("reasoning_tokens")),
        "total": number(usage.get("total_tokens")),
    }
