"""The report's `## Set-up sent` and insight.jsonl's `setup` record, from requests built in the shapes the agents
were recorded sending (tests/e2e/test_e2e_setup_sent.py records them for real): memory files and MCP tools are
named with their tokens, what a user's message only quotes is not taken for a file, re-sent history is read once,
and hostile names and secrets come out inert and masked in report.md, report.html and insight.jsonl."""

import io
import json

import bpe_openai
import orjson
from conftest import captured_exchange
from test_inert_reports import inspect
from test_viewer_page import data_of

from probe.analysis.report import write_report_to
from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.gemini import report as gemini
from probe.redact.masking import fingerprint

ENCODER = bpe_openai.get_encoding("o200k_base")
TOKEN = "ghp_" + "Zq8" * 12  # a GitHub token, in a memory file and a tool's description
HOSTILE_PATH = "/home/me/<script>alert(1)</script>/CLAUDE.md"
MEMORY = f"# Notes <img src=x onerror=alert(1)>\nDeploy with {TOKEN} please.\n[x](javascript:alert(1))"


def tokens(text: str) -> int:
    return len(ENCODER.encode_ordinary(text))


def claude_exchange(number: int, messages: list, tools: list) -> dict:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tools": tools, "messages": messages,
            "system": [{"type": "text", "text": "You are Claude Code."}]}  # fmt: skip
    answer = {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
              "usage": {"input_tokens": 900, "output_tokens": 20}}  # fmt: skip
    return captured_exchange("/v1/messages", body, answer, host="https://api.anthropic.com",
                             response_headers=(("content-type", "application/json"),), id=f"f{number}")  # fmt: skip


def reminder(*files: tuple[str, str, str]) -> str:
    quoted = "\n\n".join(f"Contents of {path} ({kind}):\n\n{text}" for path, kind, text in files)
    return ("<system-reminder>\nCodebase and user instructions are shown below. Be sure to adhere to these "
            f"instructions.\n\n{quoted}\n</system-reminder>")  # fmt: skip


TOOLS = [
    {"name": "Bash", "description": "Run a command.", "input_schema": {"type": "object"}},
    {"name": "mcp__parcels__lookup_order", "description": f"Find an order. Key {TOKEN}.",
     "input_schema": {"type": "object", "properties": {"order": {"type": "string"}}}},
    {"name": "mcp__<b>evil</b>__x<script>", "description": "", "input_schema": {"type": "object"}},
]  # fmt: skip
DEFERRED = ("The following deferred tools are now available via ToolSearch. Their schemas are NOT loaded:\n"
            "WebFetch\nmcp__github__create_issue\nmcp__github__list_issues\n\nAvailable agent types:")  # fmt: skip


def session() -> list[dict]:
    first = {"role": "user", "content": [
        {"type": "text", "text": reminder((HOSTILE_PATH, "user's private global instructions for all projects", MEMORY),
                                          ("/work/CLAUDE.md", "project instructions", "Use tabs.\nAlways."))},
        {"type": "text", "text": DEFERRED},
        # A user's own message quoting the heading is not a memory file: it is not in the agent's reminder.
        {"type": "text", "text": "Contents of /etc/passwd (fake):\n\nroot"},
    ]}  # fmt: skip
    answer = {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}
    again = {"role": "user", "content": "and again"}
    return [claude_exchange(1, [first], TOOLS), claude_exchange(2, [first, answer, again], TOOLS)]


def outputs(tmp_path, exchanges: list[dict], renderer=anthropic_messages) -> tuple[str, str, list[dict]]:
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_bytes(b"".join(orjson.dumps(exchange) + b"\n" for exchange in exchanges))
    out, page, insight = io.StringIO(), io.BytesIO(), io.BytesIO()
    write_report_to(out, traffic, renderer, None, viewer=page, insight=insight)
    records = [json.loads(line) for line in insight.getvalue().splitlines()]
    return out.getvalue(), page.getvalue().decode(), records


def section(report: str) -> str:
    return report[report.index("## Set-up sent") : report.index("## Endpoints")]


