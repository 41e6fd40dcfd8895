// Builds the page once every part is defined.

buildHeader();
buildSidebar();
buildOverview();
buildTimeline();
timelineButton();
buildCompare();
// The page opens on the overview: the first turn is shown below it, but the address names a turn only when it was
// opened with one (a #turn-N set now would make the browser scroll there once the page has loaded).
const addressed = /^#turn-\d+$/.test(location.hash);
if (TURNS.length) select(fromHash(), false, "keep");
else append(document.getElementById("turn"), [el("p", { class: "quiet" }, "This capture holds no exchange.")]);
if (!addressed && location.hash) history.replaceState(null, "", location.pathname + location.search);
followHistory();
// The moment the page is ready, as the browser's own timeline has it (the bench reads it).
performance.mark("probe-ready");
document.documentElement.dataset.ready = "1";
