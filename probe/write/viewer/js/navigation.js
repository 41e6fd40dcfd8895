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
    } else if (event.key === "Escape") clearSearch(box);
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
