// Narrow screens: the sidebar folds away behind the "Turns" button. And the skip link past the controls to the turn.

const NARROW = window.matchMedia("(max-width: 699px)"); // sidebar.css folds the sidebar at the same width

function buildFold() {
  const button = document.getElementById("turns-toggle");
  button.addEventListener("click", () => setSidebarOpen(button.getAttribute("aria-expanded") !== "true"));
  document.getElementById("sidebar").addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !NARROW.matches) return;
    setSidebarOpen(false);
    button.focus();
  });
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault(); // followed, the link would change the address, and the address names the turn shown
    const view = document.getElementById("turn");
    view.setAttribute("tabindex", "-1");
    view.focus();
  });
}

function setSidebarOpen(open) {
  document.body.classList.toggle("turns-open", open);
  document.getElementById("turns-toggle").setAttribute("aria-expanded", String(open));
  if (!open) return;
  redrawList(); // the list had no height while folded: the rows in view, and the selected one, are drawn now
  listBox().focus();
}

// A turn picked in the unfolded list is shown at once on a narrow screen, where the list covers it.
function foldIfNarrow() {
  if (NARROW.matches && document.body.classList.contains("turns-open")) setSidebarOpen(false);
}
