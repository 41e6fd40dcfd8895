// The overview's cost card: the run's total, by model and by agent, the turns without a price and why, and where
// the prices came from (header.insight.run.cost and each agent's cost, as insight.jsonl has them).

// A sum of money that may leave turns out: "unknown" when it priced none (never $0), else the sum and what it leaves out.
function spentText(spend) {
  if (!spend || typeof spend !== "object") return "—";
  const priced = count(spend.priced_turns) || 0;
  const unknown = count(spend.unknown_turns) || 0;
  if (!priced || !isNumber(spend.usd)) return unknown ? "unknown" : "—";
  return dollars(spend.usd) + (unknown ? " (+" + number(unknown) + " unknown)" : "");
}

function costTotal(cost) {
  const priced = count(cost.priced_turns) || 0;
  const unknown = count(cost.unknown_turns) || 0;
  if (priced && isNumber(cost.usd)) {
    return el(
      "p",
      { class: "ov-total" },
      el("strong", { class: "ov-usd" }, dollars(cost.usd)),
      " for " + number(priced) + " turn" + plural(priced),
      unknown ? el("span", { class: "bad" }, "; " + number(unknown) + " more left out: price unknown") : ", every turn priced"
    );
  }
  return el(
    "p",
    { class: "ov-total" },
    el("strong", { class: "ov-usd bad" }, "unknown"),
    ": none of the " + number(unknown) + " turn" + plural(unknown) + " with usage has a known price"
  );
}

// Server-tool uses by tool ({web_search: 3}) as the report says them: "3 web searches and 2 web fetches".
function usesText(uses) {
  const said = Object.entries(uses)
    .filter(([, times]) => count(times))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([tool, times]) => {
      const name = String(tool).replace(/_/g, " ");
      const plain = count(times) === 1 ? name : name + (/(ch|sh|s|x)$/.test(name) ? "es" : "s");
      return number(times) + " " + plain;
    });
  return said.length < 3 ? said.join(" and ") : said.slice(0, -1).join(", ") + " and " + said[said.length - 1];
}

// What the total holds beyond tokens (server tools the API ran, billed by use), and the uses no price covers.
function toolFees(cost) {
  const priced = cost.tool_uses_priced && typeof cost.tool_uses_priced === "object" ? cost.tool_uses_priced : {};
  const left = cost.tool_uses_left_out && typeof cost.tool_uses_left_out === "object" ? cost.tool_uses_left_out : {};
  const lines = [];
  if (isNumber(cost.fees_usd) && (cost.fees_usd > 0 || usesText(priced))) {
    const what = usesText(priced) ? " for " + usesText(priced) : " per request";
    lines.push(el("p", { class: "ov-fees" }, "Of that, " + dollars(cost.fees_usd) + " is fees beyond the tokens" + what + "."));
  }
  if (usesText(left)) {
    lines.push(el("p", { class: "ov-fees bad" }, "The cost leaves out " + usesText(left) + ": server tools the API ran, which the prices have no price for."));
  }
  return lines;
}

function unknownReasons(cost) {
  const reasons = Object.entries(cost.unknown && typeof cost.unknown === "object" ? cost.unknown : {});
  if (!reasons.length) return null;
  return el(
    "ul",
    { class: "ov-unknown" },
    reasons.map(([reason, turns]) => el("li", {}, "unknown: " + reason + " (" + number(turns) + " turn" + plural(turns) + " left out)"))
  );
}

function byModel(cost) {
  const models = Object.entries(cost.by_model && typeof cost.by_model === "object" ? cost.by_model : {});
  models.sort(([a, one], [b, other]) => (other.usd || -1) - (one.usd || -1) || (a < b ? -1 : a > b ? 1 : 0));
  return table(
    ["model", "turns priced", "turns unknown", "cost"],
    models.map(([model, spend]) => [model, number(spend.priced_turns), number(spend.unknown_turns), spentText(spend)]),
    "ov-table ov-by-model"
  );
}

function byAgent(agents) {
  return table(
    ["agent", "cost"],
    agents.map((agent) => [String(agent.name), spentText(agent.cost)]),
    "ov-table ov-by-agent"
  );
}

function provenance(cost) {
  const sources = Object.entries(cost.sources && typeof cost.sources === "object" ? cost.sources : {});
  const counted = sources.map(([source, turns]) => source + " priced " + number(turns) + " turn" + plural(turns));
  return el("p", { class: "ov-note ov-prices" }, "Prices: " + String(cost.prices) + (counted.length ? " (" + counted.join(", ") + ")" : "") + "; in US dollars, each API's own counting followed.");
}

function costCard(insight) {
  const card = el("section", { class: "ov-card ov-cost", "aria-label": "Cost" }, el("h3", {}, "Cost"));
  const cost = (insight.run || {}).cost;
  if (!cost || (!count(cost.priced_turns) && !count(cost.unknown_turns))) {
    return append(card, [el("p", { class: "quiet" }, "No turn reported usage to price.")]);
  }
  const agents = Array.isArray(insight.agents) ? insight.agents : [];
  return append(card, [
    costTotal(cost),
    keptOnly()
      ? el("p", { class: "ov-scope" }, "The whole run's, all " + number(DATA.header.run_turns) + " turns; the headline's cost is the " + number(TURNS.length) + " this page holds.")
      : null,
    ...toolFees(cost),
    unknownReasons(cost),
    byModel(cost),
    agents.length > 1 ? byAgent(agents) : null,
    provenance(cost),
  ]);
}
