// The Run panel: the run's facts, warnings and tables.

function buildHeader() {
  const header = DATA.header;
  document.title = "agent-probe: " + (header.run || "report");
  append(document.getElementById("run-name"), [header.run || ""]);
  append(document.getElementById("run"), [el("div", { id: "run-body" }, runPanel(header))]);
}

// A live page: the panel is built again from each new header, with the same tables open.
on("header", () => {
  const body = document.getElementById("run-body");
  const open = [...body.querySelectorAll("details")].map((node) => node.open);
  body.replaceChildren(...runPanel(DATA.header));
  body.querySelectorAll("details").forEach((node, index) => (node.open = !!open[index]));
});

// The panel's parts: the facts, what was not recognised, the warnings and the tables.
function runPanel(header) {
  const facts = el("dl", { class: "facts" });
  const generated = document.querySelector('meta[name="generated"]').getAttribute("content");
  const shown = header.facts.slice(0, 1).concat([["Generated at", generated]], header.facts.slice(1));
  for (const [label, text] of shown) append(facts, [el("dt", {}, label), el("dd", {}, text)]);
  const parts = [facts];
  const kinds = Object.keys(header.unrecognised || {});
  if (kinds.length) {
    parts.push(
      el("h3", {}, "Unrecognised kinds (" + kinds.length + ")"),
      el(
        "ul",
        { class: "unrecognised" },
        kinds.map((kind) => el("li", {}, el("code", {}, kind), " in ", header.unrecognised[kind].map((n, i) => [i ? ", " : "", turnLink(n)])))
      )
    );
  }
  if (header.warnings.length) parts.push(el("h3", {}, "Warnings"), el("ul", { class: "warnings" }, header.warnings.map((w) => el("li", {}, w))));
  if (header.other_hosts) {
    const heads = ["host", "kind", "requests", "methods", "bytes sent", "bytes received", "errors", "events"];
    parts.push(details("Other hosts (" + header.other_hosts.length + ")", () => table(heads, header.other_hosts), true));
  }
  parts.push(
    details("Endpoints (" + header.endpoints.length + ")", () => table(["proxy", "path", "methods", "count"], header.endpoints)),
    details("HTTP methods", () => table(["method", "count"], header.methods)),
    details("Status codes", () => table(["status", "count"], header.statuses)),
    details("Payload structure: request key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.request)),
    details("Payload structure: response key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.response))
  );
  return parts;
}
