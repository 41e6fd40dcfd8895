// The timeline's controls: zoom (buttons, + and -, Ctrl and the wheel), pan (dragging, the arrow keys, the scroll
// bar), moving between the intervals (Tab, the arrow keys on an interval), their figures on hover and focus, and
// Enter or a click opening an interval's turn.

const TL_HINT = "Hover over or focus an interval for its figures; Enter or a click opens its turn.";
const MIN_SPAN_S = 0.0005; // the narrowest view: half a millisecond across the plot

function setTimelineView(from, to) {
  const { model } = timeline;
  if (!model || !model.count) return;
  const width = Math.max(MIN_SPAN_S, to - from);
  const total = model.to - model.from;
  const pad = Math.max(0.001, total * 0.01);
  if (width >= total + 2 * pad) {
    wholeTimeline();
    return;
  }
  const start = Math.min(Math.max(from, model.from - pad), model.to + pad - width);
  timeline.view = { from: start, to: start + width };
  timeline.whole = false;
  drawTimeline();
}

function wholeTimeline() {
  timeline.whole = true;
  refreshTimeline();
}

// Zoom by `factor` (under 1: in) around `centre` (a time; the middle of the view by default).
function zoomTimeline(factor, centre) {
  const { from, to } = timeline.view;
  const middle = centre === undefined ? (from + to) / 2 : centre;
  setTimelineView(middle - (middle - from) * factor, middle + (to - middle) * factor);
}

function panTimeline(share) {
  const { from, to } = timeline.view;
  const step = (to - from) * share;
  setTimelineView(from + step, to + step);
}

function spanOfNode(node) {
  const group = node instanceof Element && node.closest(".tl-span");
  return group ? timeline.model.byId.get(Number(group.getAttribute("data-span"))) : undefined;
}

function showFigures(span) {
  timeline.parts.readout.textContent = span ? spanFigures(span, timeline.model.from) : TL_HINT;
}

// Focus moves to `span`: the view follows it when it is out of sight.
function focusSpan(span) {
  if (!span) return;
  timeline.focused = span.id;
  const { from, to } = timeline.view;
  if (span.end < from || span.start > to) {
    const width = to - from;
    setTimelineView((span.start + span.end) / 2 - width / 2, (span.start + span.end) / 2 + width / 2);
  } else drawTimeline();
  const node = timeline.drawn.get(span.id);
  if (node) node.focus({ preventScroll: true });
  showFigures(span);
}

// The interval of the lane `step` lanes away nearest in time to `span`.
function nearestInLane(span, step) {
  const lanes = timeline.model.lanes;
  for (let index = span.lane + step; index >= 0 && index < lanes.length; index += step) {
    const order = lanes[index].order;
    if (!order.length) continue;
    let best = order[0];
    for (const each of order) {
      if (Math.abs(each.start - span.start) < Math.abs(best.start - span.start)) best = each;
      if (each.start > span.start) break;
    }
    return best;
  }
  return undefined;
}

function spanKeys(event, span) {
  const order = timeline.model.lanes[span.lane].order;
  const moves = {
    ArrowLeft: () => order[span.at - 1],
    ArrowRight: () => order[span.at + 1],
    ArrowUp: () => nearestInLane(span, -1),
    ArrowDown: () => nearestInLane(span, 1),
    Home: () => order[0],
    End: () => order[order.length - 1],
  };
  if (event.key === "Enter" || event.key === " ") {
    openSpanTurn(span);
    return true;
  }
  if (!moves[event.key] || event.shiftKey) return false;
  focusSpan(moves[event.key]());
  return true;
}

function timelineKeys(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const span = spanOfNode(event.target);
  let done = span ? spanKeys(event, span) : false;
  if (!done) {
    const keys = {
      "+": () => zoomTimeline(0.5, span && (span.start + span.end) / 2),
      "=": () => zoomTimeline(0.5, span && (span.start + span.end) / 2),
      "-": () => zoomTimeline(2),
      0: () => wholeTimeline(),
      ArrowLeft: () => panTimeline(-0.2),
      ArrowRight: () => panTimeline(0.2),
    };
    if (keys[event.key]) {
      keys[event.key]();
      done = true;
    }
  }
  if (done) {
    event.preventDefault();
    event.stopPropagation(); // (the page's own keys, j and k among them, are not the timeline's)
  }
}

function timelineControls(parts) {
  const { frame, scroll } = parts;
  showFigures(undefined);
  frame.addEventListener("keydown", timelineKeys);
  frame.addEventListener("focusin", (event) => {
    const span = spanOfNode(event.target);
    if (span) timeline.focused = span.id;
    showFigures(span);
  });
  frame.addEventListener("mouseover", (event) => {
    const span = spanOfNode(event.target);
    if (span) showFigures(span);
  });
  frame.addEventListener("mouseleave", () => showFigures(spanOfNode(document.activeElement)));
  frame.addEventListener("wheel", (event) => {
    if (!timeline.model.count) return;
    if (event.ctrlKey) {
      const geometry = timeline.geometry;
      const box = frame.getBoundingClientRect();
      const share = (event.clientX - box.left - geometry.label) / geometry.plot;
      const { from, to } = timeline.view;
      zoomTimeline(event.deltaY < 0 ? 0.8 : 1.25, from + Math.min(1, Math.max(0, share)) * (to - from));
    } else if (Math.abs(event.deltaX) > Math.abs(event.deltaY)) panTimeline(event.deltaX / timeline.geometry.plot);
    else return;
    event.preventDefault();
  }, { passive: false });
  // A drag pans; a press let go where it was is a click, which opens the turn of the interval under it.
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, from: timeline.view.from, to: timeline.view.to, moved: false, id: event.pointerId };
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    const dx = event.clientX - drag.x;
    if (!drag.moved && Math.abs(dx) < 4) return;
    if (!drag.moved) frame.setPointerCapture(event.pointerId);
    drag.moved = true;
    const shift = (-dx / timeline.geometry.plot) * (drag.to - drag.from);
    setTimelineView(drag.from + shift, drag.to + shift);
  });
  frame.addEventListener("pointerup", (event) => {
    const was = drag;
    drag = null;
    if (!was || was.moved) return;
    const span = spanOfNode(event.target);
    if (span) openSpanTurn(span);
  });
  scroll.addEventListener("scroll", () => {
    if (Math.abs(scroll.scrollLeft - timeline.scrolledTo) < 1 || !timeline.model.count) return;
    const { model, view } = timeline;
    const width = view.to - view.from;
    const from = model.from + (scroll.scrollLeft / parts.inner.clientWidth) * (model.to - model.from);
    setTimelineView(from, from + width);
  });
}

// The header's Timeline button: the view is reached as the overview is, a step in the history away from a turn.
function timelineButton() {
  const button = viewButton("to-timeline", "The run on a time axis", "Timeline", (main) => {
    main.scrollTop = timeline.parts.box.offsetTop;
    timeline.parts.frame.focus({ preventScroll: true });
  });
  document.querySelector("header.top .to-overview").after(button);
}
