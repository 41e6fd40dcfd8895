"""Where each API family keeps what `invoke resend` edits: the instructions, the tools, the history, the model and
the sampling settings (Anthropic Messages, OpenAI Responses and Chat Completions, Gemini and its Code Assist
wrapper), and the edits of probe.apis.request_edits applied there, in the order given."""

import copy
import re
from typing import Any
from urllib.parse import quote

from probe.apis.request_edits import Edit, history_positions, parse_assignment, parse_path, set_path, unset_path
from probe.common.errors import UsageError

INSTRUCTION_ROLES = ("system", "developer")  # a message of these roles instructs rather than converses
# Where each family keeps the sampling settings, by the generic names of probe.apis.request_edits.SAMPLING.
SAMPLING_FIELDS = {
    "anthropic": {"temperature": "temperature", "max_tokens": "max_tokens", "top_p": "top_p", "top_k": "top_k"},
    "responses": {"temperature": "temperature", "max_tokens": "max_output_tokens", "top_p": "top_p"},
    "chat": {"temperature": "temperature", "max_tokens": "max_tokens", "top_p": "top_p"},
    "gemini": {"temperature": "generationConfig.temperature", "max_tokens": "generationConfig.maxOutputTokens",
               "top_p": "generationConfig.topP", "top_k": "generationConfig.topK"},
}  # fmt: skip
GEMINI_MODEL = re.compile(r"(/models/)([^/:?]+)")  # Gemini names the model in the URL path: /v1beta/models/M:method


class Family:
    """An API family's places. `history` is the key of the list of messages (or input items, or contents);
    `instruction_key` the field that holds the instructions beside it (the system and developer messages amid the
    history instruct too); `sampling` maps the generic names of
    probe.apis.request_edits.SAMPLING to this family's fields, each a path under the request."""

    def __init__(self, name: str = "", history: str = "messages", instruction_key: str = "system",
                 sampling: dict[str, str] | None = None) -> None:  # fmt: skip
        self.name, self.history, self.instruction_key = name, history, instruction_key
        self.sampling = sampling or {}

    def request(self, body: dict) -> dict:
        """The object that holds the request's fields (a wrapper's inner request, where there is one)."""
        return body

    def model(self, path: str, body: dict) -> str | None:
        value = body.get("model")
        return value if isinstance(value, str) else None

    def with_model(self, path: str, body: dict, model: str) -> str:
        """Sets the model; the request's path, which names it in some APIs."""
        body["model"] = model
        return path

    def items(self, body: dict, editing: bool = False) -> list:
        """The history list, as sent (none where the API was sent one string, which takes no item edits: `editing`
        says so in one line)."""
        value = self.request(body).get(self.history)
        if isinstance(value, str) and editing:
            raise UsageError(f"the request's {self.history} is one string, not a list of items")
        return value if isinstance(value, list) else []

    def is_instruction(self, item: Any) -> bool:
        """A system or developer message amid the history (Claude Code 2.1.330 sends one among its messages); an item
        of another type that carries a role (codex's `additional_tools`, role developer) is none."""
        return (
            isinstance(item, dict)
            and item.get("type", "message") == "message"
            and item.get("role") in INSTRUCTION_ROLES
        )

    def history_indexes(self, body: dict) -> list[int]:
        """Positions in the history list of the items that converse (not those that instruct)."""
        return [index for index, item in enumerate(self.items(body)) if not self.is_instruction(item)]

    def instruction_size(self, body: dict) -> int:
        """Characters of the instructions, as JSON text is sized here: their texts, summed."""
        request = self.request(body)
        held = [request.get(self.instruction_key)] + [item for item in self.items(body) if self.is_instruction(item)]
        return sum(len(text) for value in held for text in texts(value))

    def has_instructions(self, body: dict) -> bool:
        request = self.request(body)
        return request.get(self.instruction_key) not in (None, "", []) or any(
            self.is_instruction(item) for item in self.items(body)
        )

    def remove_instructions(self, body: dict) -> None:
        self.request(body).pop(self.instruction_key, None)
        items = self.items(body, editing=isinstance(self.request(body).get(self.history), list))
        items[:] = [item for item in items if not self.is_instruction(item)]

    def replace_instructions(self, body: dict, text: str) -> None:
        self.remove_instructions(body)
        self.request(body)[self.instruction_key] = self.instruction_value(text)

    def instruction_value(self, text: str) -> Any:
        return text

    def tool_list(self, body: dict) -> list:
        tools = self.request(body).get("tools")
        return tools if isinstance(tools, list) else []

    def tool_names(self, body: dict) -> list[str]:
        return [name for tool in self.tool_list(body) if (name := self.tool_name(tool))]

    def tool_name(self, tool: Any) -> str | None:
        """A tool's name: a function's, or a built-in tool's type."""
        if not isinstance(tool, dict):
            return None
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else tool.get("name") or tool.get("type")
        return name if isinstance(name, str) else None

    def drop_tool(self, body: dict, name: str) -> bool:
        tools = self.tool_list(body)
        before = len(tools)
        tools[:] = [tool for tool in tools if self.tool_name(tool) != name]
        return len(tools) < before

    def add_tool(self, body: dict, tool: dict) -> None:
        self.request(body).setdefault("tools", []).append(tool)

    def set_sampling(self, body: dict, name: str, value: Any) -> None:
        field = self.sampling.get(name)
        if field is None:
            raise UsageError(f"--{name.replace('_', '-')}: the {self.name} API has no such setting")
        if name == "max_tokens" and "max_completion_tokens" in self.request(body):  # the newer Chat field, if sent
            field = "max_completion_tokens"
        set_path(self.request(body), parse_path(field), value, f"--{name.replace('_', '-')}")


