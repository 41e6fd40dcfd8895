// agent-probe's report viewer. Every captured string reaches the page as a text node (textContent or
// createTextNode), never as HTML: there is no innerHTML, no insertAdjacentHTML and no URL taken from the data.
"use strict";

const DATA = JSON.parse(document.getElementById("probe-data").textContent);
const VALUES = DATA.values;
const TURNS = DATA.turns;
const byNumber = new Map(TURNS.map((turn, index) => [turn.n, index]));
const SVG = "http://www.w3.org/2000/svg";
const RAW_HEAD = 256 * 1024; // bytes of a raw body the page keeps (probe/viewer/data.py)

// ---- building elements -------------------------------------------------------------------------------------

// el("div", {class: "x"}, "text", child): strings become text nodes, whatever they hold.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error("event handlers are attached with addEventListener");
    node.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Searchable text: what the search counts and marks is exactly what these elements hold.
function searchable(tag, className, text) {
  return el(tag, { class: className ? "s " + className : "s" }, text);
}

function turnLink(number, label) {
  const link = el("a", { href: "#turn-" + number, class: "turn-link" }, label || "#" + number);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    select(byNumber.get(number), true);
  });
  return link;
}

function details(summary, build, open) {
  // The body is built when first opened: a 200-turn run has thousands of collapsed parts.
  const node = el("details", { open: !!open }, el("summary", {}, summary));
  let built = false;
  const fill = () => {
    if (built) return;
    built = true;
    append(node, [build()]);
  };
  if (open) fill();
  node.addEventListener("toggle", () => node.open && fill());
  return node;
}

function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch (error) {
    return String(value);
  }
}

function compact(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch (error) {
    return String(value);
  }
}

function number(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : "—";
}

function ms(value) {
  if (typeof value !== "number") return "—";
  return value >= 1000 ? (value / 1000).toFixed(2) + " s" : value.toFixed(1) + " ms";
}

function table(headers, rows, className) {
  return el(
    "table",
    { class: className },
    el("thead", {}, el("tr", {}, headers.map((header) => el("th", {}, header)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell)))))
  );
}

// ---- facts about turns ----------------------------------------------------------------------------------

function isNumber(value) {
  return typeof value === "number" && isFinite(value);
}

// A count from the capture, or null for anything that is not one (a capture may hold any value).
function count(value) {
  return isNumber(value) && value >= 0 ? value : null;
}

function tokens(turn) {
  const usage = turn.usage || {};
  return {
    input: count(usage.input),
    output: count(usage.output),
    cached: count(usage.cache_read),
    written: count(usage.cache_write),
    reasoning: count(usage.reasoning),
  };
}

function problem(turn) {
  if (!turn.complete) return "incomplete";
  if (turn.errors.length || (isNumber(turn.status) && turn.status >= 400)) return "error";
  return null;
}

function timing(turn) {
  return turn.timing && typeof turn.timing === "object" ? turn.timing : {};
}

function endpoint(turn) {
  return [turn.proxy, turn.kind, turn.method, turn.path].join("\u0000");
}

// For each turn, the turn before it that a section is compared with (found in one pass: a long run would make
// a search backwards quadratic). Headers: the previous exchange to the same endpoint. Instructions and tools:
// the turn whose history this one carries, else the previous one with them to the same endpoint and model, so
// that a side call (a router, a title) is not taken for a change of the conversation's instructions.
const BEFORE = { system: [], tools: [], endpoint: [] };
{
  const lastAt = { system: new Map(), tools: new Map(), endpoint: new Map() };
  const has = { system: (turn) => VALUES[turn.system].length > 0, tools: (turn) => turn.tools.length > 0 };
  TURNS.forEach((turn, index) => {
    const place = endpoint(turn);
    const conversation = place + "\u0000" + turn.model;
    const source = turn.carried ? byNumber.get(turn.carried.source) : undefined;
    for (const section of ["system", "tools"]) {
      const carried = source !== undefined && source < index && has[section](TURNS[source]) ? source : undefined;
      const last = lastAt[section].get(conversation);
      BEFORE[section].push(carried !== undefined ? carried : last !== undefined ? last : -1);
      if (has[section](turn)) lastAt[section].set(conversation, index);
    }
    const last = lastAt.endpoint.get(place);
    BEFORE.endpoint.push(last !== undefined ? last : -1);
    lastAt.endpoint.set(place, index);
  });
}

