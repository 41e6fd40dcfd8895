// The overview's charts: each turn's input by what filled it (with cache read and cache write over it, and each
// agent's context window), the cache hit rate with its breaks, and output with reasoning on a scale of its own; one
// Tab stop, read by keyboard.

let NUMBERS = null; // overviewNumbers(): rebuilt when TURNS grows
let pointed = -1; // the turn the charts' cursor is on, by pointer or keyboard

const figureParts = {};

function contextData() {
  const tops = stackedTops(NUMBERS).reverse(); // tallest first: each lower group is drawn over it
  return [NUMBERS.turn, ...tops, NUMBERS.cacheRead, NUMBERS.cacheWrite];
}

function contextSeries() {
  const groups = NUMBERS.groups.map((at) => CONTEXT_GROUPS[at]).reverse();
  return [
    ...groups.map((group) => barSeries(group.name, "ov-" + group.key)),
    lineSeries("cache read", "ov-cache-read", undefined, true),
    lineSeries("cache write", "ov-cache-write", [5, 3], true),
  ];
}

function legendKey(key, label, title, line) {
  const swatch = el("span", { class: "ov-swatch" + (line ? " ov-line" : "") });
  swatch.style.background = "var(--ov-" + key + ")"; // (CSSOM: the page's policy allows no style attribute)
  return el("span", { class: "ov-key", "data-key": key, title }, swatch, label);
}

function reported(values) {
  return values.some((value) => value !== null) ? "" : ": not reported";
}

function contextLegend() {
  return el(
    "p",
    { class: "ov-legend" },
    NUMBERS.groups.map((at) => legendKey(CONTEXT_GROUPS[at].key, CONTEXT_GROUPS[at].name)),
    legendKey("cache-read", "cache read" + reported(NUMBERS.cacheRead), "input read from the prompt cache: cached_tokens (OpenAI), cache_read_input_tokens (Anthropic), cachedContentTokenCount (Gemini)", true),
    legendKey("cache-write", "cache write" + reported(NUMBERS.cacheWrite), "input written to the prompt cache: cache_creation_input_tokens (Anthropic); not reported by OpenAI or Gemini", true),
    windowLegend(NUMBERS)
  );
}

function outputLegend() {
  return el("p", { class: "ov-legend" }, legendKey("output", "output"), legendKey("reasoning", "of which reasoning" + reported(NUMBERS.reasoning)));
}

function drawLegends() {
  figureParts.legend.replaceChildren(contextLegend());
  figureParts.outputLegend.replaceChildren(outputLegend());
}

function drawCharts() {
  for (const chart of CHARTS.splice(0)) chart.destroy();
  const { context, rate, output } = figureParts;
  drawLegends();
  const input = makeChart(context, 150, contextSeries(), [turnAxis(), valueAxis(shortCount)], { y: inputRange() }, contextData());
  input.hooks.draw.push((drawn) => drawWindows(drawn, NUMBERS)); // (overview_window.js)
  const hitRate = [lineSeries("hit rate", "ov-hit", undefined, true), pointSeries("cache break", "ov-break")];
  const percentAxis = { ...valueAxis((value) => value + "%"), incrs: [25, 50, 100], space: 12 };
  makeChart(rate, 72, hitRate, [{ ...turnAxis(), show: false }, percentAxis], { y: { range: [0, 105] } },
    [NUMBERS.turn, NUMBERS.hitRate, NUMBERS.breaks]);
  const outputSeries = [barSeries("output", "ov-output"), barSeries("reasoning", "ov-reasoning")];
  makeChart(output, 88, outputSeries, [turnAxis(), valueAxis(shortCount)], { y: fromZero() },
    [NUMBERS.turn, NUMBERS.output, NUMBERS.reasoning]);
  for (const chart of CHARTS) followPointer(chart);
}

// Hovering shows a turn's numbers; a click (not a drag, which zooms) selects it.
function followPointer(chart) {
  chart.hooks.setCursor = [(moved) => moved.cursor.idx != null && moved.cursor.idx !== pointed && show(moved.cursor.idx)];
  let pressedAt = null;
  chart.over.addEventListener("mousedown", (event) => (pressedAt = event.clientX));
  chart.over.addEventListener("click", (event) => {
    const still = pressedAt === null || Math.abs(event.clientX - pressedAt) < 4;
    if (still && chart.cursor.idx != null) select(chart.cursor.idx, true, "push");
  });
}