def texts(value: Any) -> list[str]:
    """Every `text` string (or the string itself) in an instruction value, however the API nests it."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for each in value for text in texts(each)]
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [text for key, each in value.items() if key in ("content", "parts") for text in texts(each)]
    return []


class OpenAIChat(Family):
    def replace_instructions(self, body: dict, text: str) -> None:
        """Chat Completions has no instructions field: a system message first."""
        self.remove_instructions(body)
        self.request(body).setdefault("messages", []).insert(0, {"role": "system", "content": text})


class Gemini(Family):
    """Its instructions: systemInstruction (or system_instruction); its model: in the URL path, or in the body of
    Code Assist's wrapper."""

    def request(self, body: dict) -> dict:
        inner = body.get("request")  # Code Assist wraps the request: {model, project, request: {...}}
        return inner if isinstance(inner, dict) else body

    def model(self, path: str, body: dict) -> str | None:
        if isinstance(body.get("request"), dict):
            return super().model(path, body)
        found = GEMINI_MODEL.search(path)
        return found.group(2) if found else None

    def with_model(self, path: str, body: dict, model: str) -> str:
        if isinstance(body.get("request"), dict):
            return super().with_model(path, body, model)
        if not GEMINI_MODEL.search(path):
            raise UsageError("the request's path names no model (/models/NAME:...)")
        # Quoted: a name is one segment of the path, whatever it holds.
        return GEMINI_MODEL.sub(lambda found: found.group(1) + quote(model, safe=""), path, count=1)

    def has_instructions(self, body: dict) -> bool:
        request = self.request(body)
        return any(request.get(key) not in (None, "", [], {}) for key in ("systemInstruction", "system_instruction"))

    def instruction_size(self, body: dict) -> int:
        request = self.request(body)
        return sum(len(text) for key in ("systemInstruction", "system_instruction") for text in texts(request.get(key)))

    def remove_instructions(self, body: dict) -> None:
        for key in ("systemInstruction", "system_instruction"):
            self.request(body).pop(key, None)

    def instruction_value(self, text: str) -> Any:
        return {"parts": [{"text": text}]}

    def tool_names(self, body: dict) -> list[str]:
        """Each declared function's name, and each built-in tool's key (googleSearch, codeExecution…)."""
        names = []
        for tool in self.tool_list(body):
            if not isinstance(tool, dict):
                continue
            for key, value in tool.items():
                if key in ("functionDeclarations", "function_declarations") and isinstance(value, list):
                    names += [
                        each["name"] for each in value if isinstance(each, dict) and isinstance(each.get("name"), str)
                    ]
                else:
                    names.append(key)
        return names

    def drop_tool(self, body: dict, name: str) -> bool:
        before = self.tool_names(body)
        kept = []
        for tool in self.tool_list(body):
            if isinstance(tool, dict):
                tool = {key: value for key, value in tool.items() if key != name}
                for key in ("functionDeclarations", "function_declarations"):
                    if isinstance(tool.get(key), list):
                        tool[key] = [
                            each for each in tool[key] if not (isinstance(each, dict) and each.get("name") == name)
                        ]
                        tool = tool if tool[key] else {k: v for k, v in tool.items() if k != key}
                if not tool:
                    continue
            kept.append(tool)
        self.tool_list(body)[:] = kept
        return len(self.tool_names(body)) < len(before)

    def add_tool(self, body: dict, tool: dict) -> None:
        """A function declaration (it has a `name`) joins the first group of declarations; anything else is a tool
        object of its own ({"googleSearch": {}})."""
        tools = self.request(body).setdefault("tools", [])
        if "name" in tool:
            group = next((each for each in tools if isinstance(each, dict) and "functionDeclarations" in each), None)
            if group is None:
                tools.append({"functionDeclarations": [tool]})
            else:
                group["functionDeclarations"].append(tool)
            return
        tools.append(tool)


