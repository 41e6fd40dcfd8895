// Copying: a turn's request as cURL or JSON, its output as text; what is copied is what the page holds, masked.

// Headers curl sets itself, or that describe the captured transfer rather than the request.
const NOT_COPIED = new Set(["content-length", "host", "connection", "transfer-encoding", "accept-encoding"]);

function copyText(text, button) {
  const done = (ok) => {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = label), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(() => done(true), () => done(fallbackCopy(text)));
  else done(fallbackCopy(text));
}

// Where the clipboard API is not offered: a selected text area and the copy command.
function fallbackCopy(text) {
  const area = el("textarea", { class: "copy-buffer", "aria-hidden": "true", readonly: true });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch (error) {
    ok = false;
  }
  area.remove();
  return ok;
}

function copyButton(label, make, why) {
  const button = el("button", { type: "button", class: "copy", disabled: why ? true : null, title: why || null }, label);
  button.addEventListener("click", () => copyText(make(), button));
  return button;
}

// The request body as sent, when the page holds it whole: the history an earlier request held is put back from
// its interned items (probe/write/viewer/data.py), so the copy is the whole request.
function requestBody(turn) {
  const raw = turn.raw_request;
  if (!raw || raw.format === "empty") return { body: null };
  if (raw.format === "binary") return { why: "the request body is binary" };
  if (raw.kept !== "whole") return { why: "this page keeps only part of the request body: see traffic.jsonl" };
  if (raw.format === "frames") return { body: raw.value };
  const left = raw.left_out;
  if (!left) return { body: raw.value };
  if (!Array.isArray(left.runs) || !raw.value || !Array.isArray(raw.value[left.field]))
    return { why: "the history this request re-sent is not in this page" };
  const history = [];
  for (const [first, count] of left.runs) for (let ref = first; ref < first + count; ref++) history.push(VALUES[ref]);
  return { body: Object.assign({}, raw.value, { [left.field]: history.concat(raw.value[left.field]) }) };
}

function shellQuote(text) {
  return "'" + String(text).replace(/'/g, "'\\''") + "'";
}

function curlCommand(turn) {
  const { body } = requestBody(turn);
  const lines = ["curl -X " + shellQuote(turn.method) + " " + shellQuote(turn.url)];
  for (const [name, value] of VALUES[turn.request_headers])
    if (!NOT_COPIED.has(String(name).toLowerCase())) lines.push("  -H " + shellQuote(name + ": " + value));
  if (body !== null && body !== undefined) lines.push("  --data-raw " + shellQuote(typeof body === "string" ? body : JSON.stringify(body)));
  return lines.join(" \\\n");
}

function outputText(turn) {
  const texts = [];
  for (const ref of turn.output)
    for (const part of VALUES[ref].parts || []) {
      if (part.kind === "text" && part.text != null) texts.push(String(part.text));
      else if (part.kind === "tool_call") texts.push("[tool call " + part.name + "] " + compact(part.arguments));
    }
  return texts.join("\n\n");
}

function copyBar(index) {
  const turn = TURNS[index];
  const request = requestBody(turn);
  const curlWhy = turn.kind === "websocket" ? "a WebSocket exchange has no cURL form: copy its frames as JSON" : request.why;
  return el(
    "div",
    { class: "copy-bar" },
    copyButton("Copy as cURL", () => curlCommand(turn), curlWhy),
    copyButton(turn.kind === "websocket" ? "Copy frames as JSON" : "Copy request JSON", () => pretty(request.body), request.why),
    copyButton("Copy output text", () => outputText(turn), turn.output.length ? null : "no output items"),
    el("span", { class: "quiet" }, " secrets stay masked as in this page")
  );
}

// The copy button of a part or block copies its first <pre>: delegated, so a long turn adds no listeners.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.copy-pre") : null;
  if (!button) return;
  const holder = button.closest(".part, .block");
  const pre = holder && holder.querySelector("pre");
  if (pre) copyText(WHOLE_TEXT.get(pre) || pre.textContent, button);
});

function copyPreButton() {
  return el("button", { type: "button", class: "copy copy-pre", title: "Copy this text" }, "Copy");
}
