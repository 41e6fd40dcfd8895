// The sidebar: one row per exchange.

const rows = [];

function buildSidebar(first) {
  const list = document.getElementById("timeline");
  const fragment = document.createDocumentFragment();
  TURNS.slice(first || 0).forEach((turn, offset) => {
    const index = (first || 0) + offset;
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

on("selected", (index) => {
  for (const row of document.querySelectorAll("#timeline .row.selected")) row.classList.remove("selected");
  rows[index].classList.add("selected");
  keepInView(rows[index], document.querySelector("nav"));
});

on("matched", (found) => rows.forEach((row, index) => row.classList.toggle("hit", !!found && found.has(index))));

// A live page's new turns: their rows, and the count (a stand-in until the sidebar handles them itself).
on("added", (first) => {
  buildSidebar(first);
  document.getElementById("turn-count").textContent = TURNS.length + " exchange" + (TURNS.length === 1 ? "" : "s");
});
