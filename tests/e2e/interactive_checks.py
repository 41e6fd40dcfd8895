"""What the run folder of an interactive session against the mock must hold, whatever the agent: the typed prompt
in what it sent, the tool call the mock made and its result sent back, the answer, and a finished manifest."""

import json
from pathlib import Path

from conftest import read_traffic
from terminal import TOOL_OUTPUT

from probe.common.forward import ALL_HOSTS
from probe.runs.targets import load_target


def tool_results(value: object) -> list[str]:
    """The tool results a request body sends back, in any of the APIs' shapes: Gemini's functionResponse, a Chat
    Completions `tool` message, a Responses function_call_output."""
    found = []
    if isinstance(value, dict):
        if "functionResponse" in value:
            found.append(json.dumps(value["functionResponse"]))
        elif value.get("role") == "tool" or value.get("type") == "function_call_output":
            found.append(json.dumps(value.get("content", value.get("output"))))
        else:
            found += [text for item in value.values() for text in tool_results(item)]
    elif isinstance(value, list):
        found += [text for item in value for text in tool_results(item)]
    return found


def assert_interactive_run(run: Path, target: str, prompt: str, tool: str) -> dict:
    """The checks every agent's session passes; returns the manifest."""
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete", manifest.get("note")
    assert manifest["session"] == "interactive" and manifest["home"] == "private"
    assert manifest["agent_args"] == []
    assert manifest["agent"]["argv"][1:] == list(load_target(target).interactive[1:])
    entries = read_traffic(run)
    # Every exchange with the model is complete (another host's, with --all-hosts, is answered by the forward proxy).
    assert manifest["exchanges"] == len(entries)
    assert all(entry["complete"] for entry in entries if entry["proxy"] != ALL_HOSTS)
    bodies = [entry["request"]["body"] for entry in entries]
    asked = [body for body in bodies if prompt in json.dumps(body)]
    assert asked, "the typed prompt is in no captured request"
    # The command ran and its result came back to the model. Its output is in the result when the agent caught it:
    # gemini-cli's interactive shell, which runs the command in a terminal of its own, was once seen (in CI, under
    # load) to send "Output: (empty)" for the mock's echo, with the process it ran named.
    results = [text.replace(f"echo {TOOL_OUTPUT}", "") for body in asked for text in tool_results(body)]
    assert results, "no tool result went back to the model"
    caught = any(TOOL_OUTPUT in text for text in results)
    assert caught or (target == "gemini" and any("Process Group PGID: " in text for text in results)), results
    report = (run / "report.md").read_text()
    assert prompt in report
    call = report.index(f"**Tool call** `{tool}`")
    assert f'"command": "echo {TOOL_OUTPUT}"' in report[call : call + 400]
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report
    return manifest
