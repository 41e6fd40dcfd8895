// Search: literal and case-insensitive, over exactly the text the page shows as searchable.

// Literal and case-insensitive; hits are counted and marked with the same expression, in the same texts.
const search = { query: "", pattern: null, hits: [], at: -1 };

function hitsIn(text) {
  search.pattern.lastIndex = 0;
  let found = 0;
  while (search.pattern.exec(text)) found++;
  return found;
}

// Adds the hits of the turns from `first` on.
function findHits(first) {
  for (let index = first; index < TURNS.length; index++) {
    const found = turnTexts(index).reduce((sum, text) => sum + hitsIn(text), 0);
    for (let k = 0; k < found; k++) search.hits.push([index, k]);
  }
}

function runSearch(query) {
  pending = null;
  search.query = query;
  search.pattern = query ? new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "giu") : null;
  search.hits = [];
  search.at = -1;
  if (query) findHits(0);
  tell("matched", query ? new Set(search.hits.map((entry) => entry[0])) : null);
  if (search.hits.length) {
    // From the turn in view: the first hit there or after it (wrapping to the start), not the run's first hit.
    const from = search.hits.findIndex(([index]) => index >= Math.max(current, 0));
    search.at = (from < 0 ? 0 : from) - 1;
    step(1);
  }
  else {
    showCount();
    if (current >= 0) renderTurn(current);
  }
}

// A live page: the turns the run adds are searched too, and the list shows those that match (the hit in view stays).
on("added", (first) => {
  if (!search.query) return;
  findHits(first);
  tell("matched", new Set(search.hits.map((entry) => entry[0])));
  showCount();
});

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
  else if (search.at < 0) label.textContent = search.hits.length + " hit" + plural(search.hits.length); // none stepped to yet
  else label.textContent = search.at + 1 + " of " + search.hits.length + " hit" + plural(search.hits.length);
}

// Wraps every hit in this turn's searchable text in <mark>, the current one marked as such.
function markHits(index) {
  const view = document.getElementById("turn");
  for (const old of view.querySelectorAll("mark")) old.replaceWith(document.createTextNode(old.textContent));
  view.normalize();
  if (!search.pattern) return;
  showAll(view);
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
    const fold = mark.closest(".fold.folded");
    if (fold) unfold(fold, true);
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

// Esc in the search box clears the search (the sidebar shows every turn again); a second Esc leaves the box.
function clearSearch(box) {
  if (!box.value && !search.query) {
    box.blur();
    return;
  }
  clearTimeout(pending);
  box.value = "";
  runSearch("");
}

// Every cut list and text of the turn built whole: the hits are counted in whole texts, so they are marked in them.
function showAll(view) {
  for (let button = view.querySelector("button.show-all"); button; button = view.querySelector("button.show-all")) button.click();
}
