// The Compare view of a fork or a resend: its origin's figures beside its own, the rows `invoke compare` prints
// (DATA.header.compare, made by probe.analysis.compare_view). A run with no origin has no such view, nor its button.

function buildCompare() {
  const compare = DATA.header.compare;
  if (!compare || !Array.isArray(compare.rows) || !compare.rows.length) return;
  const box = el("section", { id: "compare-view", "aria-labelledby": "compare-view-title", tabindex: "-1" });
  const [names, ...rows] = compare.rows;
  const head = el("tr", {}, el("th", { scope: "col" }, "Figure"), names.slice(1).map((name) => el("th", { scope: "col" }, name)));
  const body = rows.map(([label, ...cells]) => el("tr", { "data-figure": label }, el("th", { scope: "row" }, label), cells.map((cell) => el("td", {}, cell))));
  append(box, [
    el("h2", { id: "compare-view-title" }, "Compare"),
    el("p", { class: "quiet cmp-note" }, "This run beside the run it was made from, as invoke compare prints them: the first difference is " +
      "the first request this run sent that the origin never did, volatile values (ids, paths, times, durations) ignored."),
    compare.note ? el("p", { class: "cmp-missing", role: "note" }, compare.note) : null,
    el("div", { class: "cmp-scroll" }, el("table", { class: "cmp-table" }, el("thead", {}, head), el("tbody", {}, body))),
  ]);
  document.getElementById("overview").after(box);
  const button = viewButton("to-compare", "This run beside its origin", "Compare", (main) => {
    main.scrollTop = box.offsetTop;
    box.focus({ preventScroll: true });
  });
  const after = document.querySelector("header.top .to-timeline") || document.querySelector("header.top .to-overview");
  after.after(button);
}
