// The overview's agent tree: each agent under the one that spawned it, with its requests, tokens, cost and how full
// its context window came to be, and the turn whose tool call spawned it (header.insight.agents).

// Each agent's children, and the agents at the top: those whose parent is not among the agents.
function agentTree(agents) {
  const byId = new Map(agents.map((agent) => [agent.id, agent]));
  const kidsOf = (agent) => (Array.isArray(agent.children) ? agent.children : []).filter((id) => byId.has(id));
  return {
    roots: agents.filter((agent) => agent.parent == null || !byId.has(agent.parent)),
    children: new Map(agents.map((agent) => [agent.id, kidsOf(agent).map((id) => byId.get(id))])),
  };
}

function agentFacts(agent) {
  const used = agent.tokens && typeof agent.tokens === "object" ? agent.tokens : {};
  const requests = count(agent.requests) || 0;
  const facts = [number(requests) + " request" + plural(requests)];
  if (isNumber(agent.first_request)) facts.push([" from ", turnLink(agent.first_request)]);
  facts.push(" · input " + number(count(used.input)) + " · cache read " + number(count(used.cache_read)));
  facts.push(" · output " + number(count(used.output)) + " · cost " + spentText(agent.cost));
  facts.push(agentWindow(agent.window));
  const spawn = agent.spawned_by;
  if (spawn && typeof spawn === "object" && isNumber(spawn.turn)) {
    facts.push([" · spawned in ", turnLink(spawn.turn), " by ", el("code", {}, String(spawn.tool))]);
  }
  return el("span", { class: "ov-agent-facts" }, facts);
}

// How full its context came to be against its main model's window (its `window` in insight.jsonl): "window 40,000
// (prices.yaml), peak 33.7% at #6, last 33.7%"; nothing for an agent none of whose turns reported its input.
function agentWindow(limit) {
  if (!limit || typeof limit !== "object") return null;
  if (!count(limit.tokens)) return " · window unknown";
  const said = [" · window " + number(limit.tokens) + " (" + String(limit.source) + ")"];
  if (Array.isArray(limit.by_model) && limit.by_model.length > 1) said.push(" on its main model, " + String(limit.model));
  if (isNumber(limit.peak_share)) said.push(", peak " + sharePercent(limit.peak_share), isNumber(limit.peak_turn) ? [" at ", turnLink(limit.peak_turn)] : null);
  if (isNumber(limit.last_share)) said.push(", last " + sharePercent(limit.last_share));
  return said;
}

function agentItem(agent, tree, shown) {
  shown.add(agent.id);
  const depth = count(agent.depth) || 0;
  const item = el(
    "li",
    { "data-agent": String(agent.id), "data-depth": depth },
    el("strong", { class: "ov-agent-name" }, String(agent.name)),
    // The wire's own id, and the path its requests give it (codex's /root/list_files), as details beside the name.
    String(agent.name) !== String(agent.id) ? [" ", el("code", { class: "ov-agent-id", title: "id " + String(agent.id) }, String(agent.id))] : null,
    agent.path != null ? [" ", el("code", { class: "ov-agent-id", title: "path " + String(agent.path) }, String(agent.path))] : null,
    el("br", {}),
    agentFacts(agent)
  );
  const kids = (tree.children.get(agent.id) || []).filter((kid) => !shown.has(kid.id));
  if (kids.length) item.appendChild(el("ul", {}, kids.map((kid) => agentItem(kid, tree, shown))));
  return item;
}

function agentsCard(insight) {
  const agents = (Array.isArray(insight.agents) ? insight.agents : []).filter((agent) => agent && typeof agent === "object");
  const spawned = agents.filter((agent) => agent.parent != null).length;
  const card = el("section", { class: "ov-card ov-agents", "aria-label": "Agents" }, el("h3", {}, "Agents (" + agents.length + ")"));
  if (!agents.length) return append(card, [el("p", { class: "quiet" }, "No request was made.")]);
  // An agent whose parents form a loop (hostile headers) is listed at the top level, never twice and never lost.
  const tree = agentTree(agents);
  const shown = new Set();
  const list = el("ul", { class: "ov-tree" });
  for (const agent of [...tree.roots, ...agents]) if (!shown.has(agent.id)) list.appendChild(agentItem(agent, tree, shown));
  // The MCP servers, under the main agent that started them (its sub-agents call them through it).
  const servers = mcpServers(insight);
  if (servers.length && list.firstChild) {
    const calls = mcpCalls(insight);
    list.firstChild.appendChild(el("ul", { class: "ov-mcp-servers", "aria-label": "MCP servers" }, servers.map((server) => mcpServerItem(server, calls))));
  }
  return append(card, [
    el("p", { class: "ov-note" }, spawned ? number(spawned) + " sub-agent" + plural(spawned) + ", told apart by the ids their requests send; each under the agent whose tool call spawned it." : "One agent made every request: no request named a sub-agent."),
    list,
  ]);
}
