// One turn: its facts and sections.

function renderTurn(index) {
  const turn = TURNS[index];
  const view = document.getElementById("turn");
  view.replaceChildren();
  const heading =
    turn.kind === "websocket"
      ? ["#" + turn.n + " WebSocket " + turn.method + " ", searchable("span", "path", turn.path), " (" + turn.proxy + ")"]
      : ["#" + turn.n + " " + turn.method + " ", searchable("span", "path", turn.path), " → " + (turn.status == null ? "no response" : turn.status) + " (" + turn.proxy + ")"];
  append(view, [el("h2", { id: "turn-" + turn.n }, heading), factsOf(turn)]);
  append(view, [
    section("Instructions", systemSection(index)),
    section("Tools", toolsSection(index)),
    section("Input", inputSection(turn)),
    section("Output", outputSection(turn)),
    section("Usage", usageSection(turn)),
    section("Config", configSection(turn)),
    section("Headers", headersSection(index)),
    section("Raw", rawSection(turn)),
  ]);
}

function section(title, body) {
  if (!body) return null;
  return el("section", { class: "part", "data-section": title.toLowerCase() }, el("h3", {}, title), body);
}

// The facts of a turn that are text; factsOf shows each as searchable, and the search counts in them.
function factList(turn) {
  const facts = [];
  facts.push(["API", turn.api + (turn.provider ? " (" + turn.provider + ")" : "")]);
  if (turn.model != null) facts.push(["model", String(turn.model)]);
  facts.push(["URL", String(turn.url)]);
  if (!turn.complete) facts.push(["state", "cut off: " + (turn.error || "ended before its final event")]);
  else if (turn.error) facts.push(["state", "complete (the connection then ended: " + turn.error + ")"]);
  else facts.push(["state", "complete"]);
  facts.push(["time to first byte", ms(timing(turn).ttfb_ms)], ["duration", ms(timing(turn).duration_ms)]);
  if (turn.kind === "websocket") facts.push(["frames", number(turn.frames)]);
  facts.push(["bytes", number(turn.request_bytes) + " sent, " + number(turn.response_bytes) + " received"]);
  if (turn.stop_reason != null) facts.push(["stop reason", String(turn.stop_reason)]);
  if (turn.response_id != null) facts.push(["response id", String(turn.response_id)]);
  // The answer's own fields that have no place of their own (a model snapshot, created_at, service_tier…).
  for (const [key, value] of Object.entries(turn.response_metadata || {}))
    facts.push(["response " + key, typeof value === "string" ? value : JSON.stringify(value)]);
  if (turn.previous_response_id != null) facts.push(["previous response id", String(turn.previous_response_id)]);
  const events = Object.entries(turn.events);
  if (events.length) facts.push(["events", events.map(([name, count]) => name + " ×" + count).join(", ")]);
  if (turn.unrecognised.length) facts.push(["unrecognised", turn.unrecognised.join(", ")]);
  const insight = turn.insight || {};
  if (insight.agent != null) facts.push(["agent", String(insight.agent)]);
  if (insight.cache && insight.cache.hit_rate != null) {
    let cache = (100 * insight.cache.hit_rate).toFixed(1) + "% of " + number(insight.cache.input) + " input tokens read from the cache";
    if (insight.cache.cause) cache += "; cache break: " + insight.cache.cause.text;
    facts.push(["prompt cache", cache]);
  }
  return facts;
}

function factsOf(turn) {
  const list = el("dl", { class: "facts" });
  for (const [label, value] of factList(turn))
    append(list, [el("dt", {}, label), el("dd", {}, searchable("span", label === "state" && !turn.complete ? "bad" : "", value))]);
  if (turn.errors.length)
    append(list, [el("dt", {}, "errors"), el("dd", { class: "bad" }, turn.errors.map((error) => searchable("pre", "", keptText(error))))]);
  if (turn.unknown.length)
    append(list, [el("dt", {}, "not understood"), el("dd", {}, turn.unknown.map((entry) => details(String(entry.where), () => el("pre", {}, keptText(entry.raw)))))]);
  return list;
}

