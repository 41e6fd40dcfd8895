// Facts about turns that several views share: tokens, what each turn is compared with, and what each section shows as text.

function isNumber(value) {
  return typeof value === "number" && isFinite(value);
}

// A count from the capture, or null for anything that is not one (a capture may hold any value).
function count(value) {
  return isNumber(value) && value >= 0 ? value : null;
}

// The words every view uses for token counts, by the field of tokens(turn) they name.
const TOKEN_WORDS = [
  ["input", "input"],
  ["cached", "cache read"],
  ["written", "cache write"],
  ["output", "output"],
  ["reasoning", "reasoning"],
];

// The usage as the API sent it, compactly: its own names for the counts.
function usageAsSent(turn) {
  return turn.usage && turn.usage.raw !== undefined ? compact(turn.usage.raw) : "";
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
const lastAt = { system: new Map(), tools: new Map(), endpoint: new Map() };
const hasSection = { system: (turn) => VALUES[turn.system].length > 0, tools: (turn) => turn.tools.length > 0 };

function noteBefore(turn, index) {
  const place = endpoint(turn);
  const conversation = place + "\u0000" + turn.model;
  const source = turn.carried ? byNumber.get(turn.carried.source) : undefined;
  for (const section of ["system", "tools"]) {
    const carried = source !== undefined && source < index && hasSection[section](TURNS[source]) ? source : undefined;
    const last = lastAt[section].get(conversation);
    BEFORE[section].push(carried !== undefined ? carried : last !== undefined ? last : -1);
    if (hasSection[section](turn)) lastAt[section].set(conversation, index);
  }
  const last = lastAt.endpoint.get(place);
  BEFORE.endpoint.push(last !== undefined ? last : -1);
  lastAt.endpoint.set(place, index);
}

// Tool calls answered later: call id -> the turn whose request first carried the result.
const ANSWERS = new Map();
const CALLS = new Map();

function noteCalls(turn) {
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
}

TURNS.forEach(noteBefore);
TURNS.forEach(noteCalls);
on("added", (first) => TURNS.slice(first).forEach((turn, offset) => (noteBefore(turn, first + offset), noteCalls(turn))));

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
  if (turn.usage) texts.push(usageAsSent(turn));
  for (const error of turn.errors) texts.push(keptText(error));
  return texts;
}

function diffLine(line) {
  return line.op + " " + line.text + "\n";
}

// What a tool's card shows as searchable (probe/write/viewer/js/turn_context.js), in the same order.
function toolTexts(tool) {
  const texts = [toolName(tool), String(tool.description || "")];
  if (tool.schema !== undefined && tool.schema !== null) texts.push(pretty(tool.schema));
  return texts;
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
