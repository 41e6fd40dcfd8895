// The overview the page opens on: the run's token totals, the charts, cost, prompt cache, tool calls and agents.

function runInsight() {
  return DATA.header.insight && typeof DATA.header.insight === "object" ? DATA.header.insight : {};
}

// The run's tokens by kind, summed over the turns that spent them and reported each, as report.md's Tokens line
// sums them: [kind, sum, turns that reported it].
function tokenTotals() {
  const kinds = [["input", NUMBERS.input], ["cache read", NUMBERS.cacheRead], ["cache write", NUMBERS.cacheWrite],
    ["output", NUMBERS.output], ["reasoning", NUMBERS.reasoning]];
  return kinds.map(([kind, values]) => {
    const reported = values.filter((value) => value !== null);
    return [kind, reported.reduce((total, value) => total + value, 0), reported.length];
  });
}

// A page that kept the first and last turns of a long run (DATA.header.run_turns, its count of turns, is set then):
// the headline's totals and cost are both over the turns it holds, and it says so; the cost card is the run's.
function keptOnly() {
  return isNumber(DATA.header.run_turns) && DATA.header.run_turns > TURNS.length;
}

// The cost of the turns the page holds, in the run record's shape: each turn's own cost, summed.
function keptCost() {
  const spend = { usd: 0, priced_turns: 0, unknown_turns: 0 };
  for (const turn of TURNS) {
    const cost = (turn.insight || {}).cost;
    if (cost && isNumber(cost.usd)) {
      spend.usd += cost.usd;
      spend.priced_turns++;
    } else if (cost && cost.unknown) spend.unknown_turns++;
  }
  return spend;
}

function headline() {
  const spent = TURNS.filter(spentTokens).length;
  const cost = keptOnly() ? keptCost() : (runInsight().run || {}).cost;
  const turns = keptOnly()
    ? number(TURNS.length) + " of the run's " + number(DATA.header.run_turns) + ", its first and last (" + number(spent) + " with usage): the totals and cost here are theirs"
    : number(TURNS.length) + " (" + number(spent) + " with usage)";
  const facts = [["turns", turns]];
  for (const [kind, sum, turns] of tokenTotals()) {
    facts.push([kind, !turns ? "not reported" : turns < spent ? number(sum) + " (" + turns + " of the " + spent + ")" : number(sum)]);
  }
  if (cost) facts.push(["cost", spentText(cost)]);
  return el(
    "dl",
    { class: "ov-headline" },
    facts.map(([label, text]) => el("div", { "data-fact": label }, el("dt", {}, label), el("dd", {}, text)))
  );
}

const overviewParts = {};

function fillCards() {
  const insight = runInsight();
  const { side, tools, head } = overviewParts;
  head.replaceChildren(headline());
  side.replaceChildren(costCard(insight), cacheCard(insight), agentsCard(insight));
  tools.replaceChildren(toolsCard(insight));
}

function buildOverview() {
  const box = document.getElementById("overview");
  NUMBERS = overviewNumbers();
  const parts = {
    head: el("div", {}),
    charts: el("div", {}),
    tools: el("div", {}),
    side: el("div", { class: "ov-side" }),
  };
  Object.assign(overviewParts, parts);
  append(box, [parts.head, el("div", { class: "ov-grid" }, el("div", { class: "ov-main" }, parts.charts, parts.tools), parts.side)]);
  if (hasUsage()) buildCharts(parts.charts);
  else append(parts.charts, [el("p", { class: "quiet ov-no-usage" }, "No exchange reported token usage.")]);
  fillCards();
  const back = viewButton("to-overview", "Back to the overview at the top", "Overview", (main) => {
    main.scrollTop = 0;
    box.focus({ preventScroll: true });
  });
  box.setAttribute("tabindex", "-1");
  document.querySelector("header.top h1").after(back);
}

// A live page: the charts take the new turns, and the cards are built again from each new header's records (a new
// header comes with every line the run adds, and once more when the run has ended).
on("added", () => {
  const { charts } = overviewParts;
  if (!charts) return;
  if (CHARTS.length) refreshCharts();
  else {
    NUMBERS = overviewNumbers();
    if (hasUsage()) {
      charts.replaceChildren();
      buildCharts(charts);
    }
  }
});
on("header", () => overviewParts.side && fillCards());
