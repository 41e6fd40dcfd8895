// Builds the page once every part is defined.

buildHeader();
buildSidebar();
buildChart();
if (TURNS.length) select(fromHash(), false);
else append(document.getElementById("turn"), [el("p", { class: "quiet" }, "This capture holds no exchange.")]);
window.addEventListener("hashchange", () => select(fromHash(), true));
// The moment the page is ready, as the browser's own timeline has it (the bench reads it).
performance.mark("probe-ready");
document.documentElement.dataset.ready = "1";
