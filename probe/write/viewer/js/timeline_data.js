// The timeline's data: one lane per agent in the agent tree's order, each interval of the run's time model (the
// header's `span` records, docs/formats.md) on its agent's lane, overlapping ones stacked in sub-rows of that lane.
// A live page's header holds the model as it would be if the run ended at the last exchange read (`provisional`),
// made again as the run grows; where it holds none (past the intervals a page holds), the lanes hold the model
// calls of the turns so far, from each turn's own timing, until the run's own model comes at its end.

const TIMELINE_KINDS = ["model", "tool", "sub_agent", "user", "agent", "mcp"];

// The lanes, in tree order: from the `time` records (each names its agent, its parent and depth), else the agent
// records, else one lane per agent the turns name.
function timelineLanes(insight, spans) {
  const times = (Array.isArray(insight.times) ? insight.times : []).filter((record) => record && record.agent != null);
  const agents = Array.isArray(insight.agents) ? insight.agents : [];
  const from = times.length ? times : agents.map((agent) => ({ ...agent, agent: agent.id }));
  const lanes = from.map((record) => ({
    agent: String(record.agent),
    name: String(record.name || record.agent),
    depth: isNumber(record.depth) ? Math.min(8, Math.max(0, record.depth)) : 0,
  }));
  const known = new Set(lanes.map((lane) => lane.agent));
  for (const span of spans) {
    if (known.has(span.agent)) continue;
    known.add(span.agent);
    lanes.push({ agent: span.agent, name: span.agent, depth: 0 });
  }
  return lanes;
}

function numberOr(value, otherwise) {
  return isNumber(value) && Number.isFinite(value) ? value : otherwise;
}

// A span record made safe to draw: numbers where numbers belong, an end never before its start.
function drawnSpan(record) {
  const start = numberOr(record.start, null);
  if (start === null) return null;
  const end = Math.max(start, numberOr(record.end, start));
  const firstByte = numberOr(record.first_byte, null);
  return {
    id: numberOr(record.id, 0),
    agent: String(record.agent == null ? "main" : record.agent),
    kind: TIMELINE_KINDS.includes(record.kind) ? record.kind : "agent",
    name: record.name == null ? "" : String(record.name),
    start,
    end,
    firstByte: firstByte === null ? null : Math.min(end, Math.max(start, firstByte)),
    exchanges: Array.isArray(record.exchanges) ? record.exchanges.filter(isNumber) : [],
    tokens: record.tokens && typeof record.tokens === "object" ? record.tokens : null,
    cost: record.cost_usd == null ? null : String(record.cost_usd),
    cacheBreak: record.cache_break === true,
    compaction: record.compaction === true,
    open: record.open === true,
    critical: record.critical === true,
  };
}

// The model calls of the turns the page holds, as spans: what a live page draws until the run's model is made.
function spansOfTurns() {
  const spans = [];
  TURNS.forEach((turn) => {
    const timing = turn.timing || {};
    if (!isNumber(timing.start)) return;
    const usage = turn.usage || {};
    const insight = turn.insight || {};
    const cost = insight.cost && isNumber(insight.cost.usd) ? insight.cost.usd.toFixed(4) : null;
    spans.push({
      id: spans.length + 1,
      agent: insight.agent == null ? "main" : insight.agent,
      kind: "model",
      name: turn.model || "",
      start: timing.start,
      end: timing.start + numberOr(timing.duration_ms, 0) / 1000,
      first_byte: isNumber(timing.ttfb_ms) ? timing.start + timing.ttfb_ms / 1000 : null,
      exchanges: [turn.n],
      tokens: { input: usage.input, output: usage.output, cache_read: usage.cache_read, cache_write: usage.cache_write },
      cost_usd: cost,
      cache_break: !!(insight.cache && insight.cache.cause),
    });
  });
  return spans;
}

// Each lane's intervals in sub-rows: an interval goes to the first row free at its start, so that a row's intervals
// never overlap and are in order of start and of end alike (which the drawing searches by).
function stacked(spans) {
  const rows = [];
  for (const span of spans) {
    let row = rows.findIndex((ends) => ends.last <= span.start);
    if (row < 0) {
      rows.push({ last: -Infinity, spans: [] });
      row = rows.length - 1;
    }
    span.row = row;
    rows[row].last = span.end;
    rows[row].spans.push(span);
  }
  return rows.map((row) => row.spans);
}

