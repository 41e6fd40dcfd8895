// The run's MCP servers and calls (insight.jsonl's mcp_server and mcp_call records, header.insight.mcp_servers and
// mcp_calls): servers under the agent that ran them in the agent tree, each call on its server's lane of the timeline,
// and beside the model's tool call it was joined to in each turn. Every name and argument is captured text: shown as
// text, never markup.

function mcpServers(insight) {
  return (Array.isArray(insight.mcp_servers) ? insight.mcp_servers : []).filter((server) => server && typeof server === "object");
}

function mcpCalls(insight) {
  return (Array.isArray(insight.mcp_calls) ? insight.mcp_calls : []).filter((call) => call && typeof call === "object" && call.server != null);
}

// 12 ms, 1.5 s: a call's time ("—" where it is not known).
function mcpSeconds(value) {
  if (!isNumber(value)) return "—";
  return value < 10 ? number(Math.round(value * 1000)) + " ms" : value.toFixed(1) + " s";
}

// What the requests offered of a server: "3 tools, 6,210 tokens in every request (23%)", deferred said as such.
function mcpOffered(offered) {
  if (!offered || typeof offered !== "object" || !count(offered.tools)) return "no tool of it offered to the model";
  const tools = number(offered.tools) + " tool" + plural(offered.tools);
  const where = offered.every_request === true ? "every request" : number(count(offered.requests) || 0) + " request" + plural(count(offered.requests) || 0);
  const share = isNumber(offered.share) ? " (" + sharePercent(offered.share) + ")" : "";
  const tokens = number(count(offered.tokens) || 0) + " tokens in " + where + share;
  return tools + (offered.deferred === true ? ", deferred (only their names sent): " : ", ") + tokens;
}

// A server as an item of the agent tree: its name, transport, what it offered the model and its calls.
function mcpServerItem(server, calls) {
  const mine = calls.filter((call) => call.server === server.server);
  const failed = mine.filter((call) => call.is_error === true).length;
  const facts = [server.transport != null ? String(server.transport) : "not recorded", mcpOffered(server.offered)];
  facts.push(number(mine.length) + " call" + plural(mine.length) + (failed ? ", " + number(failed) + " failed" : ""));
  if (server.exit != null) facts.push(String(server.exit));
  return el("li", { class: "ov-mcp", "data-mcp-server": String(server.server) },
    "MCP server ", el("code", {}, String(server.server)),
    server.server_name != null ? [" ", el("span", { class: "ov-agent-id" }, String(server.server_name) + (server.server_version != null ? " " + String(server.server_version) : ""))] : null,
    el("br", {}), el("span", { class: "ov-agent-facts" }, facts.join(" · ")));
}

// The calls joined to the model's tool calls, by the model's call id.
function mcpByCallId() {
  const insight = runInsight();
  if (mcpByCallId.insight !== insight) {
    mcpByCallId.insight = insight;
    mcpByCallId.found = new Map(mcpCalls(insight).filter((call) => call.call_id != null).map((call) => [String(call.call_id), call]));
  }
  return mcpByCallId.found;
}

// Beside a model's tool call: the MCP call it caused, "MCP server fs · tools/call read_file · server 12 ms of the
// agent's 448 ms wait · result sent: changed".
function mcpBeside(callId) {
  const call = callId == null ? undefined : mcpByCallId().get(String(callId));
  if (!call) return null;
  const said = [" · server " + mcpSeconds(call.server_seconds)];
  if (isNumber(call.agent_wait_seconds)) said.push(" of the agent's " + mcpSeconds(call.agent_wait_seconds) + " wait");
  if (call.result_sent != null) said.push(" · result sent: " + String(call.result_sent));
  if (call.error != null) said.push(" · error: " + String(call.error));
  return el("div", { class: "mcp-call" + (call.is_error === true ? " bad" : "") },
    "MCP server ", el("code", {}, String(call.server)), " · ", el("code", {}, String(call.method) + (call.tool != null ? " " + String(call.tool) : "")), said);
}

// The timeline's lane key for a server: never an agent's id (those are strings of the wire; this starts with NUL).
function mcpLaneKey(server) {
  return "\u0000mcp " + String(server);
}

// Each MCP server's lane (after the agents') and each call as an interval on it, numbered after `lastId`.
function mcpTimeline(insight, lastId) {
  const calls = mcpCalls(insight);
  const names = [...new Set(mcpServers(insight).map((server) => String(server.server)).concat(calls.map((call) => String(call.server))))];
  const lanes = names.filter((name) => calls.some((call) => String(call.server) === name))
    .map((name) => ({ agent: mcpLaneKey(name), name: "MCP server " + name, depth: 0 }));
  const spans = calls.map((call, index) => mcpSpan(call, lastId + index + 1)).filter(Boolean);
  return { lanes, spans };
}

function mcpSpan(call, id) {
  if (!isNumber(call.start) || !Number.isFinite(call.start)) return null;
  const end = isNumber(call.end) && Number.isFinite(call.end) ? Math.max(call.start, call.end) : call.start;
  return {
    id, agent: mcpLaneKey(call.server), kind: "mcp", start: call.start, end, firstByte: null,
    name: String(call.method) + (call.tool != null ? " " + String(call.tool) : ""),
    exchanges: [call.asked_in, call.answered_in].filter(isNumber),
    tokens: null, cost: null, cacheBreak: false, compaction: false, open: !isNumber(call.end), critical: false,
    mcp: call,
  };
}

// What the readout says of an MCP call besides its times.
function mcpFigures(call) {
  const parts = ["server " + String(call.server)];
  if (isNumber(call.agent_wait_seconds)) parts.push("the agent's wait " + mcpSeconds(call.agent_wait_seconds));
  if (call.model_tool != null) parts.push("the model's " + String(call.model_tool) + (call.call_id != null ? " " + String(call.call_id) : ""));
  if (call.result_sent != null) parts.push("result sent: " + String(call.result_sent));
  if (call.error != null) parts.push("error: " + String(call.error));
  return parts;
}