def declares_tools(item: Any) -> bool:
    """An input item of type `additional_tools`, which declares tools rather than conversing."""
    return isinstance(item, dict) and item.get("type") == "additional_tools" and isinstance(item.get("tools"), list)


class OpenAIResponses(Family):
    """Its tools: the `tools` field, and those an input item of type `additional_tools` declares (codex sends all of
    its own there), each a function or a namespace of tools."""

    def tool_lists(self, body: dict) -> list[list]:
        """Every list that holds tools: the field's, each `additional_tools` item's, and each namespace's within."""
        found = [self.tool_list(body)]
        found += [item["tools"] for item in self.items(body) if declares_tools(item)]
        for tools in found:  # (grows as namespaces are found: each is walked once)
            found += [
                tool["tools"] for tool in tools
                if isinstance(tool, dict) and tool.get("type") == "namespace" and isinstance(tool.get("tools"), list)
            ]  # fmt: skip
        return found

    def history_indexes(self, body: dict) -> list[int]:
        """The items that converse: not the instructions, nor an item that declares tools."""
        items = self.items(body)
        return [index for index in super().history_indexes(body) if not declares_tools(items[index])]

    def tool_names(self, body: dict) -> list[str]:
        return [name for tools in self.tool_lists(body) for tool in tools if (name := self.tool_name(tool))]

    def drop_tool(self, body: dict, name: str) -> bool:
        dropped = False
        for tools in self.tool_lists(body):
            kept = [tool for tool in tools if self.tool_name(tool) != name]
            dropped |= len(kept) < len(tools)
            tools[:] = kept
        return dropped


FAMILIES = {
    "anthropic.messages": Family("Anthropic Messages", "messages", "system", SAMPLING_FIELDS["anthropic"]),
    "openai.responses": OpenAIResponses("OpenAI Responses", "input", "instructions", SAMPLING_FIELDS["responses"]),
    "openai.chat_completions": OpenAIChat("OpenAI Chat Completions", "messages", "", SAMPLING_FIELDS["chat"]),
    "gemini.generate_content": Gemini("Gemini", "contents", "systemInstruction", SAMPLING_FIELDS["gemini"]),
}


def family_of(api: str) -> Family | None:
    return FAMILIES.get(api)


def apply_edits(family: Family, path: str, body: dict, edits: list[Edit], tools: dict[str, dict]) -> tuple[str, dict]:
    """The request's path and body with the edits made, in their order, on a copy; `tools`: each --add-tool's
    definition, read by the caller. Every edit that does not apply is one UsageError line, all of them together."""
    body = copy.deepcopy(body)
    problems = []
    for edit in edits:
        try:
            path = apply_edit(family, path, body, edit, tools)
        except UsageError as error:
            problems.append(str(error) if str(error).startswith("--") else f"{edit.shown[:120]}: {error}")
    if problems:
        raise UsageError("\n".join(problems))
    return path, body


def apply_edit(family: Family, path: str, body: dict, edit: Edit, tools: dict[str, dict]) -> str:
    kind, value = edit.kind, edit.value
    if kind == "model":
        return family.with_model(path, body, value)
    if kind == "no_instructions":
        if not family.has_instructions(body):
            raise UsageError("the request has no instructions to remove")
        family.remove_instructions(body)
    elif kind == "instructions":
        family.replace_instructions(body, value)
    elif kind == "drop_tool":
        if not family.drop_tool(body, value):
            names = ", ".join(family.tool_names(body)[:12]) or "none"
            raise UsageError(f"the request has no tool {value[:80]!r} (its tools: {names[:300]})")
    elif kind == "add_tool":
        family.add_tool(body, tools[value])
    elif kind == "drop_history":
        items, indexes = family.items(body, editing=True), family.history_indexes(body)
        dropped = {indexes[position] for position in history_positions(value, len(indexes))}
        items[:] = [item for index, item in enumerate(items) if index not in dropped]
    elif kind in ("temperature", "max_tokens", "top_p", "top_k"):
        family.set_sampling(body, kind, float(value) if kind in ("temperature", "top_p") else int(value))
    elif kind == "set":
        steps, parsed = parse_assignment(value)
        set_path(body, steps, parsed, edit.shown)
    elif kind == "unset":
        unset_path(body, parse_path(value), edit.shown)
    else:
        raise UsageError(f"unknown edit {kind}")
    return path
