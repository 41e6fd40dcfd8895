"""A Responses event stream assembled into the output items it streamed, whatever order and ids its events come with."""

# Each streamed event, by the kind of item it builds: an event that names no item (no item_id, no
# output_index, as older servers and some gateways send them) continues the item built last when it is of
# the same kind and not yet done, else starts the next one.
TOOL_CALLS = {"function_call": "arguments", "custom_tool_call": "input"}
STREAMED = {
    "response.output_item.added": None,  # the kind comes from the item
    "response.output_item.done": None,
    "response.content_part.added": None,  # the kind comes from the part
    "response.content_part.done": None,
    "response.output_text.delta": "message",
    "response.output_text.done": "message",
    "response.output_text.annotation.added": "message",
    "response.refusal.delta": "message",
    "response.refusal.done": "message",
    "response.reasoning_summary_part.added": "reasoning",
    "response.reasoning_summary_part.done": "reasoning",
    "response.reasoning_summary_text.delta": "reasoning",
    "response.reasoning_summary_text.done": "reasoning",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_text.done": "reasoning",
    "response.function_call_arguments.delta": "call",
    "response.function_call_arguments.done": "call",
    "response.custom_tool_call_input.delta": "call",
    "response.custom_tool_call_input.done": "call",
    "response.code_interpreter_call_code.delta": "call",
    "response.code_interpreter_call_code.done": "call",
}
# The field of a call item its streamed input builds.
CALL_FIELDS = {**TOOL_CALLS, "code_interpreter_call": "code"}


CALL_DELTAS = {
    "response.function_call_arguments.delta",
    "response.custom_tool_call_input.delta",
    "response.code_interpreter_call_code.delta",
}
CALL_DONES = {
    "response.function_call_arguments.done",
    "response.custom_tool_call_input.done",
    "response.code_interpreter_call_code.done",
}
REASONING_PARTS = {"summary_text", "reasoning_text"}
# A part's text, streamed: which list of the item the part is in, the index naming it, and the part's type.
TEXT_DELTAS = {
    "response.output_text.delta": ("content", "content_index", "output_text"),
    "response.refusal.delta": ("content", "content_index", "refusal"),
    "response.reasoning_summary_text.delta": ("summary", "summary_index", "summary_text"),
    "response.reasoning_text.delta": ("content", "content_index", "reasoning_text"),
}


# A part's end, with the field holding its whole text.
TEXT_DONES = {
    "response.output_text.done": ("content", "content_index", "text", "output_text"),
    "response.refusal.done": ("content", "content_index", "refusal", "refusal"),
    "response.reasoning_summary_text.done": ("summary", "summary_index", "text", "summary_text"),
    "response.reasoning_text.done": ("content", "content_index", "text", "reasoning_text"),
}


class Piece:
    """One content or summary part as the stream builds it: its type, its deltas, and the whole text a .done
    event gave (which wins over the deltas)."""

    __slots__ = ("annotations", "done", "pieces", "text", "type")

    def __init__(self, kind: str) -> None:
        self.type, self.pieces, self.text, self.done, self.annotations = kind, [], None, False, []

    def value(self) -> str:
        return self.text if self.text is not None else "".join(self.pieces)


