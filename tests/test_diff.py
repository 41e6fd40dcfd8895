"""`invoke diff`: two runs compared through the conversation model, each difference in its section, noise
ignored, captured text inert and secrets masked."""

import copy
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

from test_inert_reports import inspect

from probe.diff import diff_runs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT_ROOT / "data"
[CODEX_HTTP] = (SAMPLES / "codex").glob("*-sample-http")
[CODEX_WEBSOCKET] = (SAMPLES / "codex").glob("*-sample-websocket")
[CLAUDE] = (SAMPLES / "claude-code").glob("*-sample-mock")

TOOLS = [
    {
        "type": "function",
        "name": "shell",
        "description": "Run a command.\nIt returns the output.",
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
    },
    {"type": "function", "name": "read", "description": "Read a file.", "parameters": {"type": "object"}},
]
INSTRUCTIONS = "You are an agent.\nBe brief.\nNever guess."


def exchange(path: str, body: dict | None, headers: list, answer_id: str) -> dict:
    events = [
        {"type": "response.output_text.delta", "item_id": "m", "delta": "ok"},
        {
            "type": "response.completed",
            "response": {
                "id": answer_id,
                "status": "completed",
                "usage": {"input_tokens": 100, "output_tokens": 5, "total_tokens": 105},
            },
        },
    ]
    return {
        "schema": 1,
        "kind": "http",
        "proxy": "model",
        "complete": True,
        "timing": {"start": 1795000000.0, "first_byte": 1795000000.1, "end": 1795000000.5},
        "request": {
            "method": "POST" if body is not None else "GET",
            "url": f"https://x{path}",
            "path": path,
            "headers": headers,
            "body": body,
            "body_format": "json" if body is not None else "empty",
        },
        "response": {
            "status": 200,
            "headers": [["content-type", "text/event-stream"]],
            "body": "".join(f"data: {json.dumps(event)}\n\n" for event in events),
            "body_format": "text",
        },
    }