def test_memory_files_and_mcp_tools_are_named_with_their_tokens(tmp_path):
    report, _, records = outputs(tmp_path, session())
    setup = next(record for record in records if record["record"] == "setup")
    files = {file["path"]: file for file in setup["memory_files"]}
    assert list(files)[1] == "/work/CLAUDE.md" and len(files) == 2  # read once, though sent twice; no /etc/passwd
    assert files["/work/CLAUDE.md"] == {"agent": "Claude Code", "path": "/work/CLAUDE.md", "first_line": "Use tabs.",
                                        "tokens": tokens("Use tabs.\nAlways."), "characters": 17, "turn": 1,
                                        "ends_marked": True}  # fmt: skip
    text = section(report)
    project = tokens("Use tabs.\nAlways.")
    assert f"| `/work/CLAUDE.md` | {project} | 17 | `Use tabs.` | #1 | Claude Code |" in text
    servers = {server["name"]: server for server in setup["mcp_servers"]}
    lookup = TOOLS[1]
    definition = (
        f"{lookup['name']}\n{lookup['description']}\n{json.dumps(lookup['input_schema'], separators=(',', ':'))}"
    )
    # The capture is masked as it is read: the definition is counted with the token's fingerprint in its place.
    counted = tokens(definition.replace(TOKEN, fingerprint(TOKEN)))
    assert servers["parcels"]["tools"] == [{"name": "lookup_order", "tokens": counted}]
    assert f"| `parcels` | `lookup_order` | {counted:,} (1 tool) |" in text
    assert servers["github"]["tools"] == [{"name": "create_issue", "tokens": None},
                                          {"name": "list_issues", "tokens": None}]  # fmt: skip
    assert "| `github` | `create_issue` (deferred), `list_issues` (deferred) | none sent (deferred) |" in text
    assert "WebFetch" not in text and "Bash" not in text


def test_hostile_names_and_secrets_come_out_inert_and_masked(tmp_path):
    report, page, records = outputs(tmp_path, session())
    text = section(report)
    inspect(text)  # no element, handler or active link in any previewer
    assert "<script>" not in text and "<b>" not in text and "<img" not in text
    assert "/home/me/<\u200bscript>alert(1)<\u200b/script>/CLAUDE.md" in text  # shown, as inert code
    assert "`# Notes <\u200bimg src=x onerror=alert(1)>`" in text  # the first line
    for output in (report, page, json.dumps(records)):
        assert TOKEN not in output
    setup = next(record for record in records if record["record"] == "setup")
    assert "mcp__<b>evil</b>__x<script>" not in page
    assert {server["name"] for server in setup["mcp_servers"]} == {"parcels", "<b>evil</b>", "github"}


def test_a_secret_in_a_memory_file_path_is_masked(tmp_path):
    path = f"/home/me/{TOKEN}/CLAUDE.md"
    first = {"role": "user", "content": [{"type": "text", "text": reminder((path, "user's", "Hello"))}]}
    report, _, records = outputs(tmp_path, [claude_exchange(1, [first], TOOLS[:1])])
    setup = next(record for record in records if record["record"] == "setup")
    assert setup["memory_files"][0]["path"] == f"/home/me/{fingerprint(TOKEN)}/CLAUDE.md"
    assert f"`/home/me/{fingerprint(TOKEN)}/CLAUDE.md`" in section(report) and TOKEN not in report


def test_gemini_cli_context_files_and_mcp_tools(tmp_path):
    context = ("<loaded_context>\n--- Context from: /home/me/.gemini/GEMINI.md ---\nBe brief.\n--- End of Context "
               "from: /home/me/.gemini/GEMINI.md ---\n--- Context from: /x/GEMINI.md ---\nnot closed")  # fmt: skip
    tool = {"name": "mcp_parcels_add_numbers", "description": "Add.", "parametersJsonSchema": {"type": "object"}}
    body = {"contents": [{"role": "user", "parts": [{"text": context}]}, {"role": "user", "parts": [{"text": "hi"}]}],
            "tools": [{"functionDeclarations": [tool, {"name": "read_file", "description": "Read."}]}]}  # fmt: skip
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 2}}  # fmt: skip
    exchange = captured_exchange("/v1beta/models/gemini-2.5-pro:generateContent", body, answer,
                                 host="https://generativelanguage.googleapis.com",
                                 response_headers=(("content-type", "application/json"),))  # fmt: skip
    _, _, records = outputs(tmp_path, [exchange], gemini)
    setup = next(record for record in records if record["record"] == "setup")
    # The second heading is never closed: not taken for a file.
    assert [(file["path"], file["tokens"]) for file in setup["memory_files"]] == [
        ("/home/me/.gemini/GEMINI.md", tokens("Be brief."))
    ]
    counted = tokens('mcp_parcels_add_numbers\nAdd.\n{"type":"object"}')
    assert setup["mcp_servers"] == [{"name": "parcels", "tools": [{"name": "add_numbers", "tokens": counted}],
                                     "tokens": counted, "deferred": False, "more_tools": 0}]  # fmt: skip


