// The overview's tool calls: each tool's totals, and every call with the turn that asked for it and the one that
// brought its result back (header.insight.run.tools and header.insight.tool_calls).

const CALLS_AT_ONCE = 200; // rows added at a time: a long run lists thousands of calls
const AGENT_WIDTH = 180; // px: the widest the agent column grows, what a 600 px pane leaves the other columns

// The width of the longest agent name among the calls, in the table's font, with the cell's padding.
function agentColumn(calls) {
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = "12px " + getComputedStyle(document.body).fontFamily; // (overview.css: .ov-table's font size)
  let widest = measure.measureText("agent").width;
  for (const agent of new Set(calls.map((call) => call.agent))) widest = Math.max(widest, measure.measureText(String(agentName(agent))).width);
  return Math.min(AGENT_WIDTH, Math.ceil(widest) + 14);
}

function waited(value) {
  return isNumber(value) ? Math.round(value).toLocaleString("en-US") + " ms" : "—";
}

function toolTotals(tools) {
  const rows = Object.entries(tools && typeof tools === "object" ? tools : {});
  rows.sort(([a, one], [b, other]) => other.calls - one.calls || (a < b ? -1 : a > b ? 1 : 0));
  return table(
    ["tool", "calls", "answered", "failed", "mean wait", "longest wait"],
    rows.map(([name, stats]) => [
      name,
      number(stats.calls),
      number(stats.answered),
      number(stats.failed),
      count(stats.timed) ? waited(stats.wait_ms / stats.timed) : "—",
      waited(stats.longest_ms),
    ]),
    "ov-table ov-tool-totals"
  );
}

// A call's wait; for a call whose agent ran on after the call was answered (a background agent, answered at once by
// its launch), the agent's life, from its spawn to its last answer.
function waitOf(call, lives) {
  const life = lives.get(String(call.call_id));
  if (isNumber(life) && isNumber(call.wait_ms) && life * 1000 > call.wait_ms)
    return el("span", { title: "the agent's life; its call was answered in " + waited(call.wait_ms) }, waited(life * 1000) + " life");
  return waited(call.wait_ms);
}

function callRow(call, lives) {
  const answered = isNumber(call.answered_in) ? turnLink(call.answered_in) : el("span", { class: "quiet" }, "never");
  return el(
    "tr",
    { "data-call": String(call.call_id) },
    el("td", { class: "ov-turns" }, isNumber(call.asked_in) ? turnLink(call.asked_in) : "—", " → ", answered),
    el("td", { title: String(call.tool) }, el("code", {}, String(call.tool))),
    el("td", { class: "ov-agent", title: "id " + String(call.agent) }, agentName(call.agent)),
    el("td", { class: "ov-number" }, waitOf(call, lives)),
    el("td", { class: call.is_error ? "bad" : "" }, call.is_error === true ? "failed" : call.is_error === false ? "ok" : "—"),
    el("td", { title: String(call.arguments) }, el("code", {}, String(call.arguments)))
  );
}

function callList(calls, lives) {
  const body = el("tbody", {});
  const more = el("button", { type: "button", class: "ov-more" });
  let shown = 0;
  const showMore = () => {
    const next = calls.slice(shown, shown + CALLS_AT_ONCE);
    append(body, next.map((call) => callRow(call, lives)));
    shown += next.length;
    more.textContent = "Show " + number(Math.min(CALLS_AT_ONCE, calls.length - shown)) + " more of " + number(calls.length - shown);
    more.hidden = shown >= calls.length;
  };
  more.addEventListener("click", showMore);
  showMore();
  const head = el("thead", {}, el("tr", {}, ["asked → answered", "tool", "agent", "wait", "result", "arguments"].map((h) => el("th", {}, h))));
  // The agent column is as wide as the longest name it shows, up to AGENT_WIDTH (beyond, a name wraps).
  head.querySelectorAll("th")[2].style.width = agentColumn(calls) + "px";
  return [el("div", { class: "ov-scroll" }, el("table", { class: "ov-table ov-calls" }, head, body)), more];
}

function toolsCard(insight) {
  const run = insight.run || {};
  const calls = Array.isArray(insight.tool_calls) ? insight.tool_calls : [];
  const card = el("section", { class: "ov-card ov-tools", "aria-label": "Tool calls" }, el("h3", {}, "Tool calls (" + number(count(run.tool_calls) || calls.length) + ")"));
  if (!calls.length && !count(run.tool_calls)) return append(card, [el("p", { class: "quiet" }, "No response asked for a tool call.")]);
  // The agents' lives by the id of the call that spawned each.
  const spawned = (Array.isArray(insight.agents) ? insight.agents : []).filter((agent) => agent && agent.spawned_by && typeof agent.spawned_by === "object");
  const lives = new Map(spawned.map((agent) => [String(agent.spawned_by.call_id), agent.life_s]));
  const leftOut = count(insight.tool_calls_left_out) || 0;
  return append(card, [
    el("p", { class: "ov-note" }, "Wait: the agent's time, from the answer asking for a call to the request bringing its result."),
    el("div", { class: "ov-scroll ov-short" }, toolTotals(run.tools)),
    callList(calls, lives),
    leftOut ? el("p", { class: "ov-left-out" }, number(leftOut) + " more in insight.jsonl") : null,
  ]);
}
