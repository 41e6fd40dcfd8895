// A turn's instructions and tool definitions: what changed since the turn it is compared with, long texts folded.

const FOLD_LINES = 6; // a text longer than this many lines, or FOLD_CHARACTERS, starts folded to its first lines
const FOLD_CHARACTERS = 900;

// A long text shown folded to its first lines, with its size, and a button that shows it all. The whole text is
// in the page from the start (folded by the style sheet), so the search counts and marks in all of it.
function foldedText(node, text, tokenCount) {
  const lines = text.split("\n").length;
  if (lines <= FOLD_LINES && text.length <= FOLD_CHARACTERS) return node;
  const size = number(lines) + " lines, " + number(text.length) + " characters" + (tokenCount != null ? ", about " + number(tokenCount) + " tokens" : "");
  const box = el("div", { class: "fold folded" }, node);
  const button = el("button", { type: "button", class: "fold-toggle", "aria-expanded": "false" }, "Show all (" + size + ")");
  button.addEventListener("click", () => unfold(box, box.classList.contains("folded")));
  append(box, [button]);
  return box;
}

function unfold(box, open) {
  box.classList.toggle("folded", !open);
  const button = box.querySelector(":scope > .fold-toggle");
  button.setAttribute("aria-expanded", String(open));
  button.textContent = open ? button.textContent.replace(/^Show all/, "Fold") : button.textContent.replace(/^Fold/, "Show all");
}

// Tokens of one part of the turn's context, by its kind and name, as the insight layer split them (an estimate).
function contextTokens(turn, kind, name) {
  const context = turn.insight && turn.insight.context;
  if (!context || !Array.isArray(context.categories)) return null;
  let total = null;
  for (const part of context.categories)
    if (part.kind === kind && part.name === name && isNumber(part.tokens)) total = (total || 0) + part.tokens;
  return total;
}

// The turn a continued request (previous_response_id) takes its instructions or tools from: the nearest turn up
// its chain that sent some. The request itself sends none; the server holds the context it continues.
function continuedFrom(index, has) {
  const seen = new Set();
  let at = index;
  while (at !== undefined && !seen.has(at)) {
    seen.add(at);
    const carried = TURNS[at].carried;
    if (!carried || carried.by !== "previous_response_id") return -1;
    at = byNumber.get(carried.source);
    if (at !== undefined && at < index && has(TURNS[at])) return at;
  }
  return -1;
}

function continuedNote(index, source, what) {
  return el("p", { class: "same" }, "None sent: this request continues ", turnLink(TURNS[index].carried.source), " by previous_response_id, so the server holds the context. The " + what + " were last sent in ", turnLink(TURNS[source].n), ":");
}

function systemSection(index) {
  const turn = TURNS[index];
  const shown = systemShown(index);
  const blocks = VALUES[turn.system];
  if (shown.kind === "none") {
    const source = continuedFrom(index, (other) => VALUES[other.system].length > 0);
    if (source < 0) return null;
    const kept = VALUES[TURNS[source].system];
    return el("div", {}, continuedNote(index, source, "instructions"), details(kept.length + " block" + plural(kept.length) + " of #" + TURNS[source].n, () => blocksView(TURNS[source], kept, false)));
  }
  if (shown.kind === "same")
    return el("p", { class: "same" }, "Same as ", turnLink(shown.since), " (" + blocks.length + " block" + plural(blocks.length) + ", " + number(systemText(blocks).length) + " characters)");
  if (shown.kind === "changed")
    return el(
      "div",
      {},
      el("p", { class: "changed" }, "Changed since ", turnLink(shown.since), ":"),
      el("pre", { class: "diff" }, shown.diff.map((line) => searchable("span", "diff-" + (line.op === "+" ? "add" : line.op === "-" ? "del" : "ctx"), diffLine(line)))),
      details("The whole instructions (" + blocks.length + " blocks)", () => blocksView(turn, blocks, false))
    );
  return blocksView(turn, blocks, true);
}

function blocksView(turn, blocks, search) {
  return el(
    "div",
    {},
    blocks.map((block, i) => {
      const text = String(block.text == null ? "" : block.text);
      const body = search ? searchable("pre", "text", text) : el("pre", { class: "text" }, text);
      const meta = block.metadata && Object.keys(block.metadata).length ? " " + compact(block.metadata) : "";
      const tokensOf = contextTokens(turn, "instructions", block.role + " block " + (i + 1));
      const size = " · " + number(text.length) + " characters" + (tokensOf != null ? " · about " + number(tokensOf) + " tokens" : "");
      return el("div", { class: "block" }, el("div", { class: "label" }, "block " + (i + 1) + ": " + block.role + " / " + block.type + meta + size, copyPreButton()), foldedText(body, text, tokensOf));
    })
  );
}

function toolsSection(index) {
  const turn = TURNS[index];
  const shown = toolsShown(index);
  const tools = turn.tools.map((ref) => VALUES[ref]);
  if (shown.kind === "none") {
    const source = continuedFrom(index, (other) => other.tools.length > 0);
    if (source < 0) return null;
    return el("div", {}, continuedNote(index, source, "tools"), details(TURNS[source].tools.length + " tools of #" + TURNS[source].n, () => toolList(TURNS[source], TURNS[source].tools, new Set(), false)));
  }
  if (shown.kind === "same")
    return el("div", {}, el("p", { class: "same" }, "Same " + tools.length + " tools as ", turnLink(shown.since)), details("Show them", () => toolList(turn, turn.tools, new Set(), false)));
  const added = new Set(shown.added);
  return el(
    "div",
    {},
    shown.kind === "changed" ? el("p", { class: "changed" }, "Changed since ", turnLink(shown.since), ": " + shown.added.length + " new or changed", shown.removed.length ? "; gone: " + shown.removed.join(", ") : "") : null,
    toolList(turn, turn.tools, shown.kind === "changed" ? added : new Set(), true, added)
  );
}

// One card per tool: its name, type and size on a line, its description with its line breaks (folded when long),
// then its schema across the whole width.
function toolList(turn, refs, highlighted, search, searched) {
  return el(
    "div",
    { class: "tools" },
    refs.map((ref) => {
      const tool = VALUES[ref];
      const mark = search && (!searched || searched.has(ref));
      const text = (tag, className, value) => (mark ? searchable(tag, className, value) : el(tag, { class: className }, value));
      const description = String(tool.description || "");
      const tokensOf = contextTokens(turn, "tools", toolName(tool));
      const size = number(description.length) + " characters" + (tokensOf != null ? " · about " + number(tokensOf) + " tokens" : "");
      const schema = pretty(tool.schema);
      return el(
        "div",
        { class: "tool" + (highlighted.has(ref) ? " new" : "") },
        el("div", { class: "label" }, text("code", "tool-name", toolName(tool)), tool.type == null ? "" : " · " + String(tool.type), " · " + size),
        description ? foldedText(text("pre", "description", description), description, tokensOf) : null,
        tool.schema === undefined || tool.schema === null ? null : details("schema (" + number(schema.length) + " characters)", () => text("pre", "schema", schema), false, mark),
        tool.metadata && Object.keys(tool.metadata).length ? el("div", { class: "metadata" }, compact(tool.metadata)) : null
      );
    })
  );
}