class Stream:
    """Builds output items from whichever way the stream delivers them: whole items (`output_item.done`), `*.done`
    events, or deltas alone, with or without the item ids and output indices that say which item each is for."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.kinds: dict[str, str] = {}  # key -> the kind of item (message, reasoning, call, other)
        self.by_index: dict[int, str] = {}  # output_index -> the item id an event gave with it
        self.last: str | None = None  # the item the latest event was for
        self.whole: dict[str, dict] = {}  # output_item.done
        self.started: dict[str, dict] = {}  # output_item.added
        self.parts: dict[str, dict[tuple[str, int], Piece]] = {}  # key -> (content or summary, index) -> piece
        self.arguments: dict[str, list[str]] = {}
        self.calls_done: dict[str, dict] = {}  # function_call_arguments.done, with name and call_id when sent
        self.ended: set[str] = set()  # items a .done event closed

    def key(self, data: dict, kind: str) -> str:
        item = data.get("item") if type(data.get("item")) is dict else None
        named = data.get("item_id") or (item.get("id") if item is not None else None)
        index = data.get("output_index")
        index = index if type(index) is int else None
        if named is not None:
            key = str(named)
            if index is not None:
                placeholder = self.by_index.setdefault(index, key)
                if placeholder != key:  # events named this item by its index only, until now
                    self.merge(key, placeholder)
                    self.by_index[index] = key
        elif index is not None:
            key = self.by_index.setdefault(index, f"output[{index}]")
        else:
            key = self.unnamed(data, kind)
        if key not in self.kinds:
            self.order.append(key)
            self.kinds[key] = kind
        self.last = key
        return key

    def merge(self, key: str, placeholder: str) -> None:
        """What was built under an item's index, before an event gave its id, is the item's: one item, not two."""
        if placeholder not in self.kinds:
            return
        if key in self.kinds:  # both exist: the one met first keeps its place
            self.order.remove(key)
        self.order[self.order.index(placeholder)] = key
        self.kinds[key] = self.kinds.pop(placeholder)
        if placeholder in self.parts:  # pieces of either name: those under the id win where both have one
            self.parts[key] = self.parts.pop(placeholder) | self.parts.get(key, {})
        if placeholder in self.arguments:  # the earlier pieces first
            self.arguments[key] = self.arguments.pop(placeholder) + self.arguments.get(key, [])
        for table in (self.whole, self.started, self.calls_done):
            if placeholder in table:
                table.setdefault(key, table.pop(placeholder))
        if placeholder in self.ended:
            self.ended.discard(placeholder)
            self.ended.add(key)
        if self.last == placeholder:
            self.last = key

    def unnamed(self, data: dict, kind: str) -> str:
        """The item an event naming none is for: the latest item when it is of the same kind and either not done
        or given a further part by this event, else a new one."""
        last = self.last
        further = position(data, "content_index") > 0 or position(data, "summary_index") > 0
        if last is not None and self.kinds[last] == kind and (last not in self.ended or further):
            return last
        return f"output[{len(self.order)}]"

    def piece(self, key: str, field: str, index: int, kind: str) -> Piece:
        pieces = self.parts.setdefault(key, {})
        found = pieces.get((field, index))
        if found is None:
            found = pieces[(field, index)] = Piece(kind)
        return found

    def add(self, kind: str, data: dict) -> None:
        family = STREAMED[kind]
        if family is None:
            self.add_whole(kind, data)
            return
        key = self.key(data, family)
        if kind in TEXT_DELTAS:
            field, index_name, part_type = TEXT_DELTAS[kind]
            self.piece(key, field, position(data, index_name), part_type).pieces.append(str(data.get("delta", "")))
        elif kind in CALL_DELTAS:
            self.arguments.setdefault(key, []).append(str(data.get("delta", "")))
        elif kind in CALL_DONES:
            self.calls_done[key] = data
            self.ended.add(key)
        elif kind == "response.output_text.annotation.added":
            annotation = data.get("annotation")
            self.piece(key, "content", position(data, "content_index"), "output_text").annotations.append(annotation)
        else:  # the .done of a text, a refusal or a summary, and a summary part's start or end
            self.add_done(key, kind, data)

    def add_done(self, key: str, kind: str, data: dict) -> None:
        if kind == "response.reasoning_summary_part.added":
            self.piece(key, "summary", position(data, "summary_index"), "summary_text")
            return
        if kind == "response.reasoning_summary_part.done":
            part = data.get("part") if type(data.get("part")) is dict else {}
            self.finish(key, "summary", position(data, "summary_index"), part.get("type") or "summary_text", part)
            return
        field, index_name, text_field, part_type = TEXT_DONES[kind]
        self.finish(key, field, position(data, index_name), part_type, {"text": data.get(text_field)})

    def finish(self, key: str, field: str, index: int, kind: str, part: dict) -> None:
        """A part's end: its whole text when the event gives one, and its annotations."""
        piece = self.piece(key, field, index, kind)
        text = part.get("text", part.get("refusal"))
        if isinstance(text, str):
            piece.text = text
        if isinstance(part.get("annotations"), list) and part["annotations"]:
            piece.annotations = list(part["annotations"])
        piece.done = True
        self.ended.add(key)

    def add_whole(self, kind: str, data: dict) -> None:
        """output_item.added / .done (an item whole, or its start) and content_part.added / .done."""
        if kind.startswith("response.output_item."):
            item = data.get("item")
            if type(item) is not dict:
                return
            key = self.key(data, item_kind(item))
            (self.whole if kind.endswith("done") else self.started)[key] = item
            if kind.endswith("done"):
                self.ended.add(key)
            return
        part = data.get("part") if type(data.get("part")) is dict else {}
        part_type = str(part.get("type") or "output_text")
        key = self.key(data, "reasoning" if part_type in REASONING_PARTS else "message")
        index = position(data, "content_index")
        if kind.endswith("added"):
            self.piece(key, "content", index, part_type)
        else:
            self.finish(key, "content", index, part_type, part)

    def items(self) -> list[dict]:
        return [self.whole.get(key) or self.build(key) for key in self.order]

    def finished(self, key: str) -> bool:
        """Whether the stream said this item ended: a whole item, its call's .done, or a .done for every part."""
        if key in self.whole or key in self.calls_done:
            return True
        pieces = self.parts.get(key)
        return bool(pieces) and all(piece.done for piece in pieces.values())

    def build(self, key: str) -> dict:
        item = dict(self.started.get(key) or {})
        pieces = self.parts.get(key, {})
        call = self.calls_done.get(key)
        if key in self.arguments or call is not None:
            done = call or {}
            kind = item.get("type") or (
                "custom_tool_call"
                if "input" in done
                else "code_interpreter_call"
                if "code" in done
                else "function_call"
            )
            field = CALL_FIELDS.get(kind, "arguments")
            item.setdefault("type", kind)
            for name in ("name", "call_id"):
                if done.get(name) is not None:
                    item[name] = done[name]
            item[field] = done.get(field, done.get("arguments", "".join(self.arguments.get(key, []))))
        elif self.kinds[key] == "reasoning" or item.get("type") == "reasoning":
            item.setdefault("type", "reasoning")
            for field in ("summary", "content"):
                shown = [part_of(piece) for (where, _), piece in sorted(pieces.items()) if where == field]
                if shown or field == "summary":
                    item[field] = shown or item.get(field) or []
        elif pieces or not item:
            item.setdefault("type", "message")
            item.setdefault("role", "assistant")
            item["content"] = [part_of(piece) for (where, _), piece in sorted(pieces.items()) if where == "content"]
        if not key.startswith("output["):
            item.setdefault("id", key)
        return item


def item_kind(item: dict) -> str:
    """The kind of item an output item is, as the stream's events for it say: message, reasoning, call, other."""
    kind = item.get("type")
    if kind in CALL_FIELDS:
        return "call"
    return kind if kind in ("message", "reasoning") else "other"


def part_of(piece: Piece) -> dict:
    """A part as the API writes it in a whole item: a refusal's text under `refusal`, any other under `text`."""
    part = {"type": piece.type, "refusal" if piece.type == "refusal" else "text": piece.value()}
    if piece.annotations:
        part["annotations"] = piece.annotations
    return part


def position(data: dict, name: str) -> int:
    """An index the stream gives (content_index, …), or 0 when it gives none or something else."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