// Tool calls answered later: call id -> the turn whose request first carried the result.
const ANSWERS = new Map();
const CALLS = new Map();
TURNS.forEach((turn) => {
  newInput(turn).forEach((ref) => {
    for (const part of VALUES[ref].parts || []) {
      if (part.kind === "tool_result" && part.call_id != null && !ANSWERS.has(part.call_id))
        ANSWERS.set(part.call_id, turn.n);
    }
  });
  turn.output.forEach((ref) => {
    for (const part of VALUES[ref].parts || []) {
      if (part.kind === "tool_call" && part.call_id != null && !CALLS.has(part.call_id)) CALLS.set(part.call_id, turn.n);
    }
  });
});

function carriedCount(turn) {
  const carried = turn.carried;
  return carried && carried.by === "prefix" && isNumber(carried.items) ? carried.items : 0;
}

function newInput(turn) {
  return turn.input.slice(carriedCount(turn));
}

// ---- what each section shows, as text (the search counts in exactly these strings) ------------------------

function systemText(blocks) {
  return blocks.map((block) => block.text).join("\n\n");
}

const SYSTEM_SHOWN = new Map(); // a diff is worked out once, for the search and the view alike

function systemShown(index) {
  if (!SYSTEM_SHOWN.has(index)) SYSTEM_SHOWN.set(index, compareSystem(index));
  return SYSTEM_SHOWN.get(index);
}

function compareSystem(index) {
  const turn = TURNS[index];
  const blocks = VALUES[turn.system];
  if (!blocks.length) return { kind: "none" };
  const before = BEFORE.system[index];
  if (before < 0) return { kind: "first", text: systemText(blocks) };
  if (TURNS[before].system === turn.system) return { kind: "same", since: TURNS[before].n };
  return { kind: "changed", since: TURNS[before].n, diff: lineDiff(systemText(VALUES[TURNS[before].system]), systemText(blocks)) };
}

function toolsShown(index) {
  const turn = TURNS[index];
  if (!turn.tools.length) return { kind: "none" };
  const before = BEFORE.tools[index];
  if (before < 0) return { kind: "first", added: turn.tools, removed: [] };
  const old = TURNS[before].tools;
  if (old.length === turn.tools.length && old.every((ref, i) => ref === turn.tools[i]))
    return { kind: "same", since: TURNS[before].n };
  const kept = new Set(old);
  const now = new Set(turn.tools);
  const names = new Set(turn.tools.map((ref) => toolName(VALUES[ref])));
  return {
    kind: "changed",
    since: TURNS[before].n,
    added: turn.tools.filter((ref) => !kept.has(ref)),
    removed: old.filter((ref) => !now.has(ref) && !names.has(toolName(VALUES[ref]))).map((ref) => toolName(VALUES[ref])),
  };
}

function toolName(tool) {
  return (tool.namespace ? tool.namespace + "." : "") + tool.name;
}

// The strings partView shows as searchable, in the same order.
function partTexts(part) {
  const id = part.call_id != null ? [String(part.call_id)] : [];
  if (part.kind === "tool_call") return [String(part.name)].concat(id, part.arguments != null ? [pretty(part.arguments)] : []);
  if (part.kind === "tool_result")
    return id.concat(part.text != null ? [String(part.text)] : [], part.raw != null ? [pretty(part.raw)] : []);
  if (part.kind === "text" || part.kind === "reasoning") return [String(part.text == null ? "" : part.text)];
  return (part.text != null ? [String(part.text)] : []).concat([pretty(part.raw)]);
}

function itemLabel(item) {
  const size = isNumber(item.size) ? " · " + number(item.size) + " bytes" : "";
  return [item.type, item.role, item.id].filter((x) => x != null).join(" · ") + size;
}

function itemTexts(item) {
  const texts = [itemLabel(item)].concat((item.parts || []).flatMap(partTexts));
  if (item.metadata && Object.keys(item.metadata).length) texts.push(compact(item.metadata));
  return texts;
}

function turnTexts(index) {
  const turn = TURNS[index];
  const texts = [turn.path];
  for (const [, value] of factList(turn)) texts.push(value);
  for (const [key, value] of Object.entries(VALUES[turn.config])) texts.push(key, compact(value));
  for (const field of ["request_headers", "response_headers"])
    for (const [name, value] of headersShown(index, field).changed || []) texts.push(name, value);
  const system = systemShown(index);
  if (system.kind === "first") texts.push(...VALUES[turn.system].map((block) => block.text));
  if (system.kind === "changed") texts.push(...system.diff.map(diffLine));
  const tools = toolsShown(index);
  if (tools.added) for (const ref of tools.added) texts.push(...toolTexts(VALUES[ref]));
  for (const ref of newInput(turn)) texts.push(...itemTexts(VALUES[ref]));
  for (const ref of turn.output) texts.push(...itemTexts(VALUES[ref]));
  for (const error of turn.errors) texts.push(keptText(error));
  return texts;
}

