// What a sidebar row says about a turn: the tools its output asks for, a line of preview, its agent and its marks.

const ROW_FACTS = []; // by turn index, filled as the rows and the filters ask
let AGENT_NAMES = null; // agent id -> the one readable name every view gives it (header.insight.agents), or null

// The agent's readable name, as report.md and insight.jsonl give it: its id where the header names no such agent
// (a live page before its run's end, or a report from an older agent-probe).
function agentName(id) {
  if (id == null) return null;
  if (!AGENT_NAMES) {
    const insight = DATA.header && DATA.header.insight && typeof DATA.header.insight === "object" ? DATA.header.insight : {};
    const agents = (Array.isArray(insight.agents) ? insight.agents : []).filter((agent) => agent && typeof agent === "object");
    AGENT_NAMES = new Map(agents.map((agent) => [String(agent.id), agent.name == null ? String(agent.id) : String(agent.name)]));
  }
  return AGENT_NAMES.get(String(id)) ?? String(id);
}

on("header", () => {
  AGENT_NAMES = null;
  if (manyAgents) forgetRows(); // drawn again, with the names the new header gives
  fillChoices();
});

function rowFacts(index) {
  if (!ROW_FACTS[index]) ROW_FACTS[index] = factsForRow(TURNS[index]);
  return ROW_FACTS[index];
}

function factsForRow(turn) {
  const insight = turn.insight || {};
  return {
    calls: partsOf(turn.output, "tool_call").map((part) => String(part.name)),
    agent: insight.agent == null ? null : String(insight.agent),
    model: turn.model == null ? null : String(turn.model),
    trouble: problem(turn),
    toolFailed: partsOf(newInput(turn), "tool_result").some((part) => part.is_error === true),
  };
}

function partsOf(refs, kind) {
  const found = [];
  for (const ref of refs) for (const part of VALUES[ref].parts || []) if (part && part.kind === kind) found.push(part);
  return found;
}

// The output's first text, else the newest text the request sent (named by its role), else the first error: what
// the turn is about.
function previewOf(turn) {
  const answer = partsOf(turn.output, "text").find((part) => oneLine(part.text));
  if (answer) return oneLine(answer.text);
  for (let at = turn.input.length - 1; at >= 0; at--) {
    const item = VALUES[turn.input[at]];
    const said = partsOf([turn.input[at]], "text").find((part) => oneLine(part.text));
    if (said) return (item.role == null ? "" : String(item.role) + ": ") + oneLine(said.text);
  }
  return turn.errors.length ? oneLine(keptText(turn.errors[0])) : "";
}

// A row holds one line: the CSS cuts it to the row's width, so only what could show is kept.
function oneLine(text) {
  return text == null ? "" : String(text).slice(0, 400).replace(/\s+/g, " ").trim().slice(0, 200);
}

// "POST /v1/responses → 200 (model)": what the row's title and its selected form show whole.
function whereOf(turn) {
  const status = turn.status == null ? "no response" : String(turn.status);
  const method = turn.kind === "websocket" ? "WebSocket " + turn.method : turn.method;
  return method + " " + turn.path + " → " + status + " (" + turn.proxy + ")";
}

// The tools asked for, each once with how many times: "exec ×2, read".
function callsLabel(calls) {
  const counts = new Map();
  for (const name of calls) counts.set(name, (counts.get(name) || 0) + 1);
  return [...counts].map(([name, times]) => (times > 1 ? name + " ×" + times : name)).join(", ");
}

// The tail of the path when the output asked for no tool: what the exchange was (a model's method, an endpoint).
function pathTail(turn) {
  const path = String(turn.path).split("?")[0];
  const tail = path.split("/").filter(Boolean).pop() || path;
  return (turn.kind === "websocket" ? "WS" : turn.method) + " " + tail;
}

function tokensLabel(turn) {
  const used = tokens(turn);
  if (used.input == null && used.output == null) return null;
  return {
    text: number(used.input) + " in · " + number(used.output) + " out",
    title: "input " + number(used.input) + " (cache read " + number(used.cached) + ", cache write " + number(used.written) + ") · output " + number(used.output),
  };
}

// The marks a row carries: the exchange failed, was cut off, or brought back a failed tool result.
function marksOf(index) {
  const turn = TURNS[index];
  const facts = rowFacts(index);
  const marks = [];
  if (facts.trouble === "error") {
    const first = turn.errors.length ? oneLine(keptText(turn.errors[0])) : "";
    const label = isNumber(turn.status) && turn.status >= 400 ? "error " + turn.status : "error";
    marks.push({ kind: "error", text: label, title: first || "status " + turn.status });
  } else if (facts.trouble === "incomplete") {
    marks.push({ kind: "incomplete", text: "cut off", title: "cut off: " + (turn.error || "ended before its final event") });
  }
  if (facts.toolFailed) marks.push({ kind: "tool-error", text: "tool error", title: "a tool result this request sent is flagged as failed" });
  return marks;
}
