"""`invoke diff`: two runs compared through the conversation model, each difference in its section, noise
ignored, captured text inert and secrets masked."""

import copy
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import captured_exchange
from test_inert_reports import inspect

from probe.analyse.volatile import Volatile, run_places
from probe.capture import agent_home
from probe.write.diff import diff_runs
from probe.write.text_diff import text_diff
from probe.write.value_diff import MISSING, value_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = PROJECT_ROOT / "data"
[CODEX_HTTP] = (SAMPLES / "codex").glob("*-sample-http")
[CODEX_WEBSOCKET] = (SAMPLES / "codex").glob("*-sample-websocket")
[CODEX_169] = (SAMPLES / "codex").glob("*-sample-v0.169.0")
[CLAUDE] = (SAMPLES / "claude-code").glob("*-sample-mock")
[OPENCODE] = (SAMPLES / "opencode").glob("*-sample-mock")
[QWEN] = (SAMPLES / "qwen-code").glob("*-sample-mock")
[GEMINI] = (SAMPLES / "gemini").glob("*-sample-mock")
HOME = re.compile(
    r"(?:\.\./)*/?(?:tmp/)?agent-probe-home-[A-Za-z0-9_-]+"
)  # ../../agent-probe-home-… from /tmp/…/workdir

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


def exchange(path: str, body: dict | None, headers: list, answer_id: str, usage: dict | None = None) -> dict:
    usage = {"input_tokens": 100, "output_tokens": 5, "total_tokens": 105} if usage is None else usage
    events = [
        {"type": "response.output_text.delta", "item_id": "m", "delta": "ok"},
        {"type": "response.completed", "response": {"id": answer_id, "status": "completed", "usage": usage}},
    ]
    stream = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    timing = {"start": 1795000000.0, "first_byte": 1795000000.1, "end": 1795000000.5}
    record = captured_exchange(path, body, stream, host="https://x", request_headers=headers, timing=timing)
    if body is None:
        record["request"] |= {"method": "GET", "body_format": "empty"}
    return record


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