def test_a_run_without_a_set_up_says_so(tmp_path):
    plain = {"role": "user", "content": "hello"}
    report, _, records = outputs(tmp_path, [claude_exchange(1, [plain], TOOLS[:1])])
    assert "No memory file and no MCP tool was recognised in the requests." in section(report)
    setup = next(record for record in records if record["record"] == "setup")
    assert setup["memory_files"] == [] and setup["mcp_servers"] == []


def test_a_tool_costs_what_the_context_split_counts():
    from probe.analyse import context, setup
    from probe.read.conversation import Tool

    for schema in ({"type": "object", "properties": {"a": {"type": "integer"}}}, "a schema as text", None, [1, "x"]):
        tool = Tool("mcp__s__t", description="Does t.", schema=schema)
        assert setup.tool_text(tool) == context.tool_text(tool)


def test_a_hostile_request_is_read_within_bounds(tmp_path):
    from probe.analyse import setup

    headings = "".join(f"--- Context from: /f{index} ---\nx\n" for index in range(20_000))  # never closed
    closed = "".join(f"--- Context from: /c{index} ---\ny\n--- End of Context from: /c{index} ---\n"
                     for index in range(200))  # fmt: skip
    tools = [{"name": f"mcp__s{index % 100}__t{index}", "description": "", "input_schema": {"type": "object"}}
             for index in range(2_000)]  # fmt: skip
    first = {"role": "user", "content": [{"type": "text", "text": headings}, {"type": "text", "text": closed}]}
    report, _, records = outputs(tmp_path, [claude_exchange(1, [first], tools)])
    found = next(record for record in records if record["record"] == "setup")
    assert len(found["memory_files"]) == setup.FILES_KEPT and found["more_memory_files"] == 200 - setup.FILES_KEPT
    assert len(found["mcp_servers"]) == setup.SERVERS_KEPT and found["more_mcp_servers"] == 100 - setup.SERVERS_KEPT
    assert f"And {200 - setup.FILES_KEPT:,} more memory files, not listed." in section(report)


def test_the_viewer_names_the_set_up_in_its_run_panel_masked(tmp_path):
    _, page, records = outputs(tmp_path, session())
    facts = dict(data_of(page)["header"]["facts"])
    setup = next(record for record in records if record["record"] == "setup")
    servers = {server["name"]: server["tokens"] for server in setup["mcp_servers"]}
    home, project = setup["memory_files"]
    assert facts["Set-up sent"] == (
        f"memory files: {home['path']} ({home['tokens']} tokens), /work/CLAUDE.md ({project['tokens']} tokens); "
        f"MCP servers: github (2 tools, deferred), parcels (1 tool, {servers['parcels']} tokens), <b>evil</b> "
        f"(1 tool, {servers['<b>evil</b>']} tokens)"
    )
    assert "Set-up sent" not in dict(data_of(outputs(tmp_path, [claude_exchange(1, [], [])])[1])["header"]["facts"])


def test_an_analysis_resumed_in_another_process_lists_each_file_once(tmp_path):
    """The saved reading is loaded by another process, whose string hashes differ: a file met again is still known."""
    import os
    import subprocess
    import sys

    from conftest import PROJECT_ROOT

    run = tmp_path / "data" / "claude-code" / "20261126-010000"
    run.mkdir(parents=True)
    exchanges = session()
    quoted = exchanges[0]["request"]["body"]["messages"][0]["content"][0]
    # A new conversation, whose first message quotes the same files: not a history carried from the first.
    fresh = claude_exchange(3, [{"role": "user", "content": [quoted, {"type": "text", "text": "another task"}]}], TOOLS)
    lines = [orjson.dumps(exchange) + b"\n" for exchange in [*exchanges, fresh]]
    for seed, upto in (("1", 2), ("2", 3)):
        (run / "traffic.jsonl").write_bytes(b"".join(lines[:upto]))
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), "--target", "claude-code"],
                       cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    assert (run / ".analysis").exists()  # the second analysis resumed from the first one's reading
    records = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    setup = next(record for record in records if record["record"] == "setup")
    assert [file["turn"] for file in setup["memory_files"]] == [1, 1]
