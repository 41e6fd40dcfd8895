// One turn: its facts and sections.

// The turn's sections, in the order shown: [title, builder, open at first]. Each is collapsible and has a jump
// link at the top of the turn, so that the output is one click away however long the instructions are.
const SECTIONS = [
  ["Instructions", (index) => systemSection(index), true],
  ["Tools", (index) => toolsSection(index), true],
  ["Input", (index) => inputSection(TURNS[index]), true],
  ["Output", (index) => outputSection(TURNS[index]), true],
  ["Usage", (index) => usageSection(TURNS[index]), true],
  ["Config", (index) => configSection(TURNS[index]), true],
  ["Headers", (index) => headersSection(index), true],
  ["Raw", (index) => rawSection(TURNS[index]), true],
];

function renderTurn(index) {
  const turn = TURNS[index];
  const view = document.getElementById("turn");
  view.replaceChildren();
  const heading =
    turn.kind === "websocket"
      ? ["#" + turn.n + " WebSocket " + turn.method + " ", searchable("span", "path", turn.path), " (" + turn.proxy + ")"]
      : ["#" + turn.n + " " + turn.method + " ", searchable("span", "path", turn.path), " → " + (turn.status == null ? "no response" : turn.status) + " (" + turn.proxy + ")"];
  const sections = SECTIONS.map(([title, build, open]) => section(turn, title, build(index), open)).filter(Boolean);
  append(view, [el("h2", { id: "turn-" + turn.n, tabindex: "-1" }, heading), jumpBar(turn, sections), copyBar(index), factsOf(turn), sections]);
}

function sectionId(turn, title) {
  return "turn-" + turn.n + "-" + title.toLowerCase();
}

function section(turn, title, body, open) {
  if (!body) return null;
  const summary = el("summary", {}, el("h3", {}, title));
  return el("section", { class: "part", id: sectionId(turn, title), "data-section": title.toLowerCase() }, el("details", { open: open }, summary, body));
}

// Buttons, not links: the address names the turn, and a jump inside it is not a place to go Back to.
function jumpBar(turn, sections) {
  return el(
    "nav",
    { class: "jump", "aria-label": "Parts of turn #" + turn.n },
    sections.map((node) => {
      const title = node.querySelector("h3").textContent;
      const button = el("button", { type: "button", "aria-controls": node.id }, title);
      button.addEventListener("click", () => {
        node.querySelector("details").open = true;
        node.scrollIntoView({ block: "start" });
        node.querySelector("summary").focus({ preventScroll: true });
      });
      return button;
    })
  );
}

// The facts of a turn that are text; factsOf shows each as searchable, and the search counts in them.
function factList(turn) {
  const facts = [];
  facts.push(["API", turn.api + (turn.provider ? " (" + turn.provider + ")" : "")]);
  if (turn.model != null) facts.push(["model", String(turn.model)]);
  facts.push(["URL", String(turn.url)]);
  if (!turn.complete) facts.push(["state", "cut off: " + (turn.error || "ended before its final event")]);
  else if (turn.error) facts.push(["state", "complete (the connection then ended: " + turn.error + ")"]);
  else facts.push(["state", "complete"]);
  facts.push(["time to first byte", ms(timing(turn).ttfb_ms)], ["duration", ms(timing(turn).duration_ms)]);
  if (turn.kind === "websocket") facts.push(["frames", number(turn.frames)]);
  facts.push(["bytes", number(turn.request_bytes) + " sent, " + number(turn.response_bytes) + " received"]);
  if (turn.stop_reason != null) facts.push(["stop reason", String(turn.stop_reason)]);
  if (turn.response_id != null) facts.push(["response id", String(turn.response_id)]);
  // The answer's own fields that have no place of their own (a model snapshot, created_at, service_tier…).
  for (const [key, value] of Object.entries(turn.response_metadata || {}))
    facts.push(["response " + key, typeof value === "string" ? value : JSON.stringify(value)]);
  if (turn.previous_response_id != null) facts.push(["previous response id", String(turn.previous_response_id)]);
  const events = Object.entries(turn.events);
  if (events.length) facts.push(["events", events.map(([name, count]) => name + " ×" + count).join(", ")]);
  if (turn.unrecognised.length) facts.push(["unrecognised", turn.unrecognised.join(", ")]);
  const insight = turn.insight || {};
  if (insight.agent != null) {
    const name = agentName(insight.agent);
    facts.push(["agent", name === String(insight.agent) ? name : name + " (id " + String(insight.agent) + ")"]);
  }
  if (insight.cache && insight.cache.hit_rate != null) {
    let cache = (100 * insight.cache.hit_rate).toFixed(1) + "% of " + number(insight.cache.input) + " input tokens read from the cache";
    if (insight.cache.cause) cache += "; cache break: " + insight.cache.cause.text;
    facts.push(["prompt cache", cache]);
  }
  const lifetime = lifetimeWords(insight.cache);
  if (lifetime) facts.push(["cache lifetime", lifetime]);
  facts.push(...windowFacts(turn));
  return facts;
}

function factsOf(turn) {
  const list = el("dl", { class: "facts" });
  for (const [label, value] of factList(turn))
    append(list, [el("dt", {}, label), el("dd", {}, searchable("span", label === "state" && !turn.complete ? "bad" : "", value))]);
  if (turn.errors.length)
    append(list, [el("dt", {}, "errors"), el("dd", { class: "bad" }, turn.errors.map((error) => searchable("pre", "", keptText(error))))]);
  if (turn.unknown.length)
    append(list, [el("dt", {}, "not understood"), el("dd", {}, turn.unknown.map((entry) => details(String(entry.where), () => el("pre", {}, keptText(entry.raw)))))]);
  return list;
}
