// The timeline view: a lane per agent on one time axis, drawn in SVG, only what is in view (intervals narrower than
// a pixel merged into one mark), each interval a focusable element whose label holds its figures. timeline_keys.js
// zooms, pans and moves between the intervals.

const TL = { ROW: 14, GAP: 3, PAD: 5, AXIS: 22, LABEL: 190, NARROW_LABEL: 110, INDENT: 10, RIGHT: 10 };
const TL_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
  1800, 3600, 7200, 14400];

const timeline = { model: null, view: null, whole: true, focused: null, parts: null, drawn: new Map() };

function svgEl(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

function timelineGeometry() {
  const width = Math.max(280, timeline.parts.frame.clientWidth);
  const label = width < 700 ? TL.NARROW_LABEL : TL.LABEL;
  return { width, label, plot: Math.max(60, width - label - TL.RIGHT) };
}

function xOf(time, geometry) {
  const { from, to } = timeline.view;
  return geometry.label + ((time - from) / (to - from)) * geometry.plot;
}

function buildTimeline() {
  const box = el("section", { id: "time-view", "aria-labelledby": "time-view-title", tabindex: "-1" });
  const parts = {
    box,
    note: el("p", { class: "quiet tl-note" }),
    range: el("span", { class: "tl-range" }),
    readout: el("div", { class: "tl-readout", role: "status", "aria-live": "polite" }),
    frame: el("div", { class: "tl-frame", tabindex: 0, role: "group",
      "aria-label": "Timeline: arrow keys pan, + and - zoom, Tab moves to the intervals, Enter opens an interval's turn" }),
    scroll: el("div", { class: "tl-scroll", "aria-hidden": "true" }), // (the arrow keys pan as it does)
  };
  parts.inner = append(el("div", { class: "tl-scroll-inner" }), []);
  parts.scroll.appendChild(parts.inner);
  parts.svg = svgEl("svg", { class: "tl-svg", role: "presentation" });
  parts.frame.appendChild(parts.svg);
  const button = (label, title, action) => {
    const node = el("button", { type: "button", class: "tl-button", title }, label);
    node.addEventListener("click", action);
    return node;
  };
  parts.tools = el("div", { class: "tl-tools" },
    button("Zoom in", "Zoom in (+, or Ctrl and the wheel)", () => zoomTimeline(0.5)),
    button("Zoom out", "Zoom out (-)", () => zoomTimeline(2)),
    button("Whole run", "Show the whole run (0)", () => wholeTimeline()),
    parts.range);
  timeline.parts = parts;
  // The figures' line goes below the plot: above it, a line that wraps on hover moved the plot under the pointer
  // between a press and its release, and the click landed beside the interval.
  append(box, [el("h2", { id: "time-view-title" }, "Timeline"), parts.note, parts.tools, timelineLegend(), parts.frame,
    parts.scroll, parts.readout]);
  document.getElementById("overview").after(box);
  timelineControls(parts);
  refreshTimeline();
  new ResizeObserver(() => drawTimeline()).observe(parts.frame);
}

const LEGEND = [["tl-waiting", "model: waiting"], ["tl-streaming", "model: streaming"], ["tl-tool", "tool"],
  ["tl-sub_agent", "sub-agent"], ["tl-user", "user"], ["tl-agent", "agent"], ["tl-mcp", "MCP call"], ["tl-mark-cache", "cache break"],
  ["tl-mark-compaction", "compaction"], ["tl-critical-key", "critical path"], ["tl-many", "several (zoom in)"],
  ["tl-fork-key", "fork: live from here"]];

function timelineLegend() {
  return el("ul", { class: "tl-legend", "aria-label": "Legend" },
    LEGEND.map(([className, label]) => el("li", { class: "for-" + className },
      el("span", { class: "tl-key " + className, "aria-hidden": "true" }), label)));
}

// The model again from the page's data (at the start, and on a live page whenever it grows): a view the reader
// zoomed is kept; the whole run is followed as it grows.
function refreshTimeline() {
  const model = timelineModel();
  timeline.model = model;
  const notes = [];
  if (model.derived && model.count) notes.push("Model calls only, from each turn's own times: the run's time model (tools, sub-agents, user and agent time) is not in this page's data yet (a live page gets it once the run has been read to the end).");
  if (model.provisional) notes.push("The run is still going: its time as it stands at the last exchange read (a call not answered yet lasts to that moment), drawn again as the run grows.");
  if (!model.count) notes.push("No interval to draw: no exchange has a time.");
  if (model.leftOut) notes.push("This page draws the run's first " + number(model.count) + " intervals; " + number(model.leftOut) + " more are in insight.jsonl.");
  if (model.fork) notes.push(forkWords(model.fork));
  timeline.parts.note.textContent = notes.join(" ");
  timeline.parts.box.querySelector(".for-tl-fork-key").hidden = !model.fork;
  if (!model.count) {
    timeline.view = { from: 0, to: 1 };
  } else if (timeline.whole || !timeline.view) {
    const pad = Math.max(0.001, (model.to - model.from) * 0.01);
    timeline.view = { from: model.from - pad, to: model.to + pad };
  }
  drawTimeline();
}

function laneHeight(lane) {
  return Math.max(1, lane.rows.length) * (TL.ROW + TL.GAP) - TL.GAP + 2 * TL.PAD;
}

function drawTimeline() {
  const { model, parts } = timeline;
  if (!model || !parts.frame.isConnected) return;
  const geometry = timelineGeometry();
  timeline.geometry = geometry;
  const height = TL.AXIS + model.lanes.reduce((sum, lane) => sum + laneHeight(lane), 0);
  const svg = parts.svg;
  svg.setAttribute("width", geometry.width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", "0 0 " + geometry.width + " " + height);
  const forkX = model.fork ? xOf(model.fork.time, geometry) : null;
  const layers = [timelineAxis(geometry, height, forkX)];
  timeline.drawn = new Map();
  const labels = laneLabels(model.lanes, geometry);
  let top = TL.AXIS;
  model.lanes.forEach((lane, index) => {
    layers.push(drawLane(lane, labels[index], top, geometry));
    top += laneHeight(lane);
  });
  if (model.fork) layers.push(forkMark(model.fork, geometry, height));
  const hadFocus = svg.contains(document.activeElement); // (an interval's: it is drawn anew, and keeps the focus)
  svg.replaceChildren(...layers);
  updateScrollBar(geometry);
  const { from, to } = timeline.view;
  parts.range.textContent = model.count ? "showing " + offset(from - model.from) + " to " + offset(to - model.from) + " of " + seconds(model.to - model.from) : "";
  const focused = timeline.focused !== null && timeline.drawn.get(timeline.focused);
  if (focused && hadFocus) focused.focus({ preventScroll: true });
}

// What the fork's mark stands for, in the note above the plot (the mark itself is drawn, not read).
function forkWords(fork) {
  const origin = isNumber(fork.at) ? " (the origin's #" + fork.at + ")" : "";
  const model = fork.model ? ", asking for " + fork.model : "";
  return "A fork: its requests up to #" + fork.request + origin + " were answered from the recording, those after it live" + model + "; the dashed line marks the moment it went live, at +" + seconds(fork.time - timeline.model.from) + ".";
}

// The fork point: a dashed line across the lanes at the end of the last answer served from the recording.
function forkMark(fork, geometry, height) {
  const group = svgEl("g", { class: "tl-fork", "aria-hidden": "true" });
  const x = xOf(fork.time, geometry);
  if (x < geometry.label || x > geometry.width - TL.RIGHT) return group;
  group.appendChild(svgEl("line", { x1: x, x2: x, y1: 2, y2: height, class: "tl-fork-line" }));
  // (on a ground of its own: a tick's label may be under it)
  group.appendChild(svgEl("rect", { x: x + 1, y: 2, width: 30, height: 14, class: "tl-fork-ground" }));
  const label = svgEl("text", { x: x + 4, y: 13, class: "tl-fork-label" }, "fork");
  label.appendChild(svgEl("title", {}, forkWords(fork)));
  group.appendChild(label);
  return group;
}

function offset(value) {
  return (value < 0 ? "-" : "+") + seconds(Math.abs(value));
}

// The time axis: a tick and its offset at steps of a round length; none of the offsets under the fork's label.
function timelineAxis(geometry, height, forkX) {
  const { from, to } = timeline.view;
  const perPixel = (to - from) / geometry.plot;
  const step = TL_STEPS.find((each) => each / perPixel >= 90) || TL_STEPS[TL_STEPS.length - 1];
  const origin = timeline.model.count ? timeline.model.from : from;
  const group = svgEl("g", { class: "tl-axis", "aria-hidden": "true" });
  for (let tick = Math.ceil((from - origin) / step) * step; origin + tick <= to; tick += step) {
    const x = xOf(origin + tick, geometry);
    if (x < geometry.label) continue;
    group.appendChild(svgEl("line", { x1: x, x2: x, y1: TL.AXIS - 4, y2: height, class: "tl-grid" }));
    const text = offset(Math.round(tick / step) * step);
    if (forkX !== null && x + 2 < forkX + 32 && forkX < x + 2 + text.length * 6.6) continue;
    group.appendChild(svgEl("text", { x: x + 2, y: TL.AXIS - 8, class: "tl-tick" }, text));
  }
  return group;
}

function labelIndent(lane) {
  return 4 + lane.depth * TL.INDENT;
}

// Each lane's label in the room beside the plot (a full name is its title), no two alike: a name too long is cut at
// its end, or, where that would read as another lane's cut (parallel sub-agents named alike but for a number),
// around the words where it differs from the others; names the same to the letter are numbered.
function laneLabels(lanes, geometry) {
  const rooms = lanes.map((lane) => Math.max(3, Math.floor((geometry.label - labelIndent(lane) - 6) / 6.6)));
  const shown = lanes.map((lane, index) => cutEnd(lane.name, rooms[index]));
  for (const members of groupsOf(shown)) {
    // Where each name first differs from the others of its group: past its longest common start with either
    // neighbour once they are sorted.
    const sorted = members.slice().sort((a, b) => (lanes[a].name < lanes[b].name ? -1 : lanes[a].name > lanes[b].name ? 1 : 0));
    sorted.forEach((index, at) => {
      const name = lanes[index].name;
      const differs = Math.max(...[sorted[at - 1], sorted[at + 1]].filter((other) => other !== undefined)
        .map((other) => commonStart(name, lanes[other].name)));
      shown[index] = cutWhereDifferent(name, differs, rooms[index]);
    });
  }
  for (const members of groupsOf(shown)) {
    members.forEach((index, at) => {
      const number = " (" + (at + 1) + ")";
      shown[index] = cutEnd(lanes[index].name, Math.max(3, rooms[index] - number.length)) + number;
    });
  }
  return shown;
}

// The indices of the labels shown alike, a list for each label shown more than once.
function groupsOf(labels) {
  const groups = new Map();
  labels.forEach((label, index) => groups.set(label, [...(groups.get(label) || []), index]));
  return [...groups.values()].filter((members) => members.length > 1);
}

function commonStart(a, b) {
  let same = 0;
  while (same < a.length && a[same] === b[same]) same++;
  return same;
}

function cutEnd(name, room) {
  return name.length > room ? name.slice(0, room - 1) + "…" : name;
}

// `name` in `room` characters, showing the word where it first differs from the others (at `differs`) and the word
// before it, after as much of its start as fits.
function cutWhereDifferent(name, differs, room) {
  const wordStart = (at) => name.lastIndexOf(" ", at - 1) + 1;
  let from = wordStart(Math.min(differs, name.length));
  if (from > 0) from = wordStart(from - 1) || from; // (the word before, unless it is the first: then the start shows)
  if (differs - from > room / 2) from = Math.max(0, differs - 4); // (long words: a few letters before the difference)
  if (from === 0) return cutEnd(name, room);
  const rest = name.slice(from);
  if (rest.length + 2 > room) return "…" + cutEnd(rest, room - 1);
  return name.slice(0, room - rest.length - 1) + "…" + rest;
}

function drawLane(lane, shown, top, geometry) {
  const height = laneHeight(lane);
  const group = svgEl("g", { class: "tl-lane", role: "group", "aria-label": "Lane of " + lane.name, "data-agent": lane.agent });
  group.appendChild(svgEl("rect", { x: 0, y: top, width: geometry.width, height, class: lane.index % 2 ? "tl-band odd" : "tl-band" }));
  const indent = labelIndent(lane);
  const label = svgEl("text", { x: indent, y: top + TL.PAD + TL.ROW - 3, class: "tl-label" }, shown);
  label.appendChild(svgEl("title", {}, lane.name));
  group.appendChild(label);
  const visible = [];
  lane.rows.forEach((row, number) => {
    const y = top + TL.PAD + number * (TL.ROW + TL.GAP);
    let many = null;
    for (let at = firstEndingAfter(row, timeline.view.from); at < row.length && row[at].start <= timeline.view.to; at++) {
      const span = row[at];
      const x0 = Math.max(geometry.label, xOf(span.start, geometry));
      const x1 = Math.min(geometry.width - TL.RIGHT, xOf(span.end, geometry));
      if (x1 - x0 < 1 && span.at !== timeline.focusedAt(lane)) {
        // Below a pixel: merged with its neighbours into one mark, which zooming in takes apart.
        if (many && x0 <= many.x1 + 1) {
          many.x1 = Math.max(many.x1, x0 + 1);
          many.count++;
        } else {
          many = { x0, x1: x0 + 1, y, count: 1 };
          visible.push({ many });
        }
        continue;
      }
      many = null;
      visible.push({ span, x0, x1: Math.max(x1, x0 + 1), y });
    }
  });
  visible.sort((a, b) => (a.span ? a.span.at : Infinity) - (b.span ? b.span.at : Infinity));
  for (const item of visible) group.appendChild(item.span ? drawSpan(item) : drawMany(item.many));
  return group;
}

// The focused interval is drawn whatever its width, so that the keyboard never lands on a merged mark.
timeline.focusedAt = (lane) => {
  const span = timeline.focused === null ? undefined : timeline.model.byId.get(timeline.focused);
  return span && span.lane === lane.index ? span.at : -1;
};

function drawMany({ x0, x1, y, count }) {
  const mark = svgEl("rect", { x: x0, y, width: Math.max(1, x1 - x0), height: TL.ROW, class: "tl-many" });
  mark.appendChild(svgEl("title", {}, count + " interval" + plural(count) + ": zoom in to see them"));
  return mark;
}

function drawSpan({ span, x0, x1, y }) {
  const critical = span.critical ? " tl-critical" : "";
  const group = svgEl("g", { class: "tl-span tl-" + span.kind + critical, tabindex: 0, role: "button",
    "aria-label": spanFigures(span, timeline.model.from), "data-span": span.id });
  if (span.kind === "model" && span.firstByte !== null) {
    const split = Math.min(x1, Math.max(x0, xOf(span.firstByte, timeline.geometry)));
    group.appendChild(svgEl("rect", { x: x0, y, width: Math.max(0, split - x0), height: TL.ROW, class: "tl-waiting" }));
    group.appendChild(svgEl("rect", { x: split, y, width: Math.max(0, x1 - split), height: TL.ROW, class: "tl-streaming" }));
  } else {
    const fill = span.kind === "model" ? "tl-streaming" : "tl-fill";
    group.appendChild(svgEl("rect", { x: x0, y, width: x1 - x0, height: TL.ROW, class: fill }));
  }
  if (span.critical) group.appendChild(svgEl("rect", { x: x0, y: y - 1, width: x1 - x0, height: TL.ROW + 2, class: "tl-critical-edge" }));
  if (x1 - x0 > 40 && span.name) {
    const room = Math.floor((x1 - x0 - 6) / 6.2);
    const text = span.name.length > room ? span.name.slice(0, Math.max(1, room - 1)) + "…" : span.name;
    group.appendChild(svgEl("text", { x: x0 + 3, y: y + TL.ROW - 3, class: "tl-name", "aria-hidden": "true" }, text));
  }
  if (span.cacheBreak) group.appendChild(svgEl("path", { d: `M${x0 - 4} ${y - 2}h8l-4 6z`, class: "tl-mark-cache" }));
  if (span.compaction) group.appendChild(svgEl("path", { d: `M${x0} ${y + 1}l4 6l-4 6l-4 -6z`, class: "tl-mark-compaction" }));
  timeline.drawn.set(span.id, group);
  return group;
}

function updateScrollBar(geometry) {
  const { model, view, parts } = timeline;
  const total = Math.max(1e-6, model.to - model.from);
  const share = Math.min(1, (view.to - view.from) / total);
  const width = Math.max(geometry.plot, geometry.plot / Math.max(share, 1e-6));
  parts.inner.style.width = Math.min(width, 1e7) + "px";
  parts.scroll.style.marginLeft = geometry.label + "px";
  parts.scroll.scrollLeft = ((view.from - model.from) / total) * Math.min(width, 1e7);
  timeline.scrolledTo = parts.scroll.scrollLeft; // (the scroll event this causes is not the reader's)
}

// The turn an interval came from (its first exchange), opened as the list opens one.
function openSpanTurn(span) {
  const index = span.exchanges.length ? byNumber.get(span.exchanges[0]) : undefined;
  if (index === undefined) {
    timeline.parts.readout.textContent = "This page does not hold the turn of that interval.";
    return;
  }
  select(index, true, "push");
}

on("header", () => timeline.parts && refreshTimeline());
on("added", () => timeline.parts && timeline.model && timeline.model.derived && refreshTimeline());