// Everything the timeline draws: {lanes: [{agent, name, depth, rows: [[span]], order: [span]}], from, to, derived,
// leftOut, provisional}. `derived`: the spans come from the turns, the run's model is not there yet; `provisional`:
// the model is the run's so far (a live page's).
function timelineModel() {
  const insight = runInsight();
  const recorded = Array.isArray(insight.spans) ? insight.spans : [];
  const derived = recorded.length === 0;
  const ofAgents = (derived ? spansOfTurns() : recorded).map(drawnSpan).filter(Boolean);
  // The MCP servers' calls, each server a lane after the agents' (probe/write/viewer/js/mcp.js).
  const mcp = mcpTimeline(insight, ofAgents.reduce((most, span) => Math.max(most, span.id), 0));
  const lanes = timelineLanes(insight, ofAgents).concat(mcp.lanes);
  const spans = ofAgents.concat(mcp.spans);
  spans.sort((a, b) => a.start - b.start || a.id - b.id);
  const byAgent = new Map(lanes.map((lane) => [lane.agent, []]));
  for (const span of spans) byAgent.get(span.agent).push(span);
  let from = Infinity;
  let to = -Infinity;
  for (const span of spans) {
    from = Math.min(from, span.start);
    to = Math.max(to, span.end);
  }
  // (A lane with no interval is left out while the spans come from the turns: the agent records name the ones to come.)
  const drawn = lanes.filter((lane) => byAgent.get(lane.agent).length || !derived);
  drawn.forEach((lane, index) => {
    lane.index = index;
    lane.order = byAgent.get(lane.agent);
    lane.order.forEach((span, at) => ((span.lane = index), (span.at = at)));
    lane.rows = stacked(lane.order);
  });
  const leftOut = derived ? 0 : numberOr(insight.spans_left_out, 0);
  const byId = new Map(spans.map((span) => [span.id, span]));
  const provisional = !derived && insight.provisional === true;
  const fork = forkMoment(spans);
  return { lanes: drawn, from, to, derived, leftOut, count: spans.length, byId, provisional, fork };
}

// A fork's point (the page header's `fork`, from the manifest) with the moment it went live: the end of the answer
// to its last request served from the recording, from that model call's interval, else from its turn's timing.
function forkMoment(spans) {
  const fork = DATA.header.fork;
  if (!fork || typeof fork !== "object" || !isNumber(fork.request)) return null;
  const call = spans.find((span) => span.kind === "model" && span.exchanges[0] === fork.request);
  if (call) return { ...fork, time: call.end };
  const index = byNumber.get(fork.request);
  const timing = index === undefined ? {} : TURNS[index].timing || {};
  if (!isNumber(timing.start)) return null;
  return { ...fork, time: timing.start + numberOr(timing.duration_ms, 0) / 1000 };
}

// The index in `spans` (of one row: ordered by start and end) of the first one ending at or after `time`.
function firstEndingAfter(spans, time) {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (spans[middle].end < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

// 1.25 s, 3 min 4 s, 350 ms: a duration for the axis and the readout.
function seconds(value) {
  if (!isNumber(value)) return "—";
  if (value === 0) return "0 s";
  const size = Math.abs(value);
  if (size < 1) return (value * 1000).toFixed(size < 0.01 ? 1 : 0) + " ms";
  if (size < 60) return value.toFixed(size < 10 ? 2 : 1) + " s";
  const minutes = Math.floor(size / 60);
  return (value < 0 ? "-" : "") + minutes + " min " + Math.round(size - minutes * 60) + " s";
}

const KIND_WORDS = { model: "model call", tool: "tool", sub_agent: "sub-agent", user: "user", agent: "agent", mcp: "MCP call" };

// What the readout says of one interval: its kind and name, when, how long, and its figures.
function spanFigures(span, from) {
  const parts = [KIND_WORDS[span.kind] + (span.name ? " " + span.name : "")];
  parts.push("start +" + seconds(span.start - from), "duration " + seconds(span.end - span.start));
  if (span.kind === "model" && span.firstByte !== null) {
    parts.push("waiting " + seconds(span.firstByte - span.start) + ", streaming " + seconds(span.end - span.firstByte));
  }
  if (span.tokens) {
    const tokens = [["input", "input"], ["output", "output"], ["cache read", "cache_read"], ["cache write", "cache_write"]]
      .filter(([, key]) => isNumber(span.tokens[key]))
      .map(([label, key]) => label + " " + number(span.tokens[key]));
    if (tokens.length) parts.push("tokens: " + tokens.join(", "));
  }
  if (span.mcp) parts.push(...mcpFigures(span.mcp));
  if (span.cost !== null) parts.push("cost $" + span.cost);
  if (span.exchanges.length) parts.push("exchanges " + span.exchanges.map((n) => "#" + n).join(", "));
  if (span.cacheBreak) parts.push("cache break");
  if (span.compaction) parts.push("compaction");
  if (span.open) parts.push("never answered");
  if (span.critical) parts.push("on the critical path");
  return parts.join(" · ");
}