function systemSection(index) {
  const shown = systemShown(index);
  const blocks = VALUES[TURNS[index].system];
  if (shown.kind === "none") return null;
  if (shown.kind === "same")
    return el("p", { class: "same" }, "Same as ", turnLink(shown.since), " (" + blocks.length + " block" + (blocks.length === 1 ? "" : "s") + ", " + number(systemText(blocks).length) + " characters)");
  if (shown.kind === "changed")
    return el(
      "div",
      {},
      el("p", { class: "changed" }, "Changed since ", turnLink(shown.since), ":"),
      el("pre", { class: "diff" }, shown.diff.map((line) => searchable("span", "diff-" + (line.op === "+" ? "add" : line.op === "-" ? "del" : "ctx"), diffLine(line)))),
      details("The whole instructions (" + blocks.length + " blocks)", () => blocksView(blocks, false))
    );
  return blocksView(blocks, true);
}

function blocksView(blocks, search) {
  return el(
    "div",
    {},
    blocks.map((block, i) => {
      const body = search ? searchable("pre", "text", block.text) : el("pre", { class: "text" }, block.text);
      const meta = block.metadata && Object.keys(block.metadata).length ? " " + compact(block.metadata) : "";
      return el("div", { class: "block" }, el("div", { class: "label" }, "block " + (i + 1) + ": " + block.role + " / " + block.type + meta), body);
    })
  );
}

function toolsSection(index) {
  const shown = toolsShown(index);
  const tools = TURNS[index].tools.map((ref) => VALUES[ref]);
  if (shown.kind === "none") return null;
  if (shown.kind === "same")
    return el("div", {}, el("p", { class: "same" }, "Same " + tools.length + " tools as ", turnLink(shown.since)), details("Show them", () => toolTable(TURNS[index].tools, new Set(), false)));
  const added = new Set(shown.added);
  return el(
    "div",
    {},
    shown.kind === "changed" ? el("p", { class: "changed" }, "Changed since ", turnLink(shown.since), ": " + shown.added.length + " new or changed", shown.removed.length ? "; gone: " + shown.removed.join(", ") : "") : null,
    toolTable(TURNS[index].tools, shown.kind === "changed" ? added : new Set(), true, added)
  );
}

function toolTable(refs, highlighted, search, searched) {
  return el(
    "table",
    { class: "tools" },
    el("thead", {}, el("tr", {}, ["name", "type", "description", "schema", "other fields"].map((h) => el("th", {}, h)))),
    el(
      "tbody",
      {},
      refs.map((ref) => {
        const tool = VALUES[ref];
        const mark = search && (!searched || searched.has(ref));
        return el(
          "tr",
          { class: highlighted.has(ref) ? "new" : null },
          el("td", {}, mark ? searchable("code", "", toolName(tool)) : el("code", {}, toolName(tool))),
          el("td", {}, tool.type == null ? "" : String(tool.type)),
          el("td", {}, mark ? searchable("div", "description", tool.description || "") : el("div", { class: "description" }, tool.description || "")),
          el("td", {}, details("schema", () => el("pre", {}, pretty(tool.schema)))),
          el("td", {}, tool.metadata && Object.keys(tool.metadata).length ? el("code", {}, compact(tool.metadata)) : "")
        );
      })
    )
  );
}

// A list of items as the page holds it: past a few hundred, only its first and last halves, with where the rest
// were and how many (`left`, from the data): each item keeps its own number, and a line stands for the rest.
function itemViews(refs, left, first, fresh, search) {
  const views = [];
  refs.forEach((ref, i) => {
    if (left && i === left.at) views.push(el("p", { class: "quiet" }, "… " + number(left.count) + " items left out here: turns.jsonl holds every one"));
    const position = first + i + (left && i >= left.at ? left.count : 0);
    views.push(itemView(VALUES[ref], position, fresh, search));
  });
  return views;
}

