// The context window on the input chart: one line per agent, each at its own model's window (insight.jsonl's turn
// `window`), stepping where its window changes (another model, the 1M header, an input past the table's window).

// The chart's scale stays the inputs': a window more than WINDOW_SCALE times the largest input is not drawn but
// named above the plot ("▲ window 1M above the scale"), and the legend says the peak's share of it. Drawn to scale, a
// 1M window over inputs of 20k would leave every bar two pixels high: the input is what the chart is read for.
// Within four times the peak the tallest bar still keeps a quarter of the chart's height, and the gap to the line
// reads as the room left.
const WINDOW_SCALE = 4;
const WINDOW_COLOURS = 6; // --ov-window-0 … -5, taken in turn by the agents in the order of their first turns
const WINDOW_LEGEND = 8; // agents named in one entry of the legend; the rest are counted (each turn's facts give theirs)

// Per agent, in the order of its first turn: `line`, its window at each turn index (carried over the other agents'
// turns from its first turn to its last; null where its window is unknown or it has no turn yet), `said`, its
// windows in words, in order ("40,000 (prices.yaml)"), `top`, its largest window, and `peak`, its highest share.
function windowLines(size) {
  const lines = new Map();
  TURNS.forEach((turn, index) => {
    const agent = String(insightOf(turn).agent);
    if (!lines.has(agent)) lines.set(agent, { agent, line: new Array(size).fill(null), said: [], top: null, peak: null, last: index, colour: lines.size % WINDOW_COLOURS });
    const line = lines.get(agent);
    const limit = windowOf(turn);
    if (!limit) return; // (a page older than the windows: its turns have none)
    const tokens = windowTokens(turn);
    for (let at = line.last + 1; at < index; at++) line.line[at] = line.line[line.last];
    line.line[index] = tokens;
    line.last = index;
    const words = tokens === null ? "unknown" : number(tokens) + " (" + String(limit.source) + ")";
    if (line.said[line.said.length - 1] !== words) line.said.push(words);
    if (tokens !== null) line.top = Math.max(line.top || 0, tokens);
    const share = insightOf(turn).share;
    if (isNumber(share)) line.peak = Math.max(line.peak || 0, share);
  });
  return [...lines.values()].filter((line) => line.said.length);
}

// The input chart's headroom above its largest value: room at the top for the note of a window above the scale.
function inputHeadroom() {
  return NUMBERS && NUMBERS.windows.some((line) => line.top !== null && !onScale(line, NUMBERS)) ? 1.25 : 1.08;
}

// The largest input, cache read or cache write: what the chart's scale is made for.
function inputPeak(numbers) {
  let peak = 0;
  for (const values of [numbers.input, numbers.cacheRead, numbers.cacheWrite])
    for (const value of values) if (value !== null && value > peak) peak = value;
  return peak;
}

function onScale(line, numbers) {
  return line.top !== null && line.top <= WINDOW_SCALE * inputPeak(numbers);
}

function drawnWindows(numbers) {
  return numbers.windows.filter((line) => onScale(line, numbers));
}

function windowSeries(numbers) {
  return drawnWindows(numbers).map((line) => ({
    label: "window of " + agentName(line.agent),
    width: 2,
    stroke: () => colour("ov-window-" + line.colour),
    paths: uPlot.paths.stepped({ align: 1 }),
    points: { show: false },
  }));
}

function windowData(numbers) {
  return drawnWindows(numbers).map((line) => line.line);
}

// What says whether the chart must be built again: the windows drawn.
function windowShape(numbers) {
  return drawnWindows(numbers).map((line) => line.agent).join("\u0000");
}

// The legend: each window drawn, by its agent and in its line's colour; the windows not drawn (above the scale, or
// unknown) once for all the agents that share the words, with their peak share.
function windowLegend(numbers) {
  const lines = numbers.windows;
  if (!lines.length) return [];
  if (lines.every((line) => line.top === null)) return [el("span", { class: "ov-key" }, "window unknown")];
  const whose = (agents) => (lines.length > 1 ? " of " + listed(agents.map(agentName)) : "");
  const keys = drawnWindows(numbers).map((line) =>
    legendKey("window-" + line.colour, "window" + whose([line.agent]) + ": " + line.said.join(", then "), "each turn's model's context window; hover a turn for its share", true)
  );
  const apart = new Map(); // the words of a window not drawn -> its agents and their peak share
  for (const line of lines.filter((line) => !onScale(line, numbers))) {
    const words = line.top === null ? "unknown" : line.said.join(", then ") + ", above the scale";
    const group = apart.get(words) || { agents: [], peak: null };
    group.agents.push(line.agent);
    if (line.peak !== null) group.peak = Math.max(group.peak || 0, line.peak);
    apart.set(words, group);
  }
  for (const [words, group] of apart) {
    const peak = group.peak !== null && words !== "unknown" ? " (peak input " + sharePercent(group.peak) + " of it)" : "";
    keys.push(el("span", { class: "ov-key" }, "window" + whose(group.agents) + ": " + words + peak));
  }
  return keys;
}

// "a", "a and b", "a, b and c", "a, b and 7 more": names in a legend, at most WINDOW_LEGEND of them.
function listed(names) {
  const shown = names.length > WINDOW_LEGEND ? [...names.slice(0, WINDOW_LEGEND - 1), names.length - WINDOW_LEGEND + 1 + " more"] : names;
  return shown.length > 1 ? shown.slice(0, -1).join(", ") + " and " + shown[shown.length - 1] : shown[0];
}

// On the canvas: each window drawn named at its right end ("window 40k"), once per height, and the windows above
// the scale named at the plot's top right ("▲ window 1M above the scale").
function labelWindows(chart, numbers) {
  const ratio = devicePixelRatio || 1;
  const context = chart.ctx;
  const { left, top, width } = chart.bbox;
  context.save();
  context.font = Math.round(11 * ratio) + "px system-ui, -apple-system, 'Segoe UI', sans-serif";
  context.textAlign = "right";
  const labelled = new Set();
  for (const line of drawnWindows(numbers)) {
    const last = line.line[line.last];
    if (last === null || labelled.has(last)) continue;
    labelled.add(last);
    context.fillStyle = colour("ov-window-" + line.colour);
    context.textBaseline = "bottom";
    context.fillText("window " + shortCount(last), left + width - 2 * ratio, chart.valToPos(last, "y", true) - 2 * ratio);
  }
  const above = [...new Set(numbers.windows.filter((line) => line.top !== null && !onScale(line, numbers)).map((line) => line.top))];
  if (above.length) {
    context.fillStyle = colour("ov-axis");
    context.textBaseline = "top";
    const words = above.length > 1 ? "windows " + above.map(shortCount).join(", ") : "window " + shortCount(above[0]);
    context.fillText("▲ " + words + " above the scale", left + width - 2 * ratio, top + 1 * ratio);
  }
  context.restore();
}
