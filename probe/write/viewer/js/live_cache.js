// A live page of an interactive session: how long the prompt cache has left, counted down here from the end of the
// main agent's last turn and the lifetime its request gave the prefix (the turn's `cache_lifetime`), so that the
// user knows when a pause will cost a full re-read; "cache lapsed" once past. The run's clock and the page's are the
// same machine's: the live viewer listens on 127.0.0.1 only.

const CACHE_TICK = 1000; // ms between two counts

// The last turn that used the cache the user's pause matters to: the main agent's (the one the user waits on), on its
// main model (a side call on another model, such as a title request, has a cache of its own).
function lastCacheTurn() {
  const agents = Array.isArray(runInsight().agents) ? runInsight().agents : [];
  const main = agents.find((agent) => agent && agent.parent == null);
  const mainId = main ? String(main.id) : TURNS.length ? String(insightOf(TURNS[0]).agent) : null;
  const theirs = TURNS.filter((turn) => spentTokens(turn) && String(insightOf(turn).agent) === mainId);
  const model = main && main.window && main.window.model != null ? String(main.window.model) : mostUsed(theirs.map((turn) => String(turn.model)));
  for (let at = theirs.length - 1; at >= 0; at--) if (String(theirs[at].model) === model) return theirs[at];
  return theirs.length ? theirs[theirs.length - 1] : null;
}

function mostUsed(names) {
  const counts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) || 0) + 1);
  let best = null;
  for (const [name, many] of counts) if (best === null || many > counts.get(best)) best = name;
  return best;
}

// What the countdown says at `now` (epoch ms), short enough for the page's top line; its title, the lifetime's source
// and the turn it counts from; and whether the cache has lapsed.
function cacheTimeWords(turn, now) {
  const held = VALUES[turn.cache_lifetime] || {};
  const time = timing(turn);
  const title = "the prompt cache's lifetime after #" + turn.n + " ended: " + String(held.source);
  if (!isNumber(time.start) || !isNumber(time.duration_ms)) return ["cache: #" + turn.n + " has no end time", title];
  const since = Math.max(0, now / 1000 - (time.start + time.duration_ms / 1000));
  if (!count(held.seconds)) return ["cache lifetime unknown: " + lifespan(Math.floor(since)) + " since #" + turn.n, title];
  const left = held.seconds - since;
  if (left <= 0) return ["cache lapsed " + lifespan(Math.floor(-left)) + " ago: the next turn re-reads its whole input", title, true];
  return ["cache: " + lifespan(Math.ceil(left)) + " left of " + lifespan(held.seconds) + " since #" + turn.n, title];
}

function countCacheDown() {
  const timer = el("span", { id: "cache-time", role: "timer" }); // (a timer is not read out at every count)
  timer.style.marginLeft = "1em";
  document.getElementById("live-status").after(timer);
  let ended = false;
  const update = () => {
    const turn = DATA.header.interactive && !ended ? lastCacheTurn() : null;
    const [words, title, lapsed] = turn ? cacheTimeWords(turn, Date.now()) : ["", "", false];
    timer.textContent = words;
    timer.title = title;
    timer.classList.toggle("bad", lapsed === true);
  };
  const ticking = setInterval(update, CACHE_TICK);
  on("added", update);
  on("header", update);
  on("ended", () => {
    ended = true;
    clearInterval(ticking);
    update();
  });
  update();
}

if (liveSource) countCacheDown();
