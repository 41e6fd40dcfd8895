// The Run panel: the run's facts, warnings and tables.

function buildHeader() {
  const header = DATA.header;
  const box = document.getElementById("run");
  document.title = "agent-probe: " + (header.run || "report");
  append(document.getElementById("run-name"), [header.run || ""]);
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
  parts.push(
    details("Endpoints (" + header.endpoints.length + ")", () => table(["proxy", "path", "methods", "count"], header.endpoints)),
    details("HTTP methods", () => table(["method", "count"], header.methods)),
    details("Status codes", () => table(["status", "count"], header.statuses)),
    details("Payload structure: request key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.request)),
    details("Payload structure: response key paths (top 30)", () => table(["path", "types", "count"], header.key_paths.response))
  );
  append(box, parts);
}
