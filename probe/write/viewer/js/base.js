// agent-probe's report viewer: its script is the files of this folder joined in the order probe.runs.ledger lists
// them, this one first. Every captured string reaches the page as a text node (textContent or createTextNode),
// never as HTML: there is no innerHTML, no insertAdjacentHTML and no URL taken from the data.
"use strict";

const DATA = JSON.parse(document.getElementById("probe-data").textContent);
const VALUES = DATA.values;
const TURNS = DATA.turns;
const byNumber = new Map(TURNS.map((turn, index) => [turn.n, index]));
const SVG = "http://www.w3.org/2000/svg";
const RAW_HEAD = 256 * 1024; // bytes of a raw body the page keeps (probe/viewer/data.py)

// ---- what the views share ----------------------------------------------------------------------------------

// The selected turn: an index into TURNS, -1 before the first selection.
let current = -1;

// The views are told of what changes, each registering with on(): "selected" (index): a turn was selected;
// "added" (first index): TURNS grew (a live page), from that index on; "matched" (Set of indexes, or null when the
// search is cleared): the turns the search finds; "header": DATA.header was replaced (a live page, after the turns it
// came with were added).
const LISTENERS = { selected: [], added: [], matched: [], header: [], ended: [] };

function on(event, listener) {
  LISTENERS[event].push(listener);
}

function tell(event, value) {
  for (const listener of LISTENERS[event]) listener(value);
}

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

// A plain link to the turn's address: following it adds a history entry, so Back returns (start.js selects the
// turn the address names whenever it changes).
function turnLink(number, label) {
  return el("a", { href: "#turn-" + number, class: "turn-link" }, label || "#" + number);
}

// A collapsible part. Its body is built when first opened (a 200-turn run has thousands of collapsed parts), or at
// once when `eager`: a part whose text the search counts must be in the page for its hits to be marked.
function details(summary, build, open, eager) {
  const node = el("details", { open: !!open }, el("summary", {}, summary));
  let built = false;
  const fill = () => {
    if (built) return;
    built = true;
    append(node, [build()]);
  };
  if (open || eager) fill();
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

// One formatter for every count: toLocaleString builds a new one per call, which a 1,000-turn page felt.
const COUNT_FORMAT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });

function number(value) {
  return typeof value === "number" ? COUNT_FORMAT.format(value) : "—";
}

// The "s" of a plural noun after `many` of it.
function plural(many) {
  return many === 1 ? "" : "s";
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