function diffLine(line) {
  return line.op + " " + line.text + "\n";
}

function toolTexts(tool) {
  return [toolName(tool), tool.description || ""];
}

// ---- a line diff (longest common subsequence; instructions are a few hundred lines) ----------------------

function lineDiff(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > 4e6) {
    // Too long to align line by line in a page: show both whole.
    return a.map((text) => ({ op: "-", text })).concat(b.map((text) => ({ op: "+", text })));
  }
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ op: " ", text: a[i] });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || table[i][j + 1] >= table[i + 1][j])) {
      lines.push({ op: "+", text: b[j++] });
    } else {
      lines.push({ op: "-", text: a[i++] });
    }
  }
  // Unchanged stretches keep three lines of context on each side, as a unified diff does.
  return lines.filter((line, at) => {
    if (line.op !== " ") return true;
    for (let near = Math.max(0, at - 3); near <= Math.min(lines.length - 1, at + 3); near++)
      if (lines[near].op !== " ") return true;
    return false;
  });
}

// ---- the sidebar ------------------------------------------------------------------------------------------

let current = -1;
const rows = [];

function buildSidebar() {
  const list = document.getElementById("timeline");
  const fragment = document.createDocumentFragment();
  TURNS.forEach((turn, index) => {
    const used = tokens(turn);
    const trouble = problem(turn);
    const row = el(
      "button",
      { class: "row" + (trouble ? " " + trouble : ""), type: "button", "data-turn": turn.n },
      el("span", { class: "n" }, "#" + turn.n),
      el("span", { class: "path" }, (turn.kind === "websocket" ? "WS " : turn.method + " ") + turn.path),
      el("span", { class: "status" }, turn.status == null ? "—" : String(turn.status)),
      trouble ? el("span", { class: "mark", title: trouble }, trouble === "error" ? "error" : "cut off") : null,
      el("span", { class: "model" }, turn.model == null ? "" : String(turn.model)),
      el(
        "span",
        { class: "numbers" },
        (used.input == null && used.output == null ? "" : number(used.input) + " in · " + number(used.output) + " out · ") +
          "ttfb " + ms(timing(turn).ttfb_ms) + " · " + ms(timing(turn).duration_ms)
      )
    );
    row.addEventListener("click", () => select(index, true));
    rows.push(row);
    fragment.appendChild(row);
  });
  list.appendChild(fragment);
}

// ---- the run header --------------------------------------------------------------------------------------

