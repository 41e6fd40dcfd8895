// The sidebar's list of turns: one Tab stop, only the rows in view in the page, the selected one kept in view.

const ROW_HEIGHT = 30; // px; the style sheet reads it as --row-height
const PATH_HEIGHT = 28; // px more for the selected row, which shows its method and whole path (--path-height)
const MARGIN_ROWS = 12; // rows drawn past each edge of the view, so that a quick scroll shows no gap
const DRAWN = new Map(); // turn index -> its row, for the rows in the page
const ROW_INDEX = new WeakMap(); // row -> turn index
const PLACES = new WeakMap(); // row -> where it was last placed, and whether it was selected then
let selectedAt = -1; // the selected turn's position in SHOWN, -1 while it is filtered out
let manyAgents = false; // rows name their agent only when the run has more than one

function listBox() {
  return document.getElementById("timeline");
}

function buildSidebar() {
  const nav = document.getElementById("sidebar");
  const list = el("div", { id: "timeline", role: "listbox", tabindex: 0, "aria-label": "Turns" });
  list.style.setProperty("--row-height", ROW_HEIGHT + "px");
  list.style.setProperty("--path-height", PATH_HEIGHT + "px");
  list.addEventListener("scroll", drawRows);
  list.addEventListener("keydown", listKeys);
  list.addEventListener("click", (event) => {
    const row = event.target instanceof Element && event.target.closest(".row");
    if (!row) return;
    select(ROW_INDEX.get(row), true, "push");
    foldIfNarrow();
  });
  new ResizeObserver(drawRows).observe(list);
  // A live page that was showing its last turns keeps showing them as turns arrive: whether it was is read before
  // the filters' own listener makes the list longer, and acted on after it.
  let followingEnd = false;
  on("added", () => (followingEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - ROW_HEIGHT));
  append(nav, [buildFilters(), list]);
  on("added", () => {
    if (followingEnd) list.scrollTop = list.scrollHeight;
  });
  on("selected", () => {
    countShown();
    redrawList();
  });
  buildFold();
  fillChoices();
  refilter();
}

// Where SHOWN holds turn `index`, or where it would be.
function firstAtOrAfter(index) {
  let low = 0;
  let high = SHOWN.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (SHOWN[middle] < index) low = middle + 1;
    else high = middle;
  }
  return low;
}

function positionOf(index) {
  const at = firstAtOrAfter(index);
  return SHOWN[at] === index ? at : -1;
}

// The turn `step` rows from turn `index` in the list (`index` itself may be filtered out), kept within the list;
// undefined when there is none that way.
function shownFrom(index, step) {
  const at = firstAtOrAfter(index);
  if (SHOWN[at] !== index) {
    if (step > 0 ? at >= SHOWN.length : at === 0) return undefined;
    if (step > 0) step--; // between two rows: the one below is the first step down
  }
  return SHOWN[Math.max(0, Math.min(SHOWN.length - 1, at + step))];
}

function shownEnd(last) {
  return SHOWN.length ? SHOWN[last ? SHOWN.length - 1 : 0] : undefined;
}

function rowTop(position) {
  return position * ROW_HEIGHT + (selectedAt >= 0 && position > selectedAt ? PATH_HEIGHT : 0);
}

// After the list or the selection changed: its height, the selected row in view, and the rows drawn again.
function redrawList() {
  const list = listBox();
  selectedAt = positionOf(current);
  list.style.setProperty("--list-height", SHOWN.length * ROW_HEIGHT + (selectedAt >= 0 ? PATH_HEIGHT : 0) + "px");
  if (selectedAt >= 0) {
    list.setAttribute("aria-activedescendant", "row-" + TURNS[current].n);
    const top = rowTop(selectedAt);
    const bottom = top + ROW_HEIGHT + PATH_HEIGHT;
    const view = list.clientHeight;
    // A row far out of view (a link, the search, the address) comes to the middle; the next one, just to the edge.
    if (top < list.scrollTop - ROW_HEIGHT || bottom > list.scrollTop + view + ROW_HEIGHT) list.scrollTop = top - (view - ROW_HEIGHT) / 2;
    else if (top < list.scrollTop) list.scrollTop = top;
    else if (bottom > list.scrollTop + view) list.scrollTop = bottom - view;
  } else list.removeAttribute("aria-activedescendant");
  drawRows();
}

