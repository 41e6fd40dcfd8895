// The overview's charts, built on uPlot: colours read from the page's CSS variables at every draw (so a dark scheme
// applies without a rebuild), turn numbers on the x axis, the selected turn marked, widths that follow the pane.

const CHART_SYNC = "overview"; // the charts share a cursor and a zoom
const TURN_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const CHART_FONT = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim() || "#888";
}

// 12.3k, 1.2M: the axes' labels; the readout gives the exact counts.
function shortCount(value) {
  const size = Math.abs(value);
  if (size >= 1e6) return +(value / 1e6).toFixed(1) + "M";
  if (size >= 1e3) return +(value / 1e3).toFixed(1) + "k";
  return String(+value.toFixed(2));
}

function turnAxis() {
  return {
    scale: "x",
    font: CHART_FONT,
    size: 24,
    space: (chart, axis, min, max) => 14 + 7 * String(Math.round(max)).length, // room for "#1300" and a gap
    incrs: TURN_STEPS,
    stroke: () => colour("ov-axis"),
    grid: { show: false },
    ticks: { size: 4, stroke: () => colour("ov-grid") },
    values: (chart, splits) => splits.map((value) => (Number.isInteger(value) ? "#" + value : "")),
  };
}

function valueAxis(format) {
  return {
    scale: "y",
    font: CHART_FONT,
    size: 52,
    space: 24,
    stroke: () => colour("ov-axis"),
    grid: { stroke: () => colour("ov-grid"), width: 1 },
    ticks: { size: 4, stroke: () => colour("ov-grid") },
    values: (chart, splits) => splits.map(format),
  };
}

// The x scale: one slot per turn, with half a slot on each side of the whole run so that the first and last bars are
// whole; a zoom is kept as it is (padding it too would widen it each time it is passed between the charts).
function turnScale() {
  const range = (chart, min, max) => {
    const turns = chart.data[0];
    if (min == null || !turns.length) return [0, 1];
    return min === turns[0] && max === turns[turns.length - 1] ? [min - 0.5, max + 0.5] : [min, max];
  };
  return { time: false, range };
}

function fromZero() {
  return { range: (chart, min, max) => [0, max > 0 ? max * 1.08 : 1] };
}

function barSeries(label, colourName) {
  return {
    label,
    width: 0,
    fill: () => colour(colourName),
    stroke: () => colour(colourName),
    paths: uPlot.paths.bars({ size: [0.72, 64], gap: 1 }),
    points: { show: false },
  };
}

function lineSeries(label, colourName, dash, points) {
  return {
    label,
    width: 2,
    dash,
    stroke: () => colour(colourName),
    points: { show: points, size: 5, fill: () => colour(colourName), stroke: () => colour(colourName) },
  };
}

function pointSeries(label, colourName) {
  return {
    label,
    width: 0,
    paths: () => null,
    points: { show: true, size: 9, width: 2, fill: () => colour("ov-back"), stroke: () => colour(colourName) },
  };
}

// The turn the address names: a band behind the series (drawClear) and its sides over them (draw). On the overview
// the address names none and nothing is marked: the first turn, shown below it only to fill the page, drew as the
// tallest bar of every chart (a band is as high as the chart), which read as the run's maximum. For the same
// reason the band has no top edge.
function markSelected(chart, over) {
  if (current < 0 || current >= chart.data[0].length || addressedTurn() !== current) return;
  const ratio = devicePixelRatio || 1;
  const x = chart.valToPos(chart.data[0][current], "x", true);
  // One turn's slot, at least 3 px and at most a little wider than the widest bar (a run of two turns has wide slots).
  const slot = Math.min(80 * ratio, Math.max(3 * ratio, chart.valToPos(1, "x", true) - chart.valToPos(0, "x", true)));
  const { top, height } = chart.bbox;
  const context = chart.ctx;
  context.save();
  if (over) {
    context.strokeStyle = colour("ov-selected-edge");
    context.lineWidth = ratio;
    context.beginPath();
    for (const side of [x - slot / 2, x + slot / 2]) {
      context.moveTo(side, top);
      context.lineTo(side, top + height);
    }
    context.stroke();
  } else {
    context.fillStyle = colour("ov-selected");
    context.fillRect(x - slot / 2, top, slot, height);
  }
  context.restore();
}

const CHARTS = [];

function makeChart(box, height, series, axes, scales, data) {
  const chart = new uPlot(
    {
      width: Math.max(120, box.clientWidth),
      height,
      legend: { show: false },
      padding: [8, 16, 5, 0], // the same on every chart, so that a turn is at the same x in each
      series: [{ label: "turn" }, ...series],
      axes,
      scales: { x: turnScale(), ...scales },
      cursor: { sync: { key: CHART_SYNC }, drag: { x: true, y: false }, y: false, points: { show: false } },
      hooks: {
        drawClear: [(drawn) => markSelected(drawn, false)],
        draw: [(drawn) => markSelected(drawn, true)],
        setScale: [(zoomed, key) => key === "x" && shareZoom(zoomed)],
      },
    },
    data,
    box
  );
  chart.root.setAttribute("aria-hidden", "true"); // the readout and the keyboard say what the canvas shows
  CHARTS.push(chart);
  return chart;
}

// A zoom of one chart is passed on to the others (uPlot calls this hook later, not within setScale: a chart already
// showing that range is left alone, so the charts do not pass it back and forth).
function shareZoom(zoomed) {
  const { min, max } = zoomed.scales.x;
  for (const chart of CHARTS) {
    if (chart !== zoomed && (chart.scales.x.min !== min || chart.scales.x.max !== max)) chart.setScale("x", { min, max });
  }
}

function redrawCharts() {
  for (const chart of CHARTS) chart.redraw(false);
}

function resizeCharts(width) {
  for (const chart of CHARTS) chart.setSize({ width: Math.max(120, width), height: chart.height });
}

// A change of scheme redraws with the paths built again: uPlot keeps a bar series' colour with its paths.
function repaintCharts() {
  for (const chart of CHARTS) chart.redraw(true);
}

on("selected", redrawCharts);
if (window.matchMedia) matchMedia("(prefers-color-scheme: dark)").addEventListener("change", repaintCharts);
