// A live page (served by probe.write.live, which marks it with <meta name="live">): asks its server for what the run
// added, and hands it to the views. In report.html there is no such mark, and this part asks for nothing at all.

const LIVE_EVERY = 400; // ms between questions

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
  const exchanges = () => TURNS.length + " exchange" + (TURNS.length === 1 ? "" : "s");
  const take = (news) => {
    if (news.data.header) {
      DATA.header = news.data.header;
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
      if (current < 0) select(0, false); // the page had nothing to show until now
    }
  };
  const ask = () => {
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
          return;
        }
        say("live: " + exchanges() + ", updated " + clock(updated));
        setTimeout(ask, LIVE_EVERY);
      })
      .catch((error) => say("not live any more (" + error.message + "): this page keeps what it holds"));
  };
  say("live: " + exchanges() + ", updated " + clock(updated));
  ask();
}
