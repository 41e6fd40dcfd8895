"""codex's code mode as the mock drives it for MCP: codex (0.169.0, by default) gives the model one free-text tool,
`exec`, that runs JavaScript with the agent's tools on a global `tools` object, MCP tools among them. A server's
tools are deferred: the instructions name only its namespace (`Deferred tool namespaces:\\n- mcp__fs`), and a model
finds them in `ALL_TOOLS` ({name, description} each). So the mock's search is a script that lists the namespace's
tools, and its call a script that awaits one and prints the result."""

import json
import re

from probe.mock import mcp_calls
from probe.mock.tool_schemas import Tool

EXEC_TOOL = "exec"
DEFERRED_HEADING = "Deferred tool namespaces:\n"
MCP_NAMESPACE = "mcp__"  # codex's namespace of an MCP server's tools: mcp__<server>
# A tool offered in full inside exec's description: a heading of its own (its declaration follows, in TypeScript).
NESTED_HEADING = re.compile(r"^### `([^`\n]{1,200})`$", re.MULTILINE)
# The listing the search script prints begins with this marker line, so the next turn knows it for one.
LISTING_MARKER = "agent-probe tool listing"
# A nested tool's declaration: `declare const tools: { name(args: { ... }): Promise<...>; };`.
ARGS_OPENING = "(args: {"
MAX_DECLARATION = 20_000
TOP_PARAMETER = re.compile(r"(\w+)(\?)?:\s*([^;]*);")
CALLING = re.compile(r"await tools\[\"mcp_")  # how the mock's call script reaches an MCP tool
Runner = tuple[Tool, tuple[Tool, ...]]  # exec, and the MCP tools its description declares in full


def runner_of(custom_tools: list[tuple[str | None, dict]]) -> Runner | None:
    """codex's `exec` among a request's free-text tools (with their namespaces), and the MCP tools its description
    declares in full."""
    for namespace, tool in custom_tools:
        if tool.get("name") == EXEC_TOOL:
            return Tool(EXEC_TOOL, namespace, {}, "custom"), tuple(nested_tools(str(tool.get("description", ""))))
    return None


def offer(
    request: dict,
    runner: Runner | None,
    functions: list[Tool],
    newest_output: str,
    scripts: list[object],
) -> mcp_calls.McpOffer:
    """What a Responses request offers of MCP tools: `functions`, the MCP tools declared as functions; in code mode
    (`runner`: exec and the MCP tools its description declares, see runner_of), those the
    `newest_output` lists (the mock's search just ran) and the namespaces the instructions defer. `scripts`: the
    exec inputs of the conversation's earlier calls (what a continuation over WebSocket does not re-send is not
    there: then the newest output alone tells the turn after a search)."""
    if runner is None:
        return mcp_calls.McpOffer(tuple(functions), called=called_before(request, []))
    runner, nested = runner
    listed = listed_tools(newest_output)
    deferred = deferred_namespaces(instruction_texts(request))
    return mcp_calls.McpOffer((*functions, *nested, *listed), tuple(deferred), runner, bool(listed),
                              called_before(request, scripts))  # fmt: skip


def exec_call(runner: Tool | None, step: mcp_calls.McpStep) -> tuple[Tool, dict] | None:
    """The exec call that takes `step`: a script that searches, or one that calls the tool."""
    if runner is None:
        return None
    if step.kind == "call":
        return runner, {"input": call_script(step.name, step.arguments or {})}
    return runner, {"input": search_script(step.name)}


def instruction_texts(request: dict) -> list[str]:
    """The instructions and the texts of every developer or system message."""
    texts = [request["instructions"]] if isinstance(request.get("instructions"), str) else []
    for item in request.get("input") or []:
        if isinstance(item, dict) and item.get("role") in ("developer", "system"):
            content = item.get("content")
            parts = [{"text": content}] if isinstance(content, str) else content or []
            texts += [str(part.get("text", "")) for part in parts if isinstance(part, dict)]
    return texts