def run_folder(folder: Path, entries: list[dict], target: str = "codex", version: str = "1.0") -> Path:
    folder.mkdir(parents=True)
    (folder / "traffic.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    (folder / "manifest.json").write_text(json.dumps({"target": target, "agent": {"version": version}}))
    return folder


def request(tools=TOOLS, instructions=INSTRUCTIONS, session="0b5e2c4e-1111-4222-8333-444455556666") -> dict:
    return {
        "model": "gpt-x",
        "instructions": instructions,
        "tools": tools,
        "stream": True,
        "prompt_cache_key": session,
        "client_metadata": {"session_id": session},
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
    }


HEADERS = [
    ["user-agent", "agent/1.0"],
    ["x-trace-tag", "blue"],
    ["authorization", "Bearer sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAs"],
]


def test_each_kind_of_change_is_named_in_its_section(tmp_path):
    changed_tools = copy.deepcopy(TOOLS)
    changed_tools[0]["description"] = "Run a command.\nIt returns the output and the exit code."
    changed_tools[0]["parameters"]["properties"]["timeout"] = {"type": "integer"}
    a = run_folder(tmp_path / "a", [exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa1111")])
    b = run_folder(
        tmp_path / "b",
        [
            exchange(
                "/v1/responses",
                request(
                    changed_tools,
                    INSTRUCTIONS.replace("Be brief.", "Be thorough."),
                    session="9f9e2c4e-1111-4222-8333-444455556666",
                ),
                HEADERS[:1] + HEADERS[2:],
                "resp_bbbbbbbb2222",
            ),
            exchange("/v1/plugins", None, [], "resp_cccccccc3333"),
        ],
        version="2.0",
    )
    text, warnings = diff_runs(a, b)
    assert warnings == []
    assert "| agent | `1.0` | `2.0` |  |" in text
    assert "- Only in B: `GET /v1/plugins` ×1" in text
    assert "- Only in A: `x-trace-tag`" in text  # a header gone
    assert "### Changed: `shell`" in text
    assert "-It returns the output.\n+It returns the output and the exit code." in text
    assert '| `properties.timeout.type` | (none) | `"integer"` |' in text
    assert "instructions block changed" in text and "-Be brief.\n+Be thorough." in text
    # A session id and a prompt cache key differ, and are noise.
    assert "0b5e2c4e" not in text and "9f9e2c4e" not in text and "prompt_cache_key" not in text
    assert "Q2w3E4r5T6y7U8i9O0pAs" not in text


def test_a_run_against_a_copy_that_differs_only_in_volatile_values_has_no_differences(tmp_path):
    """Every id, timestamp and temp path of the codex sample rewritten: nothing differs, and it says how many
    values it ignored."""
    original = (CODEX_HTTP / "traffic.jsonl").read_text()
    rewritten = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lambda _: str(uuid.uuid4()), original
    )
    rewritten = re.sub(
        r"\b(resp|msg|call|fc|rs|fco)_[0-9a-f]{24}\b", lambda m: f"{m.group(1)}_{uuid.uuid4().hex[:24]}", rewritten
    )
    rewritten = re.sub(r"\b1795\d{6}", lambda m: str(int(m.group()) + 86400), rewritten)  # a day later
    rewritten = rewritten.replace("/tmp/", "/tmp/elsewhere-")
    assert rewritten != original
    copy_run = tmp_path / "copy"
    copy_run.mkdir()
    (copy_run / "traffic.jsonl").write_text(rewritten)
    (copy_run / "manifest.json").write_bytes((CODEX_HTTP / "manifest.json").read_bytes())
    text, _ = diff_runs(CODEX_HTTP, copy_run)
    assert text.endswith("No differences.\n")
    ignored = int(re.search(r"Ignored as volatile: ([\d,]+) values", text).group(1).replace(",", ""))
    assert ignored > 100


def test_the_two_codex_transports_differ_in_endpoints_and_turn_sizes_but_no_id_shows(tmp_path):
    text, _ = diff_runs(CODEX_HTTP, CODEX_WEBSOCKET)
    assert "- Only in A: `POST /v1/responses` ×2" in text and "- Only in B: `WebSocket GET /v1/responses` ×3" in text
    assert "## Turns" in text and "| exchanges | 3 | 3 |" in text
    for sample in (CODEX_HTTP, CODEX_WEBSOCKET):
        ids = set(
            re.findall(
                r'"(resp_[0-9a-f]{24}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"',
                (sample / "traffic.jsonl").read_text(),
            )
        )
        assert ids and not [found for found in ids if found in text]


def test_codex_against_claude_code_compares_what_the_model_makes_comparable():
    text, _ = diff_runs(CODEX_HTTP, CLAUDE)
    assert "| agent | `codex-cli 0.169.0` | `2.1.330 (Claude Code)` |  |" in text
    assert "| models | `gpt-6.1-sol` ×2 | `claude-opus-5-5` ×2 |  |" in text
    tools = text.split("## Tools")[1].split("##")[0]
    assert "`clock.sleep`" in tools and "`Bash`" in tools  # tools compared by name, whatever the API
    assert "only in A" in text and "only in B" in text  # the APIs' fields, collapsed and counted


PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "</details><script>alert(1)</script>",
    "&#",
    "`` ` ``",
    "| a | b |",
    "\n# heading\n",
]


def test_captured_text_stays_inert_in_the_diff(tmp_path):
    hostile = " ".join(PAYLOADS)
    tools = [{"type": "function", "name": hostile, "description": hostile, "parameters": {hostile: {"x": hostile}}}]
    body = request(tools, hostile) | {hostile: hostile}
    a = run_folder(tmp_path / "a", [exchange("/v1/responses", request(), [["x-h", "1"]], "resp_aaaaaaaa1111")])
    b = run_folder(
        tmp_path / "b",
        [exchange(f"/v1/{hostile}", body, [[hostile[:20], hostile]], "resp_b2")],
        target=hostile,
        version=hostile,
    )
    text, _ = diff_runs(a, b)
    assert "onerror" in text  # shown, as text
    inspect(text)  # no element outside our own, no handler, no active link, in any previewer


def test_bad_arguments_are_one_line(tmp_path):
    def diff(*argv):
        result = subprocess.run(
            [sys.executable, "-m", "probe.diff", *argv], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        [line] = result.stderr.splitlines()
        return line

    assert diff("--run", str(CODEX_HTTP)) == "error: --run: give exactly two runs to compare (got 1)"
    assert "give exactly two runs" in diff("--run", "latest", "--run", "latest", "--run", "latest")
    assert diff("--run", "no-such-run", "--run", str(CODEX_HTTP)).startswith('error: no run "no-such-run"')
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no such file (is" in diff("--run", str(empty), "--run", str(CODEX_HTTP))
    for name in ("traffic.jsonl", "turns.jsonl", "manifest.json"):
        assert "that name is a run's capture file" in diff(
            "--run", str(CODEX_HTTP), "--run", str(CODEX_HTTP), "--output", str(tmp_path / name)
        )
    assert diff(
        "--run", str(CODEX_HTTP), "--run", str(CODEX_HTTP), "--output", str(tmp_path / "missing" / "d.md")
    ).startswith("error: cannot write")


def test_the_invoke_task_writes_the_diff(tmp_path):
    output = tmp_path / "d.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "diff",
            "--run",
            str(CODEX_HTTP),
            "--run",
            str(CODEX_WEBSOCKET),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text().startswith("# agent-probe diff\n") and "## Endpoints" in output.read_text()