function buildHeader() {
  const header = DATA.header;
  const box = document.getElementById("run");
  document.title = "agent-probe: " + (header.run || "report");
  append(document.getElementById("run-name"), [header.run || ""]);
  const facts = el("dl", { class: "facts" });
  const generated = document.querySelector('meta[name="generated"]').getAttribute("content");
  const shown = header.facts.slice(0, 1).concat([["Generated at", generated]], header.facts.slice(1));
  for (const [label, text] of shown) append(facts, [el("dt", {}, label), el("dd", {}, text)]);
  const parts = [facts];
  const kinds = Object.keys(header.unrecognised || {});
  if (kinds.length) {
    parts.push(
      el("h3", {}, "Unrecognised kinds (" + kinds.length + ")"),
      el(
        "ul",
        { class: "unrecognised" },
        kinds.map((kind) => el("li", {}, el("code", {}, kind), " in ", header.unrecognised[kind].map((n, i) => [i ? ", " : "", turnLink(n)])))
      )
    );
  }
  if (header.warnings.length) parts.push(el("h3", {}, "Warnings"), el("ul", { class: "warnings" }, header.warnings.map((w) => el("li", {}, w))));
  parts.push(
    details("Endpoints (" + header.endpoints.length + ")", () => table(["proxy", "path", "methods", "count"], header.endpoints)),
    details("HTTP methods", () => table(["method", "count"], header.methods)),
    details("Status codes", () => table(["status", "count"], header.statuses)),
    details("Payload structure: request key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.request)),
    details("Payload structure: response key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.response))
  );
  append(box, parts);
}

// ---- the token chart -------------------------------------------------------------------------------------

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

let bars = [];

function buildChart() {
  const withTokens = TURNS.map((turn, index) => ({ index, used: tokens(turn) })).filter(
    (entry) => entry.used.input != null || entry.used.output != null
  );
  const box = document.getElementById("chart");
  if (!withTokens.length) {
    append(box, [el("p", { class: "quiet" }, "No exchange reported token usage.")]);
    return;
  }
  // Input (cached, then the rest) in the upper band, output in the lower one, each on its own scale: output is
  // often a hundredth of the input, and would not show on the input's scale.
  const upper = 100;
  const lower = 36;
  const gap = 6;
  const height = upper + gap + lower;
  const step = Math.max(3, Math.min(28, 1200 / withTokens.length));
  const width = step * withTokens.length;
  const mostInput = Math.max(1, ...withTokens.map((entry) => entry.used.input || 0));
  const mostOutput = Math.max(1, ...withTokens.map((entry) => entry.used.output || 0));
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, class: "tokens", role: "img", "aria-label": "tokens per turn" });
  bars = new Array(TURNS.length);
  withTokens.forEach(({ index, used }, position) => {
    const x = position * step;
    const cached = Math.min(used.cached || 0, used.input || 0);
    const fresh = (used.input || 0) - cached;
    const group = svg(
      "g",
      { class: "bar", "data-turn": TURNS[index].n },
      svg("title", {}, "#" + TURNS[index].n + ": input " + number(used.input) + " (cached " + number(used.cached) + "), output " + number(used.output)),
      svg("rect", { class: "hit", x: x, y: 0, width: step, height: height })
    );
    const bar = (kind, y, h) => group.appendChild(svg("rect", { class: kind, x: x + step * 0.1, y: y, width: Math.max(1, step * 0.8), height: Math.max(0, h) }));
    const cachedHeight = (cached / mostInput) * upper;
    const freshHeight = (fresh / mostInput) * upper;
    bar("cached", upper - cachedHeight, cachedHeight);
    bar("input", upper - cachedHeight - freshHeight, freshHeight);
    bar("output", upper + gap, ((used.output || 0) / mostOutput) * lower);
    group.addEventListener("click", () => select(index, true));
    bars[index] = group;
    chart.appendChild(group);
  });
  append(box, [
    chart,
    el(
      "p",
      { class: "legend" },
      el("span", { class: "key cached" }, "cached input"),
      el("span", { class: "key input" }, "input"),
      " tokens per turn, up to " + number(mostInput) + "; ",
      el("span", { class: "key output" }, "output"),
      " tokens below, up to " + number(mostOutput)
    ),
  ]);
}

// ---- one turn --------------------------------------------------------------------------------------------

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

// ---- selection and keyboard ------------------------------------------------------------------------------

function select(index, scroll) {
  if (index === undefined || index < 0 || index >= TURNS.length) return;
  if (current >= 0) {
    rows[current].classList.remove("selected");
    if (bars[current]) bars[current].classList.remove("selected");
  }
  current = index;
  rows[index].classList.add("selected");
  if (bars[index]) bars[index].classList.add("selected");
  keepInView(rows[index], document.querySelector("nav"));
  renderTurn(index);
  if (location.hash !== "#turn-" + TURNS[index].n) history.replaceState(null, "", "#turn-" + TURNS[index].n);
  if (scroll) {
    const main = document.querySelector("main");
    main.scrollTop = document.getElementById("turn").offsetTop; // main is positioned: the offset parent
  }
  if (search.query) markHits(index);
}

