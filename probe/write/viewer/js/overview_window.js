// The context window on the input chart: one line per agent, each at its own model's window (insight.jsonl's turn
// `window`), stepping where its window changes (another model, the 1M header, an input past the table's window).

// The chart's scale stays the inputs': a window more than WINDOW_SCALE times the largest input is not drawn but
// named above the plot ("▲ window 1M above the scale"), and the legend says the peak's share of it. Drawn to scale, a
// 1M window over inputs of 20k would leave every bar two pixels high: the input is what the chart is read for.
// Within four times the peak the tallest bar still keeps a quarter of the chart's height, and the gap to the line
// reads as the room left.
const WINDOW_SCALE = 4;
const WINDOW_COLOURS = 6; // --ov-window-0 … -5, taken in turn by the agents in the order of their first turns
const WINDOW_LEGEND = 8; // lines the legend names, and agents named in one of its entries; the rest are counted

const WINDOW_SAID = 4; // windows one agent's legend entry names in order; past them, its last, after "…"

// Per agent, in the order of its first turn: `steps`, [turn index, window] where its window is first known or
// changes (null where it is unknown), each holding over the other agents' turns up to its own next turn (kept as
// steps, not a value per turn: a run of many agents has as many lines); `last`, the index of its last turn; `said`,
// its windows in words, in order ("40,000 (prices.yaml)"), up to WINDOW_SAID and its last; `top`, its largest
// window; and `peak`, its highest share.
function windowLines() {
  const lines = new Map();
  TURNS.forEach((turn, index) => {
    const limit = windowOf(turn);
    if (!limit) return; // (a page older than the windows: its turns have none)
    const agent = String(insightOf(turn).agent);
    if (!lines.has(agent)) lines.set(agent, { agent, steps: [], last: index, said: [], top: null, peak: null, colour: lines.size % WINDOW_COLOURS });
    const line = lines.get(agent);
    const tokens = windowTokens(turn);
    const step = line.steps[line.steps.length - 1];
    if (!step || step[1] !== tokens) line.steps.push([index, tokens]);
    line.last = index;
    const words = tokens === null ? "unknown" : number(tokens) + " (" + String(limit.source) + ")";
    if (line.said[line.said.length - 1] !== words) {
      if (line.said.length <= WINDOW_SAID) line.said.push(words);
      else line.said.splice(WINDOW_SAID, 2, "…", words); // (bounded, however often it changes)
    }
    if (tokens !== null) line.top = Math.max(line.top || 0, tokens);
    const share = insightOf(turn).share;
    if (isNumber(share)) line.peak = Math.max(line.peak || 0, share);
  });
  return [...lines.values()];
}

// The input chart's headroom above its largest value: room at the top for the note of a window above the scale.
function inputHeadroom() {
  return NUMBERS.windows.some((line) => line.top !== null && !onScale(line, NUMBERS)) ? 1.25 : 1.08;
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

// The input chart's y scale: from zero to a little above the largest input or window drawn, and higher still when a
// window above the scale is named at the top.
function inputRange() {
  const range = (chart, min, max) => {
    const top = Math.max(max > 0 ? max : 0, ...drawnWindows(NUMBERS).map((line) => line.top));
    return [0, top > 0 ? top * inputHeadroom() : 1];
  };
  return { range };
}

// The legend: each window drawn, by its agent and in its line's colour; the windows not drawn (above the scale, or
// unknown) once for all the agents that share the words, with their peak share.
function windowLegend(numbers) {
  const lines = numbers.windows;
  if (!lines.length) return [];
  if (lines.every((line) => line.top === null)) return [el("span", { class: "ov-key" }, "window unknown")];
  // (every agent's when all share it: a list of every name would take the legend a second line)
  const whose = (agents) => (lines.length < 2 ? "" : agents.length === lines.length ? " of every agent" : " of " + listed(agents.map(agentName)));
  const drawn = drawnWindows(numbers);
  const keys = drawn.slice(0, WINDOW_LEGEND).map((line) =>
    legendKey("window-" + line.colour, "window" + whose([line.agent]) + ": " + line.said.join(", then "), "each turn's model's context window; hover a turn for its share", true)
  );
  if (drawn.length > WINDOW_LEGEND)
    keys.push(el("span", { class: "ov-key" }, "and the windows of " + (drawn.length - WINDOW_LEGEND) + " more agents: each turn's facts give its own"));
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

// Each agent's window on the canvas, over the bars: at each of its turns a step as wide as the turn's slot (a line
// through the turns' centres would show the last turn's window only as the foot of a step), carried over the other
// agents' turns between; then its value at its right end ("window 40k", once per height), and the windows above the
// scale named at the plot's top right ("▲ window 1M above the scale").
function drawWindows(chart, numbers) {
  const ratio = devicePixelRatio || 1;
  const context = chart.ctx;
  const { left, top, width, height } = chart.bbox;
  const turns = chart.data[0];
  const x = (at) => chart.valToPos(turns[at], "x", true);
  const edge = (at, side) => (at + side >= 0 && at + side < turns.length ? (x(at) + x(at + side)) / 2 : x(at) + side * (chart.valToPos(1, "x", true) - chart.valToPos(0.5, "x", true)));
  context.save();
  context.beginPath();
  context.rect(left, top, width, height);
  context.clip();
  context.lineWidth = 2 * ratio;
  for (const line of drawnWindows(numbers)) {
    context.strokeStyle = colour("ov-window-" + line.colour);
    context.beginPath();
    line.steps.forEach(([at, value], step) => {
      if (value === null) return;
      const y = Math.round(chart.valToPos(value, "y", true)); // (on whole pixels: a 2-pixel line stays crisp)
      const next = line.steps[step + 1];
      if (step > 0 && line.steps[step - 1][1] !== null) context.lineTo(edge(at, -1), y); // the step from the one before
      else context.moveTo(edge(at, -1), y);
      context.lineTo(next ? edge(next[0], -1) : edge(line.last, 1), y);
    });
    context.stroke();
  }
  context.restore();
  labelWindows(chart, numbers);
}

function labelWindows(chart, numbers) {
  const ratio = devicePixelRatio || 1;
  const context = chart.ctx;
  const { left, top, width } = chart.bbox;
  context.save();
  context.font = Math.round(11 * ratio) + "px system-ui, -apple-system, 'Segoe UI', sans-serif";
  context.textAlign = "right";
  const labelled = new Set();
  for (const line of drawnWindows(numbers)) {
    const last = line.steps[line.steps.length - 1][1];
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
