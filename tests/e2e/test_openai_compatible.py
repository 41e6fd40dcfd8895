"""The generic openai-compatible target records any Chat Completions client given with --command, here a small
script that makes a tool round trip the way agents do, against the mock."""

import json
import os
import subprocess
import sys

from conftest import PROJECT_ROOT, read_traffic

from probe.runs.targets import load_target

CLIENT = r"""
import json, os, urllib.request

def complete(messages):
    body = {"model": "any-model", "stream": True, "stream_options": {"include_usage": True}, "messages": messages,
            "tools": [{"type": "function", "function": {"name": "bash", "description": "Run a command",
                       "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}]}
    headers = {"content-type": "application/json", "authorization": "Bearer " + os.environ["KEY"]}
    request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", json.dumps(body).encode(),
                                     headers)
    text, calls = "", {}
    for line in urllib.request.urlopen(request).read().decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[6:])["choices"]:
            text += choice["delta"].get("content") or ""
            for call in choice["delta"].get("tool_calls", []):
                slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] = call.get("function", {}).get("name") or slot["name"]
                slot["arguments"] += call.get("function", {}).get("arguments", "")
    return text, list(calls.values())

messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "say hello"}]
text, calls = complete(messages)
messages.append({"role": "assistant", "content": text, "tool_calls": [
    {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
    for call in calls]})
messages += [{"role": "tool", "tool_call_id": call["id"], "content": "ran " + json.loads(call["arguments"])["command"]}
             for call in calls]
print(complete(messages)[0])
"""


def test_any_chat_completions_client_is_recorded_with_the_chat_renderer(tmp_path, private_data_dir):
    assert load_target("openai-compatible").command == ()
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    env = dict(os.environ, KEY="sk-" + "client-key-not-real-0123456789")
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "pipeline", "-t", "openai-compatible", "-u", "mock",
         "--command", f"{sys.executable} {script}"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'return "Hello, world!"' in result.stdout  # the client printed the mock's final answer
    [run] = (private_data_dir / "openai-compatible").iterdir()
    entries = read_traffic(run)
    assert [entry["request"]["path"] for entry in entries] == ["/v1/chat/completions"] * 2
    assert entries[1]["request"]["body"]["messages"][-1]["content"] == "ran echo agent-probe tool call"
    report = (run / "report.md").read_text()
    assert "- Made with: renderer `probe.apis.openai_chat.report`, captured text masked" in report
    assert "**Tool call** `bash`" in report and "**Messages**: + 1 new message; 3 carried over from #1" in report
    assert "- Unrecognised: 0 kinds" in report
    assert b"client-key-not-real" not in b"".join(path.read_bytes() for path in run.rglob("*") if path.is_file())
    assert json.loads((run / "manifest.json").read_text())["agent"]["env"]["OPENAI_BASE_URL"].endswith("/v1")


def test_without_a_command_the_target_says_what_it_needs(private_data_dir):
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "pipeline", "-t", "openai-compatible", "-p", "hi"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr == "error: openai-compatible runs no agent of its own: give the client to record with --command\n"
    )
    assert not (private_data_dir / "openai-compatible").exists()


MUST_CALL = r"""
import json, os, subprocess
import openai

client = openai.OpenAI(max_retries=0, api_key="sk-" + "client-key-not-real")
bash = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
tools = [{"type": "function", "function": {"name": "bash", "parameters": bash}}]
messages = [{"role": "user", "content": "say hello"}]
for turn in range(6):
    answer = client.chat.completions.create(model="any-model", messages=messages, tool_choice="required", tools=tools)
    message = answer.choices[0].message
    [call] = message.tool_calls
    output = subprocess.run(json.loads(call.function.arguments)["command"], shell=True, capture_output=True,
                            text=True).stdout
    if output.startswith("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"):
        print(f"finished after {turn + 1} turns")
        break
    messages += [message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": output}]
"""


def test_an_agent_that_must_call_a_tool_ends_on_the_targets_finishing_command(tmp_path, private_data_dir):
    """A target's `mock_finish_command` reaches the mock: a client that requires a tool call every turn (as
    mini-SWE-agent does) is told to finish, and ends as it would with a real model."""
    target = tmp_path / "must-call.yaml"
    text = (
        (PROJECT_ROOT / "targets" / "openai-compatible.yaml")
        .read_text()
        .replace("name: openai-compatible", "name: must-call")
    )
    target.write_text(
        text.replace("agent:\n", 'agent:\n  mock_finish_command: "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"\n')
    )
    assert load_target(str(target)).mock_finish_command == "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
    script = tmp_path / "client.py"
    script.write_text(MUST_CALL)
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "pipeline", "-t", str(target), "-u", "mock",
         "--command", f"{sys.executable} {script}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "finished after 2 turns" in result.stdout
    [run] = (private_data_dir / "must-call").iterdir()
    bodies = [entry["response"]["body"] for entry in read_traffic(run)]
    commands = [json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])["command"]
                for body in bodies]  # fmt: skip
    assert commands == ["echo agent-probe tool call", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"]
