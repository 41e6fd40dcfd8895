// The overview's prompt cache card: the share of the run's input read from the cache, and each cache break with
// its cause, linked to its turn and the turn it is compared with (header.insight.run.cache, turn.insight.cache).

function cacheBreaks() {
  const found = [];
  for (const turn of TURNS) {
    const cache = insightOf(turn).cache;
    if (cache && cache.cause) found.push({ turn, cache });
  }
  return found;
}

function cacheShare(run) {
  if (!run || !count(run.turns) || !count(run.input)) return el("p", { class: "quiet" }, "No turn reported cached tokens.");
  return el(
    "p",
    { class: "ov-total" },
    el("strong", {}, percent((run.cached / run.input) * 100)),
    " of " + number(run.input) + " input tokens read from the cache (" + number(run.cached) + " tokens, over " +
      number(run.turns) + " turn" + plural(run.turns) + " that reported cached tokens)"
  );
}

function breakItem({ turn, cache }) {
  const against = isNumber(cache.compared_with) ? [" against ", turnLink(cache.compared_with)] : [];
  return el(
    "li",
    { "data-turn": turn.n },
    turnLink(turn.n, "cache break at #" + turn.n),
    against,
    ": ",
    el("span", { class: "ov-cause" }, String(cache.cause.text)),
    " ",
    el("span", { class: "ov-tag" }, String(cache.cause.kind))
  );
}

function cacheCard(insight) {
  const breaks = cacheBreaks();
  return el(
    "section",
    { class: "ov-card ov-cache", "aria-label": "Prompt cache" },
    el("h3", {}, "Prompt cache"),
    cacheShare((insight.run || {}).cache),
    el("h4", {}, "Cache breaks (" + breaks.length + ")"),
    breaks.length
      ? el("ol", { class: "ov-breaks ov-scroll" }, breaks.map(breakItem))
      : el("p", { class: "quiet" }, "None: no turn read fewer tokens from the cache than it could have.")
  );
}
