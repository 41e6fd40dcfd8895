"""The reader side of an API package's one shape, written once: the parts every reader builds alike."""

from probe.read.conversation import Part, text_or_none


def tool_call(kind: str, call: dict, arguments: str, raw: dict | None) -> Part:
    """A tool call as a part, from the object naming it by `name` and `id`, its arguments under `arguments`."""
    name, call_id = text_or_none(call.get("name")), text_or_none(call.get("id"))
    return Part("tool_call", kind, name=name, call_id=call_id, arguments=call.get(arguments), raw=raw)
