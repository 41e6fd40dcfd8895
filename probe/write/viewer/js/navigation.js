// Selecting a turn, from a click, a link, the address or the keyboard.

function select(index, scroll) {
  if (index === undefined || index < 0 || index >= TURNS.length) return;
  current = index;
  tell("selected", index);
  renderTurn(index);
  if (location.hash !== "#turn-" + TURNS[index].n) history.replaceState(null, "", "#turn-" + TURNS[index].n);
  if (scroll) {
    const main = document.querySelector("main");
    main.scrollTop = document.getElementById("turn").offsetTop; // main is positioned: the offset parent
  }
  if (search.query) markHits(index);
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
