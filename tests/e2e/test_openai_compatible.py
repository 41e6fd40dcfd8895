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
