"""Makes JSON inert inside the page's <script type="application/json"> element."""

# Inside <script type="application/json"> only "</script" (and "<!--" with "<script") end or change the element;
# with every "<" escaped, no captured text can. ">" and "&" go too, so the data is inert in any context.
JSON_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


def inert(text: bytes) -> bytes:
    """JSON text with "<", ">" and "&" escaped: the same JSON value."""
    for raw, escaped in JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return text
