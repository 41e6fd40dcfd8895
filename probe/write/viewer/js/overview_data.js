// The overview's numbers per turn, as arrays built in one pass over TURNS (what the charts draw and the readout reads).

// What filled the context, bottom of the stack first: each with the CSS variable of its colour (--ov-<key>).
const CONTEXT_GROUPS = [
  ["instructions", "instructions"], ["tool definitions", "tools"], ["instructions in the history", "history-instructions"],
  ["user text", "user"], ["assistant text", "assistant"], ["reasoning", "reasoning"], ["tool calls", "tool-calls"],
  ["tool results", "tool-results"], ["images and files", "files"], ["other", "other"], ["kept by the server", "server"],
  ["not attributed", "unattributed"],
  ["input not split", "unsplit"], // a turn that reported input but spent nothing: there is no split
].map(([name, key]) => ({ name, key }));
const GROUP_AT = new Map(CONTEXT_GROUPS.map((group, at) => [group.name, at]));
const UNSPLIT = GROUP_AT.get("input not split");

// A part of a turn's context (turn.insight.context.categories) to its group: instruction blocks, tools, and the
// history by kind ("tool results: <tool>" are one group whatever the tool).
function groupOf(category) {
  if (category.kind === "instructions") return GROUP_AT.get("instructions");
  if (category.kind === "tools") return GROUP_AT.get("tool definitions");
  const name = String(category.name);
  if (name.startsWith("tool results")) return GROUP_AT.get("tool results");
  return GROUP_AT.has(name) ? GROUP_AT.get(name) : GROUP_AT.get("other");
}

function insightOf(turn) {
  return turn.insight && typeof turn.insight === "object" ? turn.insight : {};
}

// Whether the turn spent its tokens on an answer: insight.jsonl gives such a turn its cache, cost and context
// records, and none to a token count or a failed request, whose usage report.md's sums leave out too.
function spentTokens(turn) {
  const insight = insightOf(turn);
  return insight.cost != null || insight.cache != null || insight.context != null;
}

const NONE_SPENT = { input: null, output: null, cached: null, written: null, reasoning: null };

// Per turn (index into TURNS): the turn's number, its context by group (null: not split), the five token counts
// (null: not reported, or not spent), the cache hit rate and its break. `groups` are the indexes of CONTEXT_GROUPS any turn has;
// `windows` each agent's context window (overview_window.js).
function overviewNumbers() {
  const size = TURNS.length;
  const numbers = {
    turn: new Array(size),
    context: CONTEXT_GROUPS.map(() => new Array(size).fill(null)),
    input: new Array(size),
    cacheRead: new Array(size),
    cacheWrite: new Array(size),
    output: new Array(size),
    reasoning: new Array(size),
    hitRate: new Array(size),
    breaks: new Array(size).fill(null),
    encodings: new Set(),
    groups: [],
  };
  const present = new Set();
  TURNS.forEach((turn, index) => {
    const used = spentTokens(turn) ? tokens(turn) : NONE_SPENT;
    numbers.turn[index] = turn.n;
    numbers.input[index] = used.input;
    numbers.cacheRead[index] = used.cached;
    numbers.cacheWrite[index] = used.written;
    numbers.output[index] = used.output;
    numbers.reasoning[index] = used.reasoning;
    const insight = insightOf(turn);
    const cache = insight.cache || {};
    numbers.hitRate[index] = isNumber(cache.hit_rate) ? 100 * cache.hit_rate : null;
    if (cache.cause && numbers.hitRate[index] !== null) numbers.breaks[index] = numbers.hitRate[index];
    const context = insight.context;
    if (!context || !Array.isArray(context.categories)) {
      if (used.input !== null) {
        for (const series of numbers.context) series[index] = 0;
        numbers.context[UNSPLIT][index] = used.input;
        if (used.input) present.add(UNSPLIT);
      }
      return;
    }
    if (context.encoding != null) numbers.encodings.add(String(context.encoding));
    for (const series of numbers.context) series[index] = 0;
    for (const category of context.categories) {
      const counted = count(category.tokens);
      if (counted === null) continue;
      const at = groupOf(category);
      numbers.context[at][index] += counted;
      if (counted) present.add(at);
    }
  });
  numbers.groups = [...present].sort((a, b) => a - b);
  numbers.windows = windowLines();
  return numbers;
}

// Stacked from the bottom: each group's top, for bars drawn tallest first, each over the one before.
function stackedTops(numbers) {
  const tops = [];
  let below = null;
  for (const at of numbers.groups) {
    const own = numbers.context[at];
    const top = own.map((value, index) => (value === null ? null : value + (below ? below[index] : 0)));
    tops.push(top);
    below = top;
  }
  return tops;
}

function percent(value) {
  return isNumber(value) ? value.toFixed(1) + "%" : "—";
}

// US dollars to the hundredth of a cent, as report.md writes them.
function dollars(value) {
  return "$" + value.toLocaleString("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 });
}

// One turn's numbers in words: what the readout shows and the live region reads.
function turnReadout(numbers, index) {
  const turn = TURNS[index];
  const parts = ["#" + turn.n];
  const agent = insightOf(turn).agent;
  if (agent != null && (runInsight().agents || []).length > 1) parts[0] += " (" + agentName(agent) + ")";
  if (!spentTokens(turn)) {
    const counted = tokens(turn).input;
    return parts[0] + ": no tokens spent" + (counted === null ? "" : " (input " + number(counted) + " reported: a token count or a failed request)");
  }
  const split = numbers.groups
    .filter((at) => numbers.context[at][index])
    .map((at) => CONTEXT_GROUPS[at].name + " " + number(numbers.context[at][index]));
  parts.push("input " + number(numbers.input[index]) + (split.length ? " (" + split.join(", ") + ")" : ""));
  parts.push("cache read " + number(numbers.cacheRead[index]), "cache write " + number(numbers.cacheWrite[index]));
  parts.push("hit rate " + percent(numbers.hitRate[index]));
  parts.push("output " + number(numbers.output[index]), "reasoning " + number(numbers.reasoning[index]));
  parts.push(shareWords(turn));
  const cost = insightOf(turn).cost;
  if (cost) parts.push("cost " + (isNumber(cost.usd) ? dollars(cost.usd) : "unknown"));
  const cause = (insightOf(turn).cache || {}).cause;
  if (cause) parts.push("cache break: " + String(cause.text));
  return parts.join(" · ");
}