function show(index) {
  if (!figureParts.readout) return;
  pointed = index;
  figureParts.readout.textContent = turnReadout(NUMBERS, index);
}

// The keyboard's cursor: the readout (a live region) reads the turn, and the charts' cursor moves to it.
function point(index) {
  if (!TURNS.length) return;
  show(Math.max(0, Math.min(TURNS.length - 1, index)));
  const chart = CHARTS[0];
  if (!chart) return;
  const { min, max } = chart.scales.x;
  const x = NUMBERS.turn[pointed];
  if (x < min || x > max) chart.setScale("x", { min: x - (max - min) / 2, max: x + (max - min) / 2 });
  chart.setCursor({ left: chart.valToPos(x, "x"), top: 1 }, true, true); // fired and passed on to the other charts
}

const CHART_KEYS = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };

function chartKeys(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key in CHART_KEYS) point(pointed + CHART_KEYS[event.key]);
  else if (event.key === "Home") point(0);
  else if (event.key === "End") point(TURNS.length - 1);
  else if (event.key === "Enter" || event.key === " ") select(pointed, true, "push");
  else return;
  event.preventDefault();
}

function chartTitle(text, note) {
  return el("h3", { class: "ov-chart-title" }, text, note ? el("span", { class: "ov-note" }, note) : null);
}

// The figure, into `box`, for the numbers of NUMBERS.
function buildCharts(box) {
  const encodings = [...NUMBERS.encodings].join(" and ") || "o200k_base";
  const parts = {
    context: el("div", { class: "ov-chart" }),
    legend: el("div", {}),
    rate: el("div", { class: "ov-chart" }),
    output: el("div", { class: "ov-chart" }),
    outputLegend: el("div", {}),
    readout: el("p", { class: "ov-readout", id: "ov-readout", "aria-live": "polite" }),
  };
  Object.assign(figureParts, parts);
  const figure = el(
    "figure",
    { class: "ov-charts", tabindex: 0, role: "group", "aria-roledescription": "chart", "aria-label": "Tokens per turn", "aria-describedby": "ov-keys" },
    chartTitle("Input per turn, by what filled it", " estimated with " + encodings + ", scaled to the reported input"),
    parts.context,
    parts.legend,
    chartTitle("Cache hit rate per turn", " input read from the cache; a ring marks a cache break"),
    parts.rate,
    chartTitle("Output per turn", " its own scale; reasoning is part of output"),
    parts.output,
    parts.outputLegend,
    parts.readout,
    el("p", { class: "ov-hint", id: "ov-keys" }, "Focused: ← → turn by turn, Enter selects · a click selects · drag zooms, double-click zooms out")
  );
  figure.addEventListener("focus", () => point(current >= 0 ? current : 0));
  figure.addEventListener("keydown", chartKeys);
  box.appendChild(figure);
  drawCharts();
  if (current >= 0) show(current);
  new ResizeObserver(() => resizeCharts(parts.context.clientWidth)).observe(parts.context);
  return figure;
}

function hasUsage() {
  return NUMBERS.input.some((value) => value !== null) || NUMBERS.output.some((value) => value !== null);
}

// A live page: new turns are drawn, with new groups if they bring any.
function refreshCharts() {
  const before = NUMBERS.groups.join();
  NUMBERS = overviewNumbers();
  if (NUMBERS.groups.join() !== before || !CHARTS.length) return drawCharts();
  drawLegends();
  CHARTS[0].setData(contextData());
  CHARTS[1].setData([NUMBERS.turn, NUMBERS.hitRate, NUMBERS.breaks]);
  CHARTS[2].setData([NUMBERS.turn, NUMBERS.output, NUMBERS.reasoning]);
}

on("selected", (index) => {
  if (NUMBERS && document.activeElement !== document.querySelector(".ov-charts")) show(index);
});
