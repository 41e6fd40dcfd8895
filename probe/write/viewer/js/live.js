// A live page (served by probe.write.live, which marks it with <meta name="live">): asks its server for what the run
// added, and hands it to the views. In report.html there is no such mark, and this part asks for nothing at all.

// The server holds each question until the run adds something (or for a while): the page asks again at once, but
// never sooner than this many ms after its last question, so that a busy run is not a busy page.
const LIVE_GAP = 100;

const liveSource = document.querySelector('meta[name="live"]');
if (liveSource) followTheRun(liveSource.getAttribute("content"));

function followTheRun(address) {
  const status = el("span", { id: "live-status", role: "status" });
  status.style.marginLeft = "1em";
  document.querySelector("header.top h1").after(status);
  const say = (text) => (status.textContent = text);
  let version = -1; // of the header the page holds (the server's count): -1, the one it came with
  let updated = new Date();
  const clock = (date) => date.toLocaleTimeString("en-GB", { hour12: false });
  const exchanges = () => TURNS.length + " exchange" + plural(TURNS.length);
  let asked = 0;
  const take = (news) => {
    const header = news.data.header;
    if (header) {
      DATA.header = header;
      version = news.version;
    }
    for (const value of news.data.values) VALUES.push(value); // (one by one: spreading a long list would overflow)
    const first = TURNS.length;
    news.data.turns.forEach((turn, offset) => {
      TURNS.push(turn);
      byNumber.set(turn.n, first + offset);
    });
    if (TURNS.length > first) {
      updated = new Date();
      tell("added", first);
      if (current < 0) select(0, false, "keep"); // the page had nothing to show until now
    }
    if (header) tell("header");
  };
  const ask = () => {
    asked = Date.now();
    const query = "?values=" + VALUES.length + "&turns=" + TURNS.length + "&version=" + version;
    fetch(address + query, { cache: "no-store" })
      .then((answer) => {
        if (!answer.ok) throw new Error("the server answered " + answer.status);
        return answer.json();
      })
      .then((news) => {
        take(news);
        if (news.ended) {
          say("the run ended: " + exchanges());
          tell("ended");
          return;
        }
        say("live: " + exchanges() + ", updated " + clock(updated));
        setTimeout(ask, Math.max(0, asked + LIVE_GAP - Date.now()));
      })
      .catch((error) => say("not live any more (" + error.message + "): this page keeps what it holds"));
  };
  say("live: " + exchanges() + ", updated " + clock(updated));
  ask();
}