// Scrolls only `box` (scrollIntoView would scroll every scrolling ancestor, the page's main pane too).
function keepInView(node, box) {
  const top = node.offsetTop; // nav is positioned: it is the offset parent
  if (top < box.scrollTop) box.scrollTop = top;
  else if (top + node.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = top + node.offsetHeight - box.clientHeight;
}

function fromHash() {
  const match = /^#turn-(\d+)$/.exec(location.hash);
  const index = match ? byNumber.get(Number(match[1])) : undefined;
  return index === undefined ? 0 : index;
}

document.addEventListener("keydown", (event) => {
  const box = document.getElementById("search");
  if (event.target === box) {
    if (event.key === "Enter") {
      event.preventDefault();
      step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") box.blur();
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target instanceof HTMLElement && event.target.closest("input, textarea, select")) return;
  // Letters only: the arrows, Home and End keep scrolling a long turn.
  if (event.key === "j") select(current + 1, true);
  else if (event.key === "k") select(current - 1, true);
  else if (event.key === "g") select(0, true);
  else if (event.key === "G") select(TURNS.length - 1, true);
  else if (event.key === "n") step(1);
  else if (event.key === "N") step(-1);
  else if (event.key === "/") {
    box.focus();
    box.select();
  } else return;
  event.preventDefault();
});

// ---- search ----------------------------------------------------------------------------------------------

// Literal and case-insensitive; hits are counted and marked with the same expression, in the same texts.
const search = { query: "", pattern: null, hits: [], at: -1 };

function hitsIn(text) {
  search.pattern.lastIndex = 0;
  let found = 0;
  while (search.pattern.exec(text)) found++;
  return found;
}

function runSearch(query) {
  pending = null;
  search.query = query;
  search.pattern = query ? new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "giu") : null;
  search.hits = [];
  search.at = -1;
  if (query) {
    TURNS.forEach((turn, index) => {
      const found = turnTexts(index).reduce((sum, text) => sum + hitsIn(text), 0);
      for (let k = 0; k < found; k++) search.hits.push([index, k]);
    });
  }
  const hit = new Set(search.hits.map((entry) => entry[0]));
  rows.forEach((row, index) => row.classList.toggle("hit", hit.has(index)));
  if (search.hits.length) step(1);
  else {
    showCount();
    if (current >= 0) renderTurn(current);
  }
}

// What was typed last is searched before stepping, however soon after the typing Enter comes.
function step(direction) {
  const box = document.getElementById("search");
  if (pending !== null || box.value !== search.query) {
    clearTimeout(pending);
    runSearch(box.value);
    return;
  }
  if (!search.hits.length) return;
  search.at = (search.at + direction + search.hits.length) % search.hits.length;
  const [index] = search.hits[search.at];
  if (index !== current) select(index, false);
  else markHits(index);
  showCount();
}

function showCount() {
  const label = document.getElementById("search-count");
  if (!search.query) label.textContent = "";
  else if (!search.hits.length) label.textContent = "no hits";
  else label.textContent = search.at + 1 + " of " + search.hits.length + " hit" + (search.hits.length === 1 ? "" : "s");
}

// Wraps every hit in this turn's searchable text in <mark>, the current one marked as such.
function markHits(index) {
  const view = document.getElementById("turn");
  for (const old of view.querySelectorAll("mark")) old.replaceWith(document.createTextNode(old.textContent));
  view.normalize();
  if (!search.pattern) return;
  const currentHit = search.at >= 0 && search.hits[search.at][0] === index ? search.hits[search.at][1] : -1;
  let k = 0;
  for (const holder of view.querySelectorAll(".s")) {
    const nodes = [];
    const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) nodes.push(walker.currentNode);
    // The hits are counted in the holder's whole text: find them there, then wrap each in its text nodes.
    const text = nodes.map((node) => node.textContent).join("");
    const ranges = [];
    search.pattern.lastIndex = 0;
    for (let found = search.pattern.exec(text); found; found = search.pattern.exec(text))
      ranges.push([found.index, found.index + found[0].length, k++]);
    if (!ranges.length) continue;
    let offset = 0;
    for (const node of nodes) {
      const start = offset;
      const value = node.textContent;
      offset += value.length;
      const inside = ranges.filter(([from, to]) => from < offset && to > start);
      if (!inside.length) continue;
      const pieces = document.createDocumentFragment();
      let at = 0;
      for (const [from, to, number] of inside) {
        const a = Math.max(from - start, 0);
        const b = Math.min(to - start, value.length);
        pieces.appendChild(document.createTextNode(value.slice(at, a)));
        pieces.appendChild(el("mark", { class: number === currentHit ? "current" : null }, value.slice(a, b)));
        at = b;
      }
      pieces.appendChild(document.createTextNode(value.slice(at)));
      node.replaceWith(pieces);
    }
  }
  const mark = view.querySelector("mark.current");
  if (mark) {
    for (let open = mark.closest("details"); open; open = open.parentElement.closest("details")) open.open = true;
    mark.scrollIntoView({ block: "center" });
  }
}

let pending = null;
document.getElementById("search").addEventListener("input", (event) => {
  clearTimeout(pending);
  const query = event.target.value;
  pending = setTimeout(() => runSearch(query), 120);
});
document.getElementById("search-next").addEventListener("click", () => step(1));
document.getElementById("search-previous").addEventListener("click", () => step(-1));

// ---- start -----------------------------------------------------------------------------------------------

buildHeader();
buildSidebar();
buildChart();
append(document.getElementById("turn-count"), [TURNS.length + " exchange" + (TURNS.length === 1 ? "" : "s")]);
if (TURNS.length) select(fromHash(), false);
else append(document.getElementById("turn"), [el("p", { class: "quiet" }, "This capture holds no exchange.")]);
window.addEventListener("hashchange", () => select(fromHash(), true));
document.documentElement.dataset.ready = "1";
