"""codex's sub-agent items, as the mock reads them: the agent_message that hands a sub-agent its task, the
spawn_agent output that names a sub-agent (and how to wait for it), and how many spawned sub-agents are still out."""

import json

TOOL_OUTPUT_TYPES = {"function_call_output", "custom_tool_call_output"}
NEW_TASK = "NEW_TASK"  # the kind of agent_message that gives a spawned agent its task


def agent_task(item: dict) -> str | None:
    """The task in an `agent_message` that hands one to its recipient, else None (a sub-agent's final answer,
    say). A plain-text header names the kind and sender; the sender's own words follow, encrypted by the API."""
    parts = [part for part in item.get("content") or [] if isinstance(part, dict)]
    header = "".join(part.get("text", "") for part in parts if part.get("type") == "input_text")
    if not header.startswith(f"Message Type: {NEW_TASK}"):
        return None
    payload = [part.get("encrypted_content") for part in parts if part.get("type") == "encrypted_content"]
    return "\n".join(text for text in payload if isinstance(text, str))


def output_text(output: dict) -> str:
    """A tool output's text (content items joined, as a custom tool's output may be)."""
    text = output.get("output")
    if isinstance(text, list):
        text = "".join(str(part.get("text", "")) for part in text if isinstance(part, dict))
    return text if isinstance(text, str) else ""


def output_value(output: dict) -> object:
    """A tool output's JSON value, or None when it is not JSON."""
    text = output_text(output)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def wait_call(output: dict) -> tuple[str, dict] | None:
    """How to wait for the agent a spawn_agent output names, (namespace, arguments), or None for any other tool's
    output. Read from the output alone, since over WebSocket a follow-up does not re-send the tools."""
    value = output_value(output)
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("agent_id"), str):  # multi_agent_v1 names the child's thread and waits on it
        return "multi_agent_v1", {"targets": [value["agent_id"]]}
    if isinstance(value.get("task_name"), str):  # collaboration names the task; its wait_agent wakes on any agent
        return "collaboration", {}
    return None


def outstanding(request: dict, carried: int = 0) -> int:
    """How many spawned sub-agents have not reported yet: `carried` (the count after the answer this request
    continues, over WebSocket, whose follow-ups send only the new items) plus the spawn_agent outputs the input
    holds, less the sub-agents' reports (agent_messages that hand no task)."""
    items = [item for item in request.get("input") or [] if isinstance(item, dict)]
    spawned = sum(1 for item in items if item.get("type") in TOOL_OUTPUT_TYPES and wait_call(item))
    reported = sum(1 for item in items if item.get("type") == "agent_message" and agent_task(item) is None)
    return max(0, carried + spawned - reported)
