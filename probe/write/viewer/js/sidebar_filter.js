// The sidebar's filter bar: which turns the list shows, from choices the data offers and the search's matches.

// What is chosen: "" for any. A tool is "t:" + its name, or "-" for turns that ask for none.
const FILTER = { tool: "", agent: "", model: "", status: "", errors: false, matched: null };
let SHOWN = []; // the turns the list shows: indexes into TURNS, ascending

const STATUSES = [
  ["ok", "ok", (facts) => !facts.trouble],
  ["error", "error", (facts) => facts.trouble === "error"],
  ["cut", "cut off", (facts) => facts.trouble === "incomplete"],
];

const CHOOSERS = {}; // the bar's controls, by what they choose

// The bar's controls, with the count of turns shown, to go above the list.
function buildFilters() {
  const chooser = (key, label) => {
    const select = el("select", { "aria-label": label, "data-filter": key });
    select.addEventListener("change", () => {
      FILTER[key] = select.value;
      refilter();
    });
    return (CHOOSERS[key] = select);
  };
  const errors = (CHOOSERS.errors = el("input", { type: "checkbox", "data-filter": "errors" }));
  errors.addEventListener("change", () => {
    FILTER.errors = errors.checked;
    refilter();
  });
  const clear = (CHOOSERS.clear = el("button", { type: "button", class: "clear", hidden: true }, "Clear"));
  clear.addEventListener("click", clearFilters);
  on("matched", (found) => {
    FILTER.matched = found;
    refilter();
  });
  on("added", () => {
    fillChoices();
    refilter();
  });
  return [
    el(
      "div",
      { class: "filters", role: "group", "aria-label": "Filter the turns" },
      chooser("tool", "Tool called"),
      chooser("status", "Status"),
      chooser("model", "Model"),
      chooser("agent", "Agent"),
      el("label", { class: "errors", title: "the exchange failed or was cut off, or a tool result it sent failed" }, errors, " errors only"),
      clear,
      el("span", { id: "turn-count", "aria-live": "polite" })
    ),
  ];
}

// Each control's choices, with how many turns each holds; a control with nothing to tell apart is hidden.
function fillChoices() {
  const tools = new Map();
  const agents = new Map();
  const models = new Map();
  const statuses = new Map();
  let noCall = 0;
  const add = (counts, key) => counts.set(key, (counts.get(key) || 0) + 1);
  TURNS.forEach((turn, index) => {
    const facts = rowFacts(index);
    for (const name of new Set(facts.calls)) add(tools, name);
    if (!facts.calls.length) noCall++;
    if (facts.agent != null) add(agents, facts.agent);
    add(models, facts.model == null ? "" : facts.model);
    for (const [key, , holds] of STATUSES) if (holds(facts)) add(statuses, key);
  });
  const byName = (counts, prefix) => [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, n]) => [prefix + name, name || "(none)", n]);
  fill("tool", "All tools", byName(tools, "t:").concat(noCall ? [["-", "(no tool call)", noCall]] : []), tools.size);
  fill("status", "All statuses", STATUSES.map(([key, label]) => [key, label, statuses.get(key) || 0]), statuses.size - 1);
  fill("model", "All models", byName(models, "m:"), models.size - 1);
  // An agent is chosen by its id and shown by its name (two agents never share one: "list files (2)").
  const agentChoices = [...agents].map(([id, n]) => ["a:" + id, agentName(id), n]).sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  fill("agent", "All agents", agentChoices, agents.size - 1);
  if ((agents.size > 1) !== manyAgents) {
    manyAgents = agents.size > 1;
    forgetRows(); // drawn again, naming their agents
  }
}

function fill(key, any, choices, shows) {
  const select = CHOOSERS[key];
  const chosen = FILTER[key];
  select.replaceChildren();
  append(select, [el("option", { value: "" }, any), choices.map(([value, label, n]) => el("option", { value }, label + " (" + number(n) + ")"))]);
  // A choice the data no longer offers is kept (a live page's filter stays as it was set).
  if (chosen && !choices.some(([value]) => value === chosen)) append(select, [el("option", { value: chosen }, (key === "agent" ? agentName(chosen.slice(2)) : chosen.slice(2)) + " (0)")]);
  select.value = chosen;
  select.hidden = shows < 1 && !chosen;
}

function passes(index) {
  const facts = rowFacts(index);
  if (FILTER.matched && !FILTER.matched.has(index)) return false;
  if (FILTER.tool === "-" ? facts.calls.length : FILTER.tool && !facts.calls.includes(FILTER.tool.slice(2))) return false;
  if (FILTER.agent && facts.agent !== FILTER.agent.slice(2)) return false;
  if (FILTER.model && (facts.model == null ? "" : facts.model) !== FILTER.model.slice(2)) return false;
  if (FILTER.status && !STATUSES.find(([key]) => key === FILTER.status)[2](facts)) return false;
  if (FILTER.errors && !facts.trouble && !facts.toolFailed) return false;
  return true;
}

function refilter() {
  SHOWN = [];
  for (let index = 0; index < TURNS.length; index++) if (passes(index)) SHOWN.push(index);
  CHOOSERS.clear.hidden = !(FILTER.tool || FILTER.agent || FILTER.model || FILTER.status || FILTER.errors);
  countShown();
  redrawList();
}

// "12 of 200 turns", and whether the selected turn is among them.
function countShown() {
  const hidden = current >= 0 && !passes(current) ? " · #" + TURNS[current].n + " is filtered out" : "";
  const text = number(SHOWN.length) + " of " + number(TURNS.length) + " turn" + plural(TURNS.length) + hidden;
  const count = document.getElementById("turn-count");
  if (count.textContent !== text) count.textContent = text; // a live region: said again only when it changes
}

function clearFilters() {
  Object.assign(FILTER, { tool: "", agent: "", model: "", status: "" });
  FILTER.errors = CHOOSERS.errors.checked = false;
  for (const key of ["tool", "agent", "model", "status"]) CHOOSERS[key].value = "";
  refilter();
}
