// A turn's usage, config, headers and raw bodies.

// The shared words (input, cache read, cache write, output, reasoning: as in the header, sidebar and overview),
// with the API's own fields beside them.
function usageSection(turn) {
  if (!turn.usage) return null;
  const used = tokens(turn);
  return el(
    "div",
    {},
    table(
      TOKEN_WORDS.map(([, words]) => words),
      [TOKEN_WORDS.map(([kind]) => number(used[kind]))],
      "usage"
    ),
    el("p", { class: "label" }, "As the API named them: ", searchable("code", "", usageAsSent(turn))),
  );
}

function configSection(turn) {
  const config = VALUES[turn.config];
  const keys = Object.keys(config);
  if (!keys.length) return null;
  return table(["field", "value"], keys.map((key) => [searchable("code", "", key), searchable("code", "", compact(config[key]))]), "config");
}

function headersSection(index) {
  return el("div", {}, headerView("Request headers", index, "request_headers"), headerView("Response headers", index, "response_headers"));
}

// The headers of one side of an exchange against the previous exchange to the same endpoint: new or changed
// ones, and the names gone (none to compare with: the first exchange there, all shown collapsed).
function headersShown(index, field) {
  const before = BEFORE.endpoint[index];
  const pairs = VALUES[TURNS[index][field]];
  if (before < 0) return { before, changed: pairs, gone: [] }; // the first exchange there: every header is news
  const previous = VALUES[TURNS[before][field]];
  const old = new Map(previous);
  const now = new Map(pairs);
  return {
    before,
    changed: pairs.filter(([name, value]) => old.get(name) !== value),
    gone: previous.filter(([name]) => !now.has(name)).map(([name]) => name),
  };
}

function headerView(title, index, field) {
  const pairs = VALUES[TURNS[index][field]];
  if (!pairs.length) return el("p", { class: "quiet" }, title + ": none");
  const whole = () => table(["name", "value"], pairs.map(([name, value]) => [name, el("code", {}, value)]), "headers");
  const { before, changed, gone } = headersShown(index, field);
  if (before < 0) {
    // Collapsed, but in the page: the search finds and opens them.
    const searched = () => table(["name", "value"], pairs.map(([name, value]) => [searchable("span", "", name), searchable("code", "", value)]), "headers");
    return details(title + " (" + pairs.length + ")", searched, false, true);
  }
  if (!changed.length && !gone.length) return el("p", { class: "same" }, title + ": all " + pairs.length + " as in ", turnLink(TURNS[before].n));
  return el(
    "div",
    {},
    el("p", { class: "changed" }, title + " (" + pairs.length + "): " + changed.length + " new or changed since ", turnLink(TURNS[before].n), gone.length ? "; gone: " + gone.join(", ") : ""),
    table(["name", "value"], changed.map(([name, value]) => [searchable("span", "", name), searchable("code", "", value)]), "headers"),
    details("All " + pairs.length, whole)
  );
}

function rawSection(turn) {
  return el("div", {}, rawView("Request", turn.raw_request), rawView("Response", turn.raw_response));
}

function rawView(title, raw) {
  if (!raw || raw.format === "empty") return el("p", { class: "quiet" }, title + ": no body");
  if (raw.format === "binary") return el("p", { class: "quiet" }, title + ": " + number(raw.size) + " bytes of binary data (base64 in the capture)");
  if (raw.kept === "omitted") return el("p", { class: "quiet" }, title + ": " + number(raw.size) + " bytes, left out of this page (it holds enough raw bodies, or the body is nested too deeply); see report.md and traffic.jsonl");
  const what = { frames: " JSON frames", events: " events", json: " JSON", text: " text" }[raw.format] || "";
  const head = raw.kept === "head" ? ", the first " + number(RAW_HEAD) + " bytes" : "";
  const note = raw.left_out
    ? el("p", { class: "quiet" }, raw.left_out.field + ": its first " + number(raw.left_out.items) + " items, as sent in #" + raw.left_out.source + ", are left out")
    : null;
  return details(title + what + " (" + number(raw.size) + " bytes" + head + ", masked)", () => el("div", {}, note, el("pre", { class: "raw" }, keptText(raw))));
}

// A value the page keeps whole while small, else the head of its JSON, else only its size.
function keptText(kept) {
  if (!kept || kept.kept === "omitted") return "(left out of this page: " + number(kept && kept.bytes) + " bytes; see report.md)";
  if (kept.kept === "head") return kept.value + "\n… (" + number(kept.bytes) + " bytes in all)";
  return pretty(kept.value);
}
