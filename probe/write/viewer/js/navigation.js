// Selecting a turn, from a click, a link, the address or the keyboard.

// The address says what is shown: "#turn-N" a turn, no fragment the overview. A click or a link is a step in the
// browser's history, and so is leaving the overview; the keys and the search move within the step they are in.
// Each step keeps where the page was scrolled and which turn it showed (history.state), so that Back and Forward
// show it again: the page scrolls in <main>, which the browser does not restore by itself.
// how: "push" (a click: a new step), "replace" (a key, the search: the same step, unless it leaves the overview),
// "keep" (the address already says it: the page opening, Back or Forward).
function select(index, scroll, how = "replace") {
  if (index === undefined || index < 0 || index >= TURNS.length) return;
  const address = "#turn-" + TURNS[index].n;
  if (how !== "keep" && location.hash !== address) {
    if (how === "push" || addressedTurn() === undefined) {
      remember();
      history.pushState(null, "", address);
    } else history.replaceState(null, "", address);
  }
  current = index;
  tell("selected", index);
  renderTurn(index);
  if (scroll) {
    const main = document.querySelector("main");
    main.scrollTop = document.getElementById("turn").offsetTop; // main is positioned: the offset parent
  }
  if (search.query) markHits(index);
}

// The turn the address names, if the page holds it; undefined for the overview.
function addressedTurn() {
  const match = /^#turn-(\d+)$/.exec(location.hash);
  return match ? byNumber.get(Number(match[1])) : undefined;
}

function fromHash() {
  const index = addressedTurn();
  return index === undefined ? 0 : index;
}

// Where the current step is: kept in its history entry before leaving it, and while scrolling (Back from the
// browser's own button comes with no warning).
function remember() {
  clearTimeout(rememberLater);
  const scroll = document.querySelector("main").scrollTop;
  history.replaceState(Object.assign({}, history.state, { scroll: scroll, turn: current }), "", location.href);
}

let rememberLater;

// Back, Forward or a followed link: show what the address says, where it was last seen.
function showAddressed() {
  clearTimeout(rememberLater); // a scroll of the step just left must not be kept in this one
  const state = history.state || {};
  const index = addressedTurn();
  const main = document.querySelector("main");
  const shown = index !== undefined ? index : TURNS[state.turn] ? state.turn : Math.max(current, 0);
  if (shown !== current && TURNS.length) select(shown, false, "keep");
  else if (TURNS.length) tell("selected", current); // the same turn, but the address that marks it changed
  if (typeof state.scroll === "number") main.scrollTop = state.scroll;
  else main.scrollTop = index === undefined ? 0 : document.getElementById("turn").offsetTop;
}

function followHistory() {
  history.scrollRestoration = "manual";
  // Chromium tells a followed link, Back and Forward by popstate, then hashchange (which then finds its turn shown).
  window.addEventListener("popstate", showAddressed);
  window.addEventListener("hashchange", () => addressedTurn() !== undefined && addressedTurn() !== current && showAddressed());
  // A link's step starts from here: keep where the page was before the browser moves on.
  document.addEventListener("click", (event) => event.target instanceof Element && event.target.closest("a.turn-link") && remember(), true);
  document.querySelector("main").addEventListener("scroll", () => {
    clearTimeout(rememberLater);
    rememberLater = setTimeout(remember, 250);
  });
}

document.addEventListener("keydown", (event) => {
  const box = document.getElementById("search");
  if (event.target === box) {
    if (event.key === "Enter") {
      event.preventDefault();
      step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") clearSearch(box);
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target instanceof HTMLElement && event.target.closest("input, textarea, select")) return;
  // Letters only: the arrows, Home and End keep scrolling a long turn (the turns' list has them while focused).
  // The letters go through the turns the list shows: the filters and the search pass over the others.
  if (event.key === "j") select(shownFrom(current, 1), true);
  else if (event.key === "k") select(shownFrom(current, -1), true);
  else if (event.key === "g") select(shownEnd(false), true);
  else if (event.key === "G") select(shownEnd(true), true);
  else if (event.key === "n") step(1);
  else if (event.key === "N") step(-1);
  else if (event.key === "/") {
    box.focus();
    box.select();
  } else return;
  event.preventDefault();
});

// A header button to a view above the turns (the overview, the timeline): a step in the history, as a link is, so
// Back returns to the turn and the address names no turn; then `land` scrolls to the view and focuses it.
function viewButton(className, title, label, land) {
  const button = el("button", { type: "button", class: className, title: title }, label);
  button.addEventListener("click", () => {
    if (addressedTurn() !== undefined) {
      remember();
      history.pushState(null, "", location.pathname + location.search);
      tell("selected", current);
    }
    land(document.querySelector("main"));
  });
  return button;
}
