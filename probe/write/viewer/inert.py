"""Makes JSON inert inside the page's <script type="application/json"> element."""

from probe.common.fastjson import encoded
from probe.read.conversation import plain

# Inside <script type="application/json"> only "</script" (and "<!--" with "<script") end or change the element;
# with every "<" escaped, no captured text can. ">" and "&" go too, so the data is inert in any context.
JSON_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


def inert(text: bytes) -> bytes:
    """JSON text with "<", ">" and "&" escaped: the same JSON value."""
    for raw, escaped in JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def header_json(header: dict) -> bytes:
    """The page's header (probe.write.viewer.header) as inert JSON."""
    return inert(encoded(plain(header)))