function inputSection(turn) {
  if (!turn.input.length && !turn.previous_response_id) return null;
  if (turn.input_left_out) {
    const total = turn.input.length + turn.input_left_out.count;
    return el("div", { class: "items" }, el("p", { class: "delta" }, number(total) + " items"), itemViews(turn.input, turn.input_left_out, 1, true, true));
  }
  const carried = turn.carried;
  const count = carriedCount(turn);
  const parts = [];
  if (carried && carried.by === "prefix" && count) {
    parts.push(
      details(count + " earlier item" + (count === 1 ? "" : "s") + ", as sent in #" + carried.source, () =>
        el("div", {}, turn.input.slice(0, count).map((ref, i) => itemView(VALUES[ref], i + 1, false, false)))
      )
    );
  } else if (carried && carried.by === "previous_response_id") {
    parts.push(el("p", { class: "same" }, "Continues the context the server kept from ", turnLink(carried.source), " (" + number(carried.items) + " items, by previous_response_id)"));
  }
  const fresh = newInput(turn);
  parts.push(el("p", { class: "delta" }, "+ " + fresh.length + " new item" + (fresh.length === 1 ? "" : "s") + (carried ? " since #" + carried.source : "")));
  parts.push(fresh.map((ref, i) => itemView(VALUES[ref], count + i + 1, true, true)));
  return el("div", { class: "items" }, parts);
}

function outputSection(turn) {
  if (!turn.output.length) return turn.kind === "http" && turn.method !== "POST" ? null : el("p", { class: "quiet" }, "No output items.");
  return el("div", { class: "items" }, itemViews(turn.output, turn.output_left_out, 1, false, true));
}

function itemView(item, position, fresh, search) {
  const label = search ? searchable("span", "", itemLabel(item)) : itemLabel(item);
  const parts = (item.parts || []).map((part) => partView(part, search));
  const metadata =
    item.metadata && Object.keys(item.metadata).length
      ? search
        ? searchable("div", "metadata", compact(item.metadata))
        : el("div", { class: "metadata" }, compact(item.metadata))
      : null;
  return el("div", { class: "item" + (fresh ? " new" : "") }, el("div", { class: "label" }, position + ". ", label), parts, metadata);
}

function partView(part, search) {
  const text = (tag, className, value) => (search ? searchable(tag, className, value) : el(tag, { class: className }, value));
  const incomplete = part.complete === false ? el("span", { class: "bad" }, " (cut off: what arrived)") : null;
  if (part.kind === "tool_call") {
    const answered = part.call_id != null && ANSWERS.get(part.call_id);
    return el(
      "div",
      { class: "part tool-call" },
      el("div", { class: "label" }, "tool call ", text("code", "", String(part.name)), part.call_id != null ? [" · ", text("span", "", String(part.call_id))] : "", incomplete, answered ? [" · result in ", turnLink(answered)] : ""),
      part.arguments != null ? text("pre", "arguments", pretty(part.arguments)) : null
    );
  }
  if (part.kind === "tool_result") {
    const call = part.call_id != null && CALLS.get(part.call_id);
    return el(
      "div",
      { class: "part tool-result" + (part.is_error ? " bad" : "") },
      el("div", { class: "label" }, "tool result", part.call_id != null ? [" · ", text("span", "", String(part.call_id))] : "", part.is_error ? " · error" : "", call ? [" · call in ", turnLink(call)] : ""),
      part.text != null ? text("pre", "text", String(part.text)) : null,
      part.raw != null ? text("pre", "raw", pretty(part.raw)) : null
    );
  }
  if (part.kind === "text" || part.kind === "reasoning") {
    return el("div", { class: "part " + part.kind }, el("div", { class: "label" }, part.kind === "reasoning" ? "reasoning" : part.type, incomplete), text("pre", "text", String(part.text == null ? "" : part.text)));
  }
  return el("div", { class: "part other" }, el("div", { class: "label" }, part.kind + " · " + part.type), part.text != null ? text("pre", "text", String(part.text)) : null, text("pre", "raw", pretty(part.raw)));
}