def pair_of_runs(tmp_path, changed_tools=None, instructions=INSTRUCTIONS) -> tuple[Path, Path]:
    """Two one-turn runs, B declaring `changed_tools` (and `instructions`) where A declares TOOLS."""
    a = run_folder(tmp_path / "a", [exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa1111")])
    b = run_folder(
        tmp_path / "b",
        [exchange("/v1/responses", request(changed_tools or TOOLS, instructions), HEADERS, "resp_bbbbbbbb2222")],
    )
    return a, b


def section(text: str, title: str) -> str:
    """One section of a diff, from its heading to the next one of the same level."""
    level = title.split(" ")[0]
    return text.split(f"\n{title}\n", 1)[1].split(f"\n{level} ", 1)[0]


def only_sizes_differ(text: str) -> bool:
    """Nothing but the bodies' sizes differs: a value of another length (a longer home) makes a body longer, and a
    size is measured from the body, never taken from the line, so the diff shows it as a measurement, not a change."""
    headings = {line for line in text.splitlines() if line.startswith("## ")}
    return "- Structural changes: none; only sizes differ\n" in text and headings <= {"## Sizes", "## Turns"}


def ignored(text: str) -> int:
    return int(re.search(r"Ignored as volatile: ([\d,]+) values", text).group(1).replace(",", ""))


def copy_run(run: Path, folder: Path, rewrite, resize: bool = False, retime: float = 1.0) -> Path:
    """A copy of a run folder with every line of its capture and its manifest rewritten. With `resize`, the bodies'
    recorded sizes follow their new lengths (as they would in a run that minted longer values); with `retime`,
    every exchange's durations are that many times longer."""
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(rewrite((run / "manifest.json").read_text()))
    lines = []
    for line in (run / "traffic.jsonl").read_text().splitlines():
        entry = json.loads(line)
        new = json.loads(rewrite(line))
        if resize:
            for old_message, message in messages(entry, new):
                if "body_size" in message or "size" in message:
                    grown = len(json.dumps(message.get("body"))) - len(json.dumps(old_message.get("body")))
                    message["body_size" if "body_size" in message else "size"] += grown
        if retime != 1.0:
            start = new["timing"]["start"]
            new["timing"] = {key: start + (value - start) * retime for key, value in new["timing"].items()}
        lines.append(json.dumps(new))
    (folder / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def messages(old: dict, new: dict):
    yield old["request"], new["request"]
    yield old.get("response") or {}, new.get("response") or {}
    yield from zip(old.get("messages") or [], new.get("messages") or [])


# Sections ----------------------------------------------------------------------------------------


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
    # B's second exchange is a model turn of its own: usage, sizes and timings differ too; the changed instructions
    # and tools change the context's size, and the cost with it.
    assert (
        "- Structural changes: summary, endpoints, request shape, headers, instructions, tools (usage, context, cost, "
        "sizes and timings differ too)" in text
    )
    assert "| agent | `1.0` | `2.0` |  |" in text
    assert "| exchanges | 1 | 2 | +1 (+100%) |" in text
    assert "- Only in B: `GET /v1/plugins` ×1" in text
    assert "- Only in A: `x-trace-tag`" in text  # a header gone
    assert "### Changed: `shell`" in text
    assert "\n@@ -1,2 +1,2 @@\nRun a command.\nIt returns the output{+ and the exit code+}.\n" in section(
        text, "## Tools"
    )
    assert '| `properties.timeout` | (none) | `{"type": "integer"}` |' in text
    assert "instructions block changed" in text and "\nBe [-brief-]{+thorough+}.\n" in text
    # A session id and a prompt cache key differ, and are noise.
    assert "0b5e2c4e" not in text and "9f9e2c4e" not in text and "prompt_cache_key" not in text
    assert "Q2w3E4r5T6y7U8i9O0pAs" not in text


def test_a_run_against_a_copy_that_differs_only_in_volatile_values_has_no_differences(tmp_path):
    """Every id, timestamp and temp path of the codex sample rewritten: nothing differs, and it says how many
    values it ignored."""
    original = (CODEX_HTTP / "traffic.jsonl").read_text()
    # Each id is replaced by the same new one wherever it appears, as in another run: a session id stays one.
    new_ids: dict[str, str] = {}
    rewritten = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        lambda m: new_ids.setdefault(m.group(), str(uuid.uuid4())), original,
    )  # fmt: skip
    rewritten = re.sub(
        r"\b(resp|msg|call|fc|rs|fco)_[0-9a-f]{24}\b",
        lambda m: new_ids.setdefault(m.group(), f"{m.group(1)}_{uuid.uuid4().hex[:24]}"), rewritten,
    )  # fmt: skip
    rewritten = re.sub(r"\b1795\d{6}", lambda m: str(int(m.group()) + 86400), rewritten)  # a day later
    rewritten = rewritten.replace("/tmp/", "/tmp/elsewhere-")
    assert rewritten != original
    copy_run = tmp_path / "copy"
    copy_run.mkdir()
    (copy_run / "traffic.jsonl").write_text(rewritten)
    (copy_run / "manifest.json").write_bytes((CODEX_HTTP / "manifest.json").read_bytes())
    text, _ = diff_runs(CODEX_HTTP, copy_run)
    assert only_sizes_differ(text)  # ("/tmp/elsewhere-" is longer than "/tmp/")
    assert ignored(text) > 100


# Volatile values: the agent's home, the run folder, temp folders ----------------------------------


def rehome(home: str, depth: int = 2):
    """A rewrite that moves the agent's home to `home`: absolute paths to it, and relative ones (`../../tmp/…`)
    from a working folder `depth` levels deep."""

    def rewrite(text: str) -> str:
        return HOME.sub(lambda m: home if m.group().startswith("/") else "../" * depth + home.lstrip("/"), text)

    return rewrite


def test_the_agent_home_in_a_tool_description_is_volatile(tmp_path):
    """opencode puts the path of its temp folder, inside the agent's private home, in its bash tool's description:
    another home (a longer name) is no change."""
    copied = copy_run(OPENCODE, tmp_path / "copy", rehome("/tmp/agent-probe-home-4242424-1234567-zq_9x8w7"))
    assert "4ikmsy5q" not in (copied / "traffic.jsonl").read_text()
    text, _ = diff_runs(OPENCODE, copied)
    assert only_sizes_differ(text)
    same, _ = diff_runs(OPENCODE, OPENCODE)
    assert ignored(text) == ignored(same) > 0  # every value found in the copy as in the original


def test_a_relative_path_to_the_agent_home_is_volatile_at_any_depth(tmp_path):
    """qwen-code names a file in the home relative to its working folder (`../../agent-probe-home-…` from a fresh
    one in the temp folder): another home, seen from a working folder elsewhere, is no change."""
    copied = copy_run(QWEN, tmp_path / "copy", rehome("/tmp/agent-probe-home-7-88-abcdefgh", depth=3))
    assert (
        "../../../tmp/agent-probe-home-7-88-abcdefgh/.qwen/output-language.md" in (copied / "traffic.jsonl").read_text()
    )
    text, _ = diff_runs(QWEN, copied)
    assert "- Structural changes: none\n" in text and text.endswith("No differences.\n")
    assert ignored(text) == ignored(diff_runs(QWEN, QWEN)[0])


def test_a_home_in_another_temp_folder_is_volatile(tmp_path):
    """The home where macOS puts temp folders, named by the run's TMPDIR, behind its /private link."""
    home = "/private/var/folders/x1/9yz_w0/T/agent-probe-home-31-4-12345678"
    copied = copy_run(GEMINI, tmp_path / "copy", rehome(home))
    assert home in (copied / "traffic.jsonl").read_text()
    text, _ = diff_runs(GEMINI, copied)
    assert only_sizes_differ(text)


def test_the_run_folder_claude_code_keeps_its_state_in_is_volatile(tmp_path):
    """Claude Code's state folder is claude-config/ in the run folder, and its memory's path is in its
    instructions: a run recorded in another folder is no change."""
    recorded = json.loads((CLAUDE / "manifest.json").read_text())["agent"]["env"]["CLAUDE_CONFIG_DIR"]
    folder = recorded.removesuffix("/claude-config")
    assert folder in (CLAUDE / "traffic.jsonl").read_text()
    copied = copy_run(
        CLAUDE,
        tmp_path / "copy",
        lambda text: text.replace(folder, "/home/someone/probe/data/claude-code/20270101-000000-x"),
    )
    text, _ = diff_runs(CLAUDE, copied)
    assert "- Structural changes: none\n" in text and text.endswith("No differences.\n")


def normalise(text: str, manifest: dict | None = None, run: Path = Path("/runs/data/codex/20260101-000000-x")):
    return Volatile(run_places(run, manifest)).text(text)


def test_the_places_a_manifest_names_are_replaced_absolute_or_relative(tmp_path):
    home = "/scratch/me/tmp/agent-probe-home-12-34-abcd_efg"
    manifest = {
        "agent": {
            "env": {
                "HOME": home,
                "XDG_CONFIG_HOME": f"{home}/.config",
                "TMPDIR": f"{home}/tmp",
                "CLAUDE_CONFIG_DIR": "/work/old/data/claude-code/20250101-120000-first/claude-config",
                "OPENAI_BASE_URL": "http://127.0.0.1:18100/v1",
            }
        }
    }
    assert (
        normalise(f"Use `{home}/tmp/opencode` for scratch.", manifest) == "Use `<agent home>/tmp/opencode` for scratch."
    )
    assert normalise(f"Context from: ../../../{home[1:]}/.qwen/x.md ---", manifest) == (
        "Context from: <agent home>/.qwen/x.md ---"
    )
    assert (
        normalise(
            "memory at `/work/old/data/claude-code/20250101-120000-first/claude-config/projects/p/memory/`.", manifest
        )
        == "memory at `<run>/claude-config/projects/p/memory/`."
    )
    # The run folder where it is now, and a home's name alone, even where no manifest names it.
    run = tmp_path / "data" / "codex" / "20260101-000000-x"
    assert normalise(f"see {run}/claude-config.", None, run) == "see <run>/claude-config."
    assert normalise("cd /opt/agent-probe-home-1-2-aaaaaaaa/x && ls") == "cd <agent home>/x && ls"
    assert normalise("file:///tmp/agent-probe-home-1-2-aaaaaaaa/a.md") == "file:<agent home>/a.md"
    # The home's name as probe.capture.agent_home makes it.
    assert normalise(f"/tmp/{agent_home.PREFIX}99-1-q_w-e_rt/x") == "<agent home>/x"


def test_temp_paths_are_taken_whole_wherever_they_start():
    for path in (
        "/tmp/tmpa1b2c3/out.txt",
        "/var/tmp/build-7/x",
        "/var/folders/x1/9yz_w0/T/tmpk2/y.json",
        "/private/var/folders/x1/9yz_w0/T/z",
        "../../tmp/pytest-of-me/pytest-9/t0/data",
    ):
        assert normalise(f"read `{path}` now") == "read `<temp>` now", path
    assert normalise("/tmp is where") == "/tmp is where"  # the folder itself says nothing of a run
    assert normalise("/home/me/tmp/notes.txt") == "/home/me/tmp/notes.txt"  # not a temp folder
    manifest = {"agent": {"env": {"TMPDIR": "/scratch/me/tmp"}}}
    assert normalise("at /scratch/me/tmp/run-1/a and ../../scratch/me/tmp/run-1/b", manifest) == "at <temp> and <temp>"
    volatile = Volatile()
    volatile.text("/tmp/a /tmp/b ../tmp/agent-probe-home-1-2-x/c")
    assert volatile.count == 3


def test_the_machines_kernel_release_is_volatile():
    """Claude Code tells the model its OS with the kernel's release, which differs from one machine's build to the
    next: the same run made on another machine is the same run."""
    for said in ("OS Version: Linux 6.18.44-fc-v669", "Linux 6.1.0-28-amd64 x86_64", "os: Darwin 23.6.0"):
        volatile = Volatile()
        assert "<kernel>" in volatile.text(said) and volatile.count == 1, said
    assert Volatile().text("OS Version: Linux 6.18.44-fc-v782\n - Shell") == "OS Version: Linux <kernel>\n - Shell"
    for kept in ("Linux kernel", "Linux distributions", "GNU/Linux 12", "Linux6.1"):
        assert Volatile().text(kept) == kept, kept


# Timings and sizes -------------------------------------------------------------------------------


def test_timings_are_apart_from_structural_changes(tmp_path):
    slower = copy_run(CODEX_169, tmp_path / "slower", lambda text: text, retime=1.5)
    text, _ = diff_runs(CODEX_169, slower)
    assert "- Structural changes: none; only time and timings differ\n" in text
    assert [line for line in text.splitlines() if line.startswith("## ")] == ["## Time", "## Timings"]
    # Each exchange half as long again: the model's streaming grew, and the Time section says so first.
    assert section(text, "## Time").splitlines()[3] == "- model streaming +0.1 s"
    timings = section(text, "## Timings")
    duration = re.search(r"\| duration s \| [\d.]+ \| [\d.]+ \| \+[\d.]+ \(\+(\d+)%\) \|", timings)
    assert duration and 0 < int(duration[1]) < 50  # the gaps between exchanges are as long as they were
    assert "| turn | first byte ms A | B | change | duration ms A | B | change |" in timings
    half_again = r"[\d.]+ \| [\d.]+ \| \+[\d.]+ \(\+(?:49|50|51)%\)"  # 1.5 times, rounded
    assert re.search(rf"\| 2 \| {half_again} \| {half_again} \|", timings), timings
    assert len(re.findall(r"\n\| [12] \|", timings)) == 2  # both model turns, each with its timings


def test_two_runs_that_differ_only_in_volatile_lengths_and_timings_change_nothing_structural(tmp_path):
    """As two mock runs of one version differ: another home (with a longer name), so other body sizes and a few
    more input tokens, and other timings. Sizes and usage are shown, as measurements, not as changes."""
    rewrite = rehome("/tmp/agent-probe-home-1234567-7654321-abcdefgh", depth=3)

    def remint(text: str) -> str:
        return rewrite(text).replace('"prompt_tokens": 4', '"prompt_tokens": 5')

    copied = copy_run(QWEN, tmp_path / "copy", remint, resize=True, retime=0.8)
    text, _ = diff_runs(QWEN, copied)
    assert "- Structural changes: none; only time, sizes and timings differ\n" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Time", "## Sizes", "## Turns", "## Timings"]
    assert re.search(r"\| bytes sent \| ([\d,]+) \| ([\d,]+) \| \+\d+ \(\+0%\) \|", text)


# JSON values: one row per change ------------------------------------------------------------------


def test_a_change_of_kind_is_one_row_with_each_side_whole():
    old = {"properties": {"cmd": {"type": "string"}, "opts": {"properties": {"n": {"type": "integer"}}}}}
    new = {
        "properties": {
            "cmd": {"type": ["string", "null"]},
            "opts": {"properties": {"n": {"type": "integer", "minimum": 0}, "mode": "fast"}},
        },
        "required": ["cmd"],
    }
    assert value_changes(old, new) == [
        ("properties.cmd.type", "string", ["string", "null"]),
        ("properties.opts.properties.mode", MISSING, "fast"),
        ("properties.opts.properties.n.minimum", MISSING, 0),
        ("required", MISSING, ["cmd"]),
    ]
    # A scalar that becomes an object, inside a list of objects; a list of plain values compared whole.
    assert value_changes({"anyOf": [{"type": "string"}, 3]}, {"anyOf": [{"type": "string"}, {"const": 3}]}) == [
        ("anyOf.1", 3, {"const": 3})
    ]
    assert value_changes({"enum": ["a", "b"]}, {"enum": ["x", "a", "b"]}) == [("enum", ["a", "b"], ["x", "a", "b"])]
    assert value_changes({"strict": True}, {"strict": 1}) == [("strict", True, 1)]  # not the same JSON


def test_a_type_change_in_a_tool_schema_is_one_row(tmp_path):
    changed = copy.deepcopy(TOOLS)
    changed[0]["parameters"]["properties"]["cmd"]["type"] = ["string", "null"]
    changed[1]["parameters"] = {"type": "object", "properties": {"path": {"type": "string"}}}
    changed[1]["strict"] = True
    text, _ = diff_runs(*pair_of_runs(tmp_path, changed))
    shell = section(text, "### Changed: `shell`")
    assert '| `properties.cmd.type` | `"string"` | `["string", "null"]` |' in shell
    assert "type.0" not in text and "type.1" not in text
    read = section(text, "### Changed: `read`")
    assert '| `properties` | (none) | `{"path": {"type": "string"}}` |' in read
    assert "Other fields:\n\n| field | A | B |\n|---|---|---|\n| `strict` | (none) | `true` |" in read


# Texts: word by word ------------------------------------------------------------------------------

LONG = " ".join(f"word{index}" for index in range(100))  # a 600-character line


def test_a_word_changed_at_the_end_of_a_long_line_is_marked():
    diff = text_diff(f"{LONG} end.", f"{LONG} finish.", context=1)
    assert diff == "@@ -1 +1 @@\nword0 word1 word2 … word95 word96 word97 word98 word99 [-end-]{+finish+}."


def test_a_word_changed_mid_line_is_marked_with_context_either_side():
    old = f"Intro line.\n{LONG} sandbox {LONG}\nLast line."
    new = f"Intro line.\n{LONG} container {LONG}\nLast line."
    diff = text_diff(old, new, context=1)
    lines = diff.splitlines()
    assert lines[0] == "@@ -1,3 +1,3 @@" and lines[1] == "Intro line." and lines[3] == "Last line."
    assert lines[2] == (
        "word0 word1 word2 … word95 word96 word97 word98 word99 [-sandbox-]{+container+} word0 word1 word2 word3 "
        "word4 word5 …"
    )
    # Two changes far apart on one line: the stretch between them is cut in the middle.
    two = text_diff(f"a {LONG} b", f"x {LONG} y", context=1).splitlines()[1]
    assert two.startswith("[-a-]{+x+} word0 word1") and " … " in two and two.endswith("word99 [-b-]{+y+}")


def test_a_rewritten_sentence_is_one_change_and_lines_added_or_removed_are_marked_whole():
    diff = text_diff(
        "- skill: Use for Codex models, pricing, and tasks that mention the app. (file: a)\nkept\n",
        "- skill: Read this before answering how the app behaves, and where to find a feature. (file: a)\n"
        "kept\nadded\n",
        context=1,
    )
    assert diff.splitlines() == [
        "@@ -1,2 +1,3 @@",
        "- skill: [-Use for Codex models, pricing, and tasks that mention the app-]"
        "{+Read this before answering how the app behaves, and where to find a feature+}. (file: a)",
        "kept",
        "{+added+}",
    ]
    # Two words changed apart, with more kept between them than they are long: two marks.
    assert text_diff("Use it for the docs.", "Read it for the API.", context=0).splitlines()[1] == (
        "[-Use-]{+Read+} it for the [-docs-]{+API+}."
    )
    assert text_diff("a\nb\nc", "a\nc", context=0).splitlines() == ["@@ -2 +1,0 @@", "[-b-]"]


# Two APIs ----------------------------------------------------------------------------------------


def test_codex_against_claude_code_compares_the_model_and_not_the_wire():
    text, _ = diff_runs(CODEX_HTTP, CLAUDE)
    assert "API `openai.responses`" in text and "API `anthropic.messages`" in text
    assert "- Different APIs: the wire (endpoints, request shape, headers) is not compared (--wire compares it)" in text
    assert "| agent | `codex-cli 0.169.0` | `2.1.330 (Claude Code)` |  |" in text
    assert "| models | `gpt-6.1-sol` ×2 | `claude-opus-5-5` ×2 |  |" in text
    assert "## Endpoints" not in text and "## Request shape" not in text and "## Headers" not in text
    tools = section(text, "## Tools")
    assert "`clock.sleep`" in tools and "`Bash`" in tools  # tools compared by name, whatever the API
    assert "`clock` (namespace)" in tools
    # Each run measured against its own model's window, named where the models differ (known to genai-prices 0.2.3,
    # not to 0.0.61: "unknown" then).
    [window] = [line for line in section(text, "## Context window").splitlines() if line.startswith("- window ")]
    assert window.startswith("- window `gpt-6.1-sol` ") and " → `claude-opus-5-5` " in window
    assert text.split("\n")[5] == (
        "- Structural changes: summary, instructions, tools (usage, context, context window, cost, prompt cache, "
        "agents and tool calls, time, sizes and timings differ too)"
    )


def test_with_wire_two_apis_are_compared_on_the_wire_too(tmp_path):
    text, _ = diff_runs(CODEX_HTTP, CLAUDE, wire=True)
    assert "- Different APIs: the wire (endpoints, request shape, headers) is compared too (--wire)" in text
    assert "- Only in A: `POST /v1/responses` ×2" in text and "- Only in B: `POST /v1/messages` ×2" in text
    assert "## Request shape" in text and "only in A" in text and "only in B" in text  # collapsed and counted
    assert "## Headers" in text
    output = tmp_path / "d.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "probe.write.diff",
            "--run",
            str(CODEX_HTTP),
            "--run",
            str(CLAUDE),
            "--wire",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "## Request shape" in output.read_text()


def test_a_run_of_requests_no_reader_recognises_speaks_no_api_of_its_own(tmp_path):
    """An exchange that no reader recognises is no model call but another request: that says nothing of the run's
    API, so the run's wire is compared with the other run's, and the request among the endpoints and other hosts."""
    a = run_folder(tmp_path / "a", [exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa1111")])
    logged = exchange("/internal/log", {"event": "started"}, HEADERS, "unused")
    logged["response"] |= {
        "headers": [["content-type", "application/json"]],
        "body": {"ok": True},
        "body_format": "json",
    }
    b = run_folder(tmp_path / "b", [logged], target="no-such-target")
    text, _ = diff_runs(a, b)
    assert "(target `no-such-target`, agent `1.0`)" in text  # no API named
    assert "| API | `openai.responses` | none |  |" in text and "| exchanges | 1 | 0 | -1 (-100%) |" in text
    assert "- Different APIs" not in text
    # Its endpoint is compared as every endpoint of the target's proxies is; it is no turn of either run.
    assert "## Endpoints\n\n- Only in A: `POST /v1/responses` ×1\n- Only in B: `POST /internal/log` ×1\n\n" in text
    assert "## Other hosts\n\n- Only in B: `x` (unknown, 1 request)\n" in text


def test_the_two_codex_transports_differ_in_endpoints_and_turn_sizes_but_no_id_shows():
    """One API: the wire is compared without asking."""
    text, _ = diff_runs(CODEX_HTTP, CODEX_WEBSOCKET)
    assert "- Different APIs" not in text
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


# Absent counts -----------------------------------------------------------------------------------


def test_a_count_the_api_did_not_send_is_absent_not_zero():
    """Anthropic sends no reasoning count: it is shown as —, and no change is computed to or from it."""
    text, _ = diff_runs(CODEX_HTTP, CLAUDE)
    usage = section(text, "## Usage")
    assert "| reasoning tokens | 24 | — |  |" in usage
    assert "| cache_write tokens | — | " in usage  # the Responses API sends no cache writes
    assert "-100%" not in usage  # (a tool called in one run only is another matter: its calls do drop to 0)


def test_sums_say_how_many_turns_they_cover(tmp_path):
    with_reasoning = {"input_tokens": 100, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 3}}
    a = run_folder(
        tmp_path / "a",
        [
            exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa1111", with_reasoning),
            exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa2222"),  # no reasoning count
            exchange("/v1/responses", request(), HEADERS, "resp_aaaaaaaa3333", {}),  # no counts at all
        ],
    )
    b = run_folder(
        tmp_path / "b",
        [exchange("/v1/responses", request(), HEADERS, f"resp_bbbbbbbb{n}111", with_reasoning) for n in range(3)],
    )
    text, _ = diff_runs(a, b)
    usage = section(text, "## Usage")
    assert "| reasoning tokens | 3 (1 of 3 turns) | 9 |  |" in usage  # no change from a partial sum
    assert "| input tokens | 200 (2 of 3 turns) | 300 |  |" in usage
    assert "| cache_write tokens | — | — |  |" in usage
    turns = section(text, "## Turns")
    assert "| 3 | — | 100 |  | — | 5 |  |" in turns


# Tools: namespaces and every field ----------------------------------------------------------------


def test_a_namespace_description_is_compared(tmp_path):
    old = '"description":"Tools for reading and waiting on time."'
    assert old in (CODEX_169 / "traffic.jsonl").read_text().replace(": ", ":")
    copied = copy_run(
        CODEX_169,
        tmp_path / "copy",
        lambda text: text.replace("Tools for reading and waiting on time.", "Tools for reading and sleeping on time."),
    )
    text, _ = diff_runs(CODEX_169, copied)
    assert "No differences." not in text
    assert "- Structural changes: tools (sizes differ too)\n" in text  # (one word longer)
    namespace = section(text, "### Changed: `clock` (namespace)")
    assert "Tools for reading and [-waiting-]{+sleeping+} on time." in namespace
    assert "### Changed: `clock.sleep`" not in text  # its tools are entries of their own, unchanged


def test_a_namespace_and_a_top_level_tool_of_one_name_are_two_tools(tmp_path):
    namespace = {"type": "namespace", "name": "shell", "description": "Shells.", "tools": [TOOLS[1]]}
    a, b = pair_of_runs(tmp_path, [*TOOLS, namespace])
    text, _ = diff_runs(a, b)
    assert "- Only in B: `shell` (namespace), `shell.read`" in section(text, "## Tools")
    assert "### Changed" not in text  # the top-level shell is the same as in A


# Output ------------------------------------------------------------------------------------------


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
    # The same payloads in a word diff, between two versions of one tool.
    changed = [dict(TOOLS[0], description=f"Run {hostile} now."), TOOLS[1]]
    text, _ = diff_runs(*pair_of_runs(tmp_path / "words", changed))
    assert "{+" in text and "onerror" in text
    inspect(text)


def test_bad_arguments_are_one_line(tmp_path):
    def diff(*argv):
        result = subprocess.run(
            [sys.executable, "-m", "probe.write.diff", *argv],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=60,
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


def invoke_diff(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "invoke", "diff", *argv], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )


def test_the_invoke_task_writes_the_diff(tmp_path):
    output = tmp_path / "d.md"
    result = invoke_diff("--run", str(CODEX_HTTP), "--run", str(CODEX_WEBSOCKET), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert output.read_text().startswith("# agent-probe diff\n") and "## Endpoints" in output.read_text()


def test_the_invoke_task_passes_wire(tmp_path):
    result = invoke_diff("--run", str(CODEX_HTTP), "--run", str(CLAUDE), "--wire")
    assert result.returncode == 0, result.stderr
    assert "## Request shape" in result.stdout and "is compared too (--wire)" in result.stdout
    help_text = " ".join(invoke_diff("--help").stdout.split())
    assert "--wire compare endpoints, request shape and headers even when the runs speak different APIs" in help_text


def test_two_bundled_samples_are_diffed_with_their_own_prices():
    """`invoke diff` of two samples prices them as their committed diff does (data/sample-prices.yaml), not as
    unknown for want of a price in the installed database."""
    new, old = (PROJECT_ROOT / "data/codex" / name for name in ("20261125-122607-sample-v0.169.0",
                                                              "20261125-122602-sample-v0.166.0"))  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "PROBE_PRICES"}
    result = subprocess.run(
        [sys.executable, "-m", "probe.write.diff", "--run", str(old), "--run", str(new)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    committed = (new / f"diff-{old.name}.md").read_text()
    cost_lines = [line for line in committed.splitlines() if line.startswith("| cost")]
    assert cost_lines and all("$" in line for line in cost_lines)
    for line in cost_lines:
        assert line in result.stdout


# The model inside the JSON that codex sends as a string: its turn metadata header, and the same in each request's
# client_metadata (a string within the body's JSON: escaped once more on a line of traffic.jsonl).
IN_A_STRING = (r"\"model\":\"gpt-6.1-sol\"", r"\"model\":\"gpt-6.2-sol\"")


def test_json_held_in_a_string_is_diffed_key_by_key_in_the_config_and_the_headers(tmp_path):
    for run in (CODEX_169, CODEX_HTTP):  # over a WebSocket and over HTTP
        changed = copy_run(run, tmp_path / run.name, lambda text: text.replace(*IN_A_STRING))
        text, _ = diff_runs(run, changed)
        rows = [line for line in text.splitlines() if line.startswith("| `")]
        assert rows == [
            '| `client_metadata.x-codex-turn-metadata.model` | `"gpt-6.1-sol"` | `"gpt-6.2-sol"` |',
            '| `x-codex-turn-metadata: model` | `"gpt-6.1-sol"` | `"gpt-6.2-sol"` |',
        ], text
        assert "- Structural changes: request shape, headers" in text


def test_a_cell_never_holds_a_long_blob_and_json_nests_in_strings_at_any_depth(tmp_path):
    def held(model, effort, k):  # a string holding JSON holding a string holding JSON, and a list of such strings
        inner = json.dumps({"model": model, "deeper": json.dumps({"effort": effort, "x": "y" * 5_000})})
        return {"meta": json.dumps({"held": inner, "list": [json.dumps({"k": k})]})}

    old, new = held("m1", "low", 1), held("m2", "high", 2)
    paths = {path: (before, after) for path, before, after in value_changes(old, new)}
    assert paths == {"meta.held.model": ("m1", "m2"), "meta.held.deeper.effort": ("low", "high"),
                     "meta.list.0.k": (1, 2)}  # fmt: skip
    # Values too long for a cell are cut, with their length; a string holding no JSON is compared as it is.
    huge = copy_run(CODEX_169, tmp_path / "huge", lambda text: text.replace(*IN_A_STRING).replace(
        r'\"reasoning_effort\":\"low\"', r'\"reasoning_effort\":\"' + "z" * 3_000 + r'\"'))  # fmt: skip
    text, _ = diff_runs(CODEX_169, huge)
    cells = [cell for line in text.splitlines() if line.startswith("|") for cell in line.split(" | ")]
    assert max(map(len, cells)) < 260 and "(3,002 characters)" in text, text
