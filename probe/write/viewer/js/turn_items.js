// A turn's input and output items, and their parts: text, reasoning, tool calls and their results.

const LIST_SHOWN = 100; // items a list shows before "Show all": a huge turn is not built whole
const TEXT_SHOWN = 20000; // characters of one text shown before "Show all"

// `count` views, `build(i)` making the i-th (a node or a list of nodes): the first LIST_SHOWN, then a button that
// builds the rest. The search builds them all before it marks a turn (search.js: showAll).
function cutList(count, build) {
  const box = el("div", { class: "list" });
  const shown = Math.min(count, LIST_SHOWN);
  for (let i = 0; i < shown; i++) append(box, [build(i)]);
  if (count > shown) {
    const button = el("button", { type: "button", class: "show-all" }, "Show all " + number(count) + " (" + number(count - shown) + " more)");
    button.addEventListener("click", () => {
      const rest = el("div", { class: "list-rest" });
      for (let i = shown; i < count; i++) append(rest, [build(i)]);
      button.replaceWith(rest);
    });
    box.appendChild(button);
  }
  return box;
}

// The whole text of an element cut by cutText, for a copy of it.
const WHOLE_TEXT = new WeakMap();

// A text element holding its first TEXT_SHOWN characters, and a button that puts the whole text in.
function cutText(tag, className, text, search) {
  const node = search ? searchable(tag, className, text) : el(tag, { class: className }, text);
  if (text.length <= TEXT_SHOWN) return node;
  node.textContent = text.slice(0, TEXT_SHOWN);
  WHOLE_TEXT.set(node, text);
  const button = el("button", { type: "button", class: "show-all" }, "Show all " + number(text.length) + " characters");
  button.addEventListener("click", () => {
    node.textContent = text;
    button.remove();
  });
  return el("div", { class: "cut" }, node, button);
}

// A list of items as the page holds it: past a few hundred, only its first and last halves, with where the rest
// were and how many (`left`, from the data): each item keeps its own number, and a line stands for the rest.
function itemViews(refs, left, first, fresh, search) {
  return cutList(refs.length, (i) => {
    const position = first + i + (left && i >= left.at ? left.count : 0);
    const where = left && left.not_read ? number(left.not_read) + " not read (the history was too long to read whole)" : "turns.jsonl holds every one";
    const gap = left && i === left.at ? el("p", { class: "quiet" }, "… " + number(left.count) + " items left out here: " + where) : null;
    return [gap, itemView(VALUES[refs[i]], position, fresh, search)];
  });
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
      details(count + " earlier item" + plural(count) + ", as sent in #" + carried.source, () =>
        cutList(count, (i) => itemView(VALUES[turn.input[i]], i + 1, false, false))
      )
    );
  } else if (carried && carried.by === "previous_response_id") {
    parts.push(continuedContext(carried));
  }
  const fresh = newInput(turn);
  parts.push(el("p", { class: "delta" }, "+ " + fresh.length + " new item" + plural(fresh.length) + (carried ? " since #" + carried.source : "")));
  parts.push(cutList(fresh.length, (i) => itemView(VALUES[fresh[i]], count + i + 1, true, true)));
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
  const text = (tag, className, value) => cutText(tag, className, value, search);
  const incomplete = part.complete === false ? el("span", { class: "bad" }, " (cut off: what arrived)") : null;
  if (part.kind === "tool_call") {
    const answered = part.call_id != null && ANSWERS.get(part.call_id);
    return el(
      "div",
      { class: "part tool-call" },
      el("div", { class: "label" }, "tool call ", text("code", "", String(part.name)), part.call_id != null ? [" · ", text("span", "", String(part.call_id))] : "", incomplete, answered ? [" · result in ", turnLink(answered)] : "", part.arguments != null ? copyPreButton() : null),
      part.arguments != null ? text("pre", "arguments", pretty(part.arguments)) : null,
      mcpBeside(part.call_id)
    );
  }
  if (part.kind === "tool_result") {
    const call = part.call_id != null && CALLS.get(part.call_id);
    return el(
      "div",
      { class: "part tool-result" + (part.is_error ? " bad" : "") },
      el("div", { class: "label" }, "tool result", part.call_id != null ? [" · ", text("span", "", String(part.call_id))] : "", part.is_error ? " · error" : "", call ? [" · call in ", turnLink(call)] : "", part.text != null ? copyPreButton() : null),
      part.text != null ? foldedText(text("pre", "text", String(part.text)), String(part.text)) : null,
      part.raw != null ? foldedText(text("pre", "raw", pretty(part.raw)), pretty(part.raw)) : null
    );
  }
  if (part.kind === "text" || part.kind === "reasoning") {
    return el("div", { class: "part " + part.kind }, el("div", { class: "label" }, part.kind === "reasoning" ? "reasoning" : part.type, incomplete, copyPreButton()), text("pre", "text", String(part.text == null ? "" : part.text)));
  }
  return el("div", { class: "part other" }, el("div", { class: "label" }, part.kind + " · " + part.type), part.text != null ? text("pre", "text", String(part.text)) : null, text("pre", "raw", pretty(part.raw)));
}

// What a request continued by previous_response_id carries: the context the server kept, which is the continued
// turn's whole input (itself perhaps continued) and its output.
function continuedContext(carried) {
  const source = byNumber.get(carried.source);
  const intro = ["Continues ", turnLink(carried.source), " by previous_response_id: the server holds its context, "];
  if (source === undefined) return el("p", { class: "same" }, intro, number(carried.items) + " items (that exchange is not in this capture)");
  const earlier = TURNS[source];
  const held = earlier.input.length + earlier.output.length;
  if (!carried.items && !held)
    return el("p", { class: "same" }, intro, "which is empty (#" + earlier.n + " sent no items: a warm-up request)");
  const what = number(carried.items) + " items: #" + earlier.n + "'s " + number(earlier.input.length) + " input item" + plural(earlier.input.length) + (earlier.carried && earlier.carried.by === "previous_response_id" ? " (after what it continued)" : "") + " and " + number(earlier.output.length) + " output item" + plural(earlier.output.length);
  return el(
    "div",
    {},
    el("p", { class: "same" }, intro, what),
    details("Show the " + number(held) + " items #" + earlier.n + " sent and received", () => {
      const refs = earlier.input.concat(earlier.output);
      return cutList(refs.length, (i) => itemView(VALUES[refs[i]], i + 1, false, false));
    })
  );
}
