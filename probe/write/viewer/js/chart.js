// The token chart: input and output per turn.

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

let bars = [];

function buildChart() {
  const withTokens = TURNS.map((turn, index) => ({ index, used: tokens(turn) })).filter(
    (entry) => entry.used.input != null || entry.used.output != null
  );
  const box = document.getElementById("chart");
  if (!withTokens.length) {
    append(box, [el("p", { class: "quiet" }, "No exchange reported token usage.")]);
    return;
  }
  // Input (cached, then the rest) in the upper band, output in the lower one, each on its own scale: output is
  // often a hundredth of the input, and would not show on the input's scale.
  const upper = 100;
  const lower = 36;
  const gap = 6;
  const height = upper + gap + lower;
  const step = Math.max(3, Math.min(28, 1200 / withTokens.length));
  const width = step * withTokens.length;
  const mostInput = Math.max(1, ...withTokens.map((entry) => entry.used.input || 0));
  const mostOutput = Math.max(1, ...withTokens.map((entry) => entry.used.output || 0));
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, class: "tokens", role: "img", "aria-label": "tokens per turn" });
  bars = new Array(TURNS.length);
  withTokens.forEach(({ index, used }, position) => {
    const x = position * step;
    const cached = Math.min(used.cached || 0, used.input || 0);
    const fresh = (used.input || 0) - cached;
    const group = svg(
      "g",
      { class: "bar", "data-turn": TURNS[index].n },
      svg("title", {}, "#" + TURNS[index].n + ": input " + number(used.input) + " (cached " + number(used.cached) + "), output " + number(used.output)),
      svg("rect", { class: "hit", x: x, y: 0, width: step, height: height })
    );
    const bar = (kind, y, h) => group.appendChild(svg("rect", { class: kind, x: x + step * 0.1, y: y, width: Math.max(1, step * 0.8), height: Math.max(0, h) }));
    const cachedHeight = (cached / mostInput) * upper;
    const freshHeight = (fresh / mostInput) * upper;
    bar("cached", upper - cachedHeight, cachedHeight);
    bar("input", upper - cachedHeight - freshHeight, freshHeight);
    bar("output", upper + gap, ((used.output || 0) / mostOutput) * lower);
    group.addEventListener("click", () => select(index, true));
    bars[index] = group;
    chart.appendChild(group);
  });
  append(box, [
    chart,
    el(
      "p",
      { class: "legend" },
      el("span", { class: "key cached" }, "cached input"),
      el("span", { class: "key input" }, "input"),
      " tokens per turn, up to " + number(mostInput) + "; ",
      el("span", { class: "key output" }, "output"),
      " tokens below, up to " + number(mostOutput)
    ),
  ]);
}

on("selected", (index) => {
  for (const bar of document.querySelectorAll("svg.tokens .bar.selected")) bar.classList.remove("selected");
  if (bars[index]) bars[index].classList.add("selected");
});
