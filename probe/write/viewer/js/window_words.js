// The context window and the prompt cache's lifetime in words, as the charts' readout and a turn's facts say them,
// from the turn's record of insight.jsonl (its `window`, `share` and `cache`).

// A turn's window: {tokens, source, effective, note}, or null for a turn with none (a page older than the windows).
function windowOf(turn) {
  const limit = (turn.insight || {}).window;
  return limit && typeof limit === "object" ? limit : null;
}

function windowTokens(turn) {
  const limit = windowOf(turn);
  return limit && count(limit.tokens) ? limit.tokens : null;
}

// "41.0%": a share (input / window, to four places) as a percentage, as the readout and the facts give it.
function sharePercent(share) {
  return (100 * share).toFixed(1) + "%";
}

// "window: 41.0% of 200,000 (genai-prices 0.2.3)", or "window unknown": never a default window.
function shareWords(turn) {
  const limit = windowOf(turn);
  const share = (turn.insight || {}).share;
  if (!limit || !count(limit.tokens)) return "window unknown";
  const of = number(limit.tokens) + " (" + String(limit.source) + ")";
  return "window: " + (isNumber(share) ? sharePercent(share) + " of " + of : of + ", input not reported");
}

// The facts of a turn's window: [label, text] pairs for turn_view's factList.
function windowFacts(turn) {
  const limit = windowOf(turn);
  if (!limit) return [];
  if (!count(limit.tokens)) return [["context window", "window unknown" + (limit.note ? ": " + String(limit.note) : "")]];
  let said = number(limit.tokens) + " tokens (" + String(limit.source) + ")";
  if (count(limit.effective)) said += ", of which the agent lets a conversation fill " + number(limit.effective);
  if (limit.note) said += "; " + String(limit.note);
  const facts = [["context window", said]];
  const input = tokens(turn).input;
  const share = (turn.insight || {}).share;
  if (isNumber(share)) {
    let filled = sharePercent(share) + " (" + number(input) + " of " + number(limit.tokens) + " tokens)";
    if (count(limit.effective) && input !== null) filled += ", " + sharePercent(input / limit.effective) + " of the effective limit";
    facts.push(["share of the window", filled]);
  }
  return facts;
}

// "6 min 12 s since #2, past the cache's 5 min lifetime: lapsed (Anthropic's default, …)": how long the prefix had
// waited since it was last written or read, against the lifetime its provider documents.
function lifetimeWords(cache) {
  if (!cache || !isNumber(cache.since_s)) return null;
  const since = lifespan(cache.since_s) + " since #" + String(cache.compared_with) + " used the prefix";
  const source = " (" + String(cache.lifetime_source) + ")";
  if (!count(cache.lifetime_s)) return since + "; its lifetime is unknown" + source;
  const lifetime = lifespan(cache.lifetime_s);
  if (cache.lapsed) return since + ", past the cache's " + lifetime + " lifetime: lapsed" + source;
  return since + ", within the cache's " + lifetime + " lifetime" + source;
}

// 40 s, 5 min, 6 min 12 s, 1 h, 24 h: a lifetime or a wait, in the units the providers' documents use.
function lifespan(value) {
  if (value < 60) return Number.isInteger(value) ? value + " s" : seconds(value);
  const whole = Math.round(value);
  const [hours, minutes, rest] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const parts = [[hours, " h"], [minutes, " min"], [rest, " s"]].filter(([amount]) => amount > 0);
  return parts.map(([amount, unit]) => amount + unit).join(" ");
}