function usageSection(turn) {
  if (!turn.usage) return null;
  const used = tokens(turn);
  return el(
    "div",
    {},
    table(
      ["input", "cached", "cache written", "output", "reasoning"],
      [[number(used.input), number(used.cached), number(used.written), number(used.output), number(used.reasoning)]],
      "usage"
    ),
    details("As the API reported it", () => el("pre", {}, pretty(turn.usage.raw)))
  );
}

function configSection(turn) {
  const config = VALUES[turn.config];
  const keys = Object.keys(config);
  if (!keys.length) return null;
  return table(["field", "value"], keys.map((key) => [searchable("code", "", key), searchable("code", "", compact(config[key]))]), "config");
}

function headersSection(index) {
  return el("div", {}, headerView("Request headers", index, "request_headers"), headerView("Response headers", index, "response_headers"));
}

// The headers of one side of an exchange against the previous exchange to the same endpoint: new or changed
// ones, and the names gone (none to compare with: the first exchange there, all shown collapsed).
function headersShown(index, field) {
  const before = BEFORE.endpoint[index];
  if (before < 0) return { before };
  const pairs = VALUES[TURNS[index][field]];
  const previous = VALUES[TURNS[before][field]];
  const old = new Map(previous);
  const now = new Map(pairs);
  return {
    before,
    changed: pairs.filter(([name, value]) => old.get(name) !== value),
    gone: previous.filter(([name]) => !now.has(name)).map(([name]) => name),
  };
}

function headerView(title, index, field) {
  const pairs = VALUES[TURNS[index][field]];
  if (!pairs.length) return el("p", { class: "quiet" }, title + ": none");
  const whole = () => table(["name", "value"], pairs.map(([name, value]) => [name, el("code", {}, value)]), "headers");
  const { before, changed, gone } = headersShown(index, field);
  if (before < 0) return details(title + " (" + pairs.length + ")", whole);
  if (!changed.length && !gone.length) return el("p", { class: "same" }, title + ": all " + pairs.length + " as in ", turnLink(TURNS[before].n));
  return el(
    "div",
    {},
    el("p", { class: "changed" }, title + " (" + pairs.length + "): " + changed.length + " new or changed since ", turnLink(TURNS[before].n), gone.length ? "; gone: " + gone.join(", ") : ""),
    table(["name", "value"], changed.map(([name, value]) => [searchable("span", "", name), searchable("code", "", value)]), "headers"),
    details("All " + pairs.length, whole)
  );
}

function rawSection(turn) {
  return el("div", {}, rawView("Request", turn.raw_request), rawView("Response", turn.raw_response));
}

function rawView(title, raw) {
  if (!raw || raw.format === "empty") return el("p", { class: "quiet" }, title + ": no body");
  if (raw.format === "binary") return el("p", { class: "quiet" }, title + ": " + number(raw.size) + " bytes of binary data (base64 in the capture)");
  if (raw.kept === "omitted") return el("p", { class: "quiet" }, title + ": " + number(raw.size) + " bytes, left out of this page (it holds enough raw bodies, or the body is nested too deeply); see report.md and traffic.jsonl");
  const what = { frames: " JSON frames", events: " events", json: " JSON", text: " text" }[raw.format] || "";
  const head = raw.kept === "head" ? ", the first " + number(RAW_HEAD) + " bytes" : "";
  const note = raw.left_out
    ? el("p", { class: "quiet" }, raw.left_out.field + ": its first " + number(raw.left_out.items) + " items, as sent in #" + raw.left_out.source + ", are left out")
    : null;
  return details(title + what + " (" + number(raw.size) + " bytes" + head + ", masked)", () => el("div", {}, note, el("pre", { class: "raw" }, keptText(raw))));
}

// A value the page keeps whole while small, else the head of its JSON, else only its size.
function keptText(kept) {
  if (!kept || kept.kept === "omitted") return "(left out of this page: " + number(kept && kept.bytes) + " bytes; see report.md)";
  if (kept.kept === "head") return kept.value + "\n… (" + number(kept.bytes) + " bytes in all)";
  return pretty(kept.value);
}