def deferred_namespaces(texts: list[str]) -> list[str]:
    """The MCP servers' namespaces the instructions list as deferred (`- mcp__fs` lines after the heading; another
    namespace there, an app's, is not an MCP server of the run's)."""
    found: list[str] = []
    for text in texts:
        start = text.find(DEFERRED_HEADING)
        if start < 0:
            continue
        for line in text[start + len(DEFERRED_HEADING) :].split("\n"):
            if not line.startswith("- "):
                break
            if line[2:].strip().startswith(MCP_NAMESPACE):
                found.append(line[2:].strip())
    return found


def nested_tools(description: str) -> list[Tool]:
    """The MCP tools exec's description offers in full, each with the schema its declaration gives."""
    headings = list(NESTED_HEADING.finditer(description))
    found = []
    for number, heading in enumerate(headings):
        end = headings[number + 1].start() if number + 1 < len(headings) else len(description)
        if mcp_calls.is_mcp(heading[1]):
            found.append(Tool(heading[1], None, declared_schema(description[heading.end() : end])))
    return found


def declared_schema(text: str) -> dict:
    """The JSON Schema of a nested tool's `args`, read from its TypeScript declaration (`(args: { path: string;
    head?: number; })`): each top-level parameter with its type, those without `?` required; {} when there is none."""
    start = text.find(ARGS_OPENING)
    if start < 0:
        return {}
    top, depth = [], 1
    for char in text[start + len(ARGS_OPENING) : start + MAX_DECLARATION]:
        depth += (char in "{<[(") - (char in "}>])")
        if depth == 0:
            break
        top.append(char if depth == 1 and char not in "}>])" else "")
    plain = re.sub(r"//[^\n]*", "", "".join(top))
    properties, required = {}, []
    for name, optional, kind in TOP_PARAMETER.findall(plain):
        properties[name] = ts_type(kind.strip())
        if not optional:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def ts_type(kind: str) -> dict:
    """A JSON Schema for a TypeScript type as codex writes parameters (the nested parts left out)."""
    literals = re.findall(r'"([^"]*)"', kind)
    if literals and re.fullmatch(r'(\s*"[^"]*"\s*\|?)+', kind):
        return {"type": "string", "enum": literals}
    for prefix, name in (("string", "string"), ("number", "number"), ("boolean", "boolean"), ("Array", "array")):
        if kind.startswith(prefix):
            return {"type": name}
    return {}


def search_script(namespace: str) -> str:
    """A script that prints the marker and the namespace's tools, as a model looks one up in ALL_TOOLS."""
    prefix = json.dumps(f"{namespace}__")
    return (
        f"const found = ALL_TOOLS.filter((tool) => tool.name.startsWith({prefix}));\n"
        f'text({json.dumps(LISTING_MARKER)} + "\\n" + JSON.stringify(found));\n'
    )


def call_script(name: str, arguments: dict) -> str:
    """A script that calls nested tool `name` with `arguments` and prints its result."""
    return f"const result = await tools[{json.dumps(name)}]({json.dumps(arguments)});\ntext(JSON.stringify(result));\n"


def listed_tools(output: str) -> list[Tool]:
    """The tools a search script's output lists (name and description: no schema), or none when the output is no
    listing of the mock's."""
    start = output.find(LISTING_MARKER)
    if start < 0:
        return []
    rest = output[start + len(LISTING_MARKER) :].lstrip()
    try:
        listing, _ = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        return []
    entries = [entry for entry in listing if isinstance(entry, dict)] if isinstance(listing, list) else []
    return [
        Tool(entry["name"], None, declared_schema(str(entry.get("description", ""))))
        for entry in entries
        if isinstance(entry.get("name"), str) and mcp_calls.is_mcp(entry["name"])
    ]


def called_before(request: dict, scripts: list[object]) -> bool:
    """Whether the conversation called an MCP tool before: as a function, or in one of its exec `scripts`."""
    functions = [item.get("name") for item in request.get("input") or []
                 if isinstance(item, dict) and item.get("type") == "function_call"]  # fmt: skip
    return any(mcp_calls.is_mcp(str(name)) for name in functions) or any(
        isinstance(script, str) and CALLING.search(script) for script in scripts
    )