// Only the rows in view and a margin are in the page, and the selected one: it is the list's active descendant.
function drawRows() {
  const list = listBox();
  const from = Math.max(0, Math.floor((list.scrollTop - PATH_HEIGHT) / ROW_HEIGHT) - MARGIN_ROWS);
  const to = Math.min(SHOWN.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW_HEIGHT) + MARGIN_ROWS);
  const wanted = new Map();
  if (selectedAt >= 0 && selectedAt < from) wanted.set(current, selectedAt);
  for (let position = from; position < to; position++) wanted.set(SHOWN[position], position);
  if (selectedAt >= to) wanted.set(current, selectedAt);
  for (const [index, row] of DRAWN) {
    if (wanted.has(index)) continue;
    row.remove();
    DRAWN.delete(index);
  }
  // Rows stay in the list's order, as a screen reader reads them; those already there are left in place, so that
  // a scroll restyles only the rows it brings.
  let next = list.firstElementChild;
  for (const [index, position] of wanted) {
    let row = DRAWN.get(index);
    if (!row) {
      row = buildRow(index);
      DRAWN.set(index, row);
    }
    placeRow(row, index, position);
    if (row === next) next = row.nextElementSibling;
    else list.insertBefore(row, next);
  }
}

function forgetRows() {
  DRAWN.clear();
  listBox().replaceChildren();
}

function placeRow(row, index, position) {
  const selected = index === current;
  const top = rowTop(position);
  const place = [top, position, SHOWN.length, selected].join(" ");
  if (PLACES.get(row) === place) return; // setting an attribute, even to its value, costs a restyle
  PLACES.set(row, place);
  row.style.top = top + "px";
  row.classList.toggle("selected", selected);
  setAttributes(row, { "aria-posinset": position + 1, "aria-setsize": SHOWN.length, "aria-selected": String(selected) });
  if (selected) row.setAttribute("aria-current", "true");
  else row.removeAttribute("aria-current");
}

function buildRow(index) {
  const turn = TURNS[index];
  const facts = rowFacts(index);
  const used = tokensLabel(turn);
  const row = el(
    "div",
    { class: "row" + (facts.trouble ? " " + facts.trouble : ""), role: "option", id: "row-" + turn.n, "data-turn": turn.n, title: whereOf(turn) },
    el("span", { class: "n" }, "#" + turn.n),
    facts.calls.length ? el("span", { class: "calls" }, callsLabel(facts.calls)) : el("span", { class: "calls none" }, pathTail(turn)),
    el("span", { class: "marks" }, marksOf(index).map((mark) => el("span", { class: "mark " + mark.kind, title: mark.title }, mark.text))),
    el("span", { class: "tokens", title: used && used.title }, used ? used.text : ""),
    el(
      "span",
      { class: "about" },
      manyAgents && facts.agent != null ? el("span", { class: "agent", title: facts.agent }, agentName(facts.agent)) : null,
      turn.stop_reason != null ? el("span", { class: "stop" }, String(turn.stop_reason)) : null,
      el("span", { class: "preview" }, previewOf(turn))
    ),
    el("span", { class: "where" }, whereOf(turn))
  );
  ROW_INDEX.set(row, index);
  return row;
}

// The list's keys, while it has the focus; j/k and the rest work anywhere (navigation.js).
const LIST_STEPS = new Map([["ArrowDown", 1], ["ArrowUp", -1], ["PageDown", "page"], ["PageUp", "-page"]]);

function listKeys(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const page = Math.max(1, Math.floor(listBox().clientHeight / ROW_HEIGHT) - 1);
  let target;
  if (event.key === "Home" || event.key === "End") target = shownEnd(event.key === "End");
  else if (LIST_STEPS.has(event.key)) {
    const step = LIST_STEPS.get(event.key);
    target = shownFrom(current, step === "page" ? page : step === "-page" ? -page : step);
  } else if (event.key === "Enter" || event.key === " ") {
    if (selectedAt >= 0) select(current, true);
    foldIfNarrow();
  } else return;
  event.preventDefault();
  if (target !== undefined && target !== current) select(target, true);
}
