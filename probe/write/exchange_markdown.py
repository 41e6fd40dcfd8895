"""One exchange of the conversation log as Markdown: its heading and facts, headers, and the renderer's sections."""

from probe.common import markdown as md
from probe.common.counting import counted
from probe.read.conversation import Turn
from probe.read.dedupe import changes
from probe.read.traffic import Body, Exchange
from probe.redact.secrets import redact_header
from probe.write.context_section import turn_context


def render_body_generically(body: Body, what: str) -> list[md.Markdown]:
    if body.format == "empty":
        return [md.Markdown("({}: no body)").format(what)]
    if body.format == "json":
        try:
            block = md.json_block(body.value)
        except RecursionError:
            block = md.Markdown("(nested too deeply to show here; see the capture file)")
        return [md.details(f"{what} JSON ({body.size:,} bytes)", block)]
    if body.format == "base64":
        return [md.Markdown("({}: {:,} bytes of binary data, stored base64 in the capture)").format(what, body.size)]
    return [md.details(f"{what} text ({body.size:,} bytes)", md.code(str(body.value), "text"))]


def headers_block(
    title: str,
    pairs: list[tuple[str, str]],
    extra_secrets: frozenset[str],
    earlier: dict | None = None,
    label: str = "",
) -> md.Markdown:
    """The headers in a table; those unchanged since the previous exchange to the same endpoint are only counted.

    `earlier` maps an endpoint to (label, headers) and is updated, so each exchange shows what changed.
    """
    if not pairs:
        return md.Markdown("({}: none)").format(title)
    current = {name: redact_header(name, value, extra_secrets) for name, value in pairs}
    previous = earlier.get(title) if earlier is not None else None
    if earlier is not None:
        earlier[title] = (label, current)
    if previous is None or len(current) != len(pairs):  # repeated names are shown in full
        rows = [[name, md.inline(redact_header(name, value, extra_secrets))] for name, value in pairs]
        return md.details(f"{title} ({len(rows)})", md.table(["name", "value"], rows))
    since, before = previous
    changed, gone = changes(before, current)
    rows = [[name, md.inline(value)] for name, value in changed.items()]
    if not rows and not gone:
        return md.Markdown("({}: all {} as in {})").format(title, len(current), since)
    summary = f"{title} ({len(current)}: {len(rows)} new or changed since {since}"
    summary += f"; gone: {', '.join(gone)})" if gone else ")"
    return md.details(summary, md.table(["name", "value"], rows))


def exchange_heading(exchange: Exchange) -> md.Markdown:
    if exchange.kind == "websocket":
        return md.Markdown("### #{} WebSocket {} {} ({})").format(
            exchange.number, exchange.method, md.inline(exchange.path), exchange.proxy
        )
    status = exchange.status if exchange.status is not None else "no response"
    return md.Markdown("### #{} {} {} → {} ({})").format(
        exchange.number, exchange.method, md.inline(exchange.path), status, exchange.proxy
    )


def exchange_facts(exchange: Exchange) -> md.Markdown:
    facts = [md.Markdown("URL {}").format(md.inline(exchange.url))]
    if exchange.complete and exchange.error:
        # The final event had arrived; the connection then ended early (codex hangs up at once).
        facts.append(md.Markdown("complete (the connection then ended: {})").format(md.inline(exchange.error)))
    elif exchange.complete:
        facts.append(md.Markdown("complete"))
    else:
        facts.append(md.Markdown("**cut off**: {}").format(md.inline(exchange.error or "ended before its final event")))
    if exchange.ttfb_ms is not None:
        facts.append(md.Markdown("time to first byte {:.1f} ms").format(exchange.ttfb_ms))
    if exchange.duration_ms is not None:
        facts.append(md.Markdown("duration {:.1f} ms").format(exchange.duration_ms))
    if exchange.kind == "websocket":
        facts.append(md.Markdown("{}").format(counted(len(exchange.frames), "frame")))
    else:
        facts.append(
            md.Markdown("request {:,} bytes, response {:,} bytes").format(
                exchange.request_body.size, exchange.response_body.size
            )
        )
    return md.Markdown("- {}").format(md.Markdown("; ").join(facts))


def safely(render, fallback, label: str, warnings: list[str]) -> md.Rendered:
    """Call a renderer; if it fails on some unforeseen shape, show the raw body (from `fallback()`) and carry on."""
    try:
        return render()
    except Exception as error:  # a renderer bug must not cost the rest of the report
        warnings.append(f"exchange {label}: the renderer failed ({type(error).__name__}: {error}); shown raw")
        return md.Rendered(list(fallback()))


def render_exchange(
    exchange: Exchange, turn: Turn, renderer, state: dict, totals, extra_secrets, warnings: list[str]
) -> list[str]:
    """One exchange in the log: where and when, its headers, then its turn as the renderer writes it."""
    label = f"#{exchange.number}"
    # Headers repeat from one exchange to the next: after the first, show only what changed.
    endpoint = (exchange.proxy, exchange.kind, exchange.method, exchange.path)
    endpoint_headers = state.setdefault("headers", {}).setdefault(endpoint, {})
    lines = [
        exchange_heading(exchange),
        "",
        exchange_facts(exchange),
        "",
        headers_block("Request headers", exchange.request_headers, extra_secrets, endpoint_headers, label),
        "",
        headers_block("Response headers", exchange.response_headers, extra_secrets, endpoint_headers, label),
        "",
    ]
    requests = (
        [frame.body for frame in exchange.frames if frame.from_client]
        if exchange.kind == "websocket"
        else [exchange.request_body]
    )
    lines += [md.Markdown("#### Request"), "", *turn_context(totals.insight.context.latest)]
    if not requests:
        lines += [md.Markdown("(no client frame: the server spoke first, or the socket closed without a request)"), ""]
    read = next((body for body in requests if body.is_json), None)  # the one the turn was read from
    for body in requests:
        if body is read:
            rendered = safely(
                lambda: renderer.render_request(turn, label, state),
                lambda body=body: render_body_generically(body, "request"),
                label,
                warnings,
            )
            totals.absorb(rendered)
            lines += rendered.lines + [""]
        else:
            lines += render_body_generically(body, "request") + [""]
    lines += [md.Markdown("#### Response"), ""]
    if exchange.stream_events() is None and not exchange.response_body.is_json:
        return lines + render_body_generically(exchange.response_body, "response") + [""]
    rendered = safely(
        lambda: renderer.render_response(turn, label, state),
        lambda: render_body_generically(exchange.response_body, "response"),
        label,
        warnings,
    )
    totals.absorb(rendered)
    return lines + rendered.lines + [""]
