"""The items of a Sentry envelope (a JSON header line, then items: a JSON header line each, with its payload of
`length` bytes or up to the next newline), named by type, an event's by its exception or message too."""

import orjson

ITEMS_READ = 1000  # items walked in one envelope


def names_in_envelope(data: bytes) -> list[str]:
    header_end = data.find(b"\n")
    if header_end < 0 or not isinstance(orjson.loads(data[:header_end]), dict):
        raise ValueError("not a Sentry envelope")
    names, at = [], header_end + 1
    while at < len(data) and len(names) < ITEMS_READ:
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        line = data[at:end]
        at = end + 1
        if not line.strip():
            continue
        item = orjson.loads(line)
        if not isinstance(item, dict):
            raise ValueError("an envelope item's header is not an object")
        length = item.get("length")
        if isinstance(length, int) and length >= 0:
            payload, at = data[at : at + length], at + length + 1
        else:
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            payload, at = data[at:end], end + 1
        names.append(item_name(str(item.get("type", "?")), payload))
    return names


def item_name(kind: str, payload: bytes) -> str:
    """`event: <exception type>`, `transaction: <name>`, or the item's type alone."""
    if kind not in ("event", "transaction"):
        return kind
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return kind
    if not isinstance(event, dict):
        return kind
    if kind == "transaction" and event.get("transaction"):
        return f"transaction: {event['transaction']}"
    values = event.get("exception", {}).get("values") if isinstance(event.get("exception"), dict) else None
    if isinstance(values, list) and values and isinstance(values[-1], dict) and values[-1].get("type"):
        return f"event: {values[-1]['type']}"
    message = event.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    return f"event: {message}" if isinstance(message, str) and message else kind
