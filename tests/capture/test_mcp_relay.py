"""The stdio MCP relay, run for real between a test standing in for the agent and real server processes (the
tests' own MCP server, and small scripts that misbehave): what passes is the bytes unchanged and at once, what is
recorded is each message masked, and a server that fails shows the agent what it would have shown without us."""

import json
import os
import queue
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PROJECT_ROOT

from probe.capture.mcp.record_lines import McpRecord
from probe.capture.mcp.relay import DONE, record_copies

MCP_SERVER = PROJECT_ROOT / "tests" / "data" / "mcp_server.py"
SECRET = "sk-proj-Zq8XvT4mN2pL7wR9kJ3hF6dS1aG5cB0eYuIoPzXcVbNm"  # masked by its shape
ENV_SECRET = "plain-words-no-shape-4412"  # masked only as the value of a secret-named variable
INITIALIZE = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}\n'


def relay(record: Path, *command: str, env: dict | None = None, name: str = "parcels") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "probe.capture.mcp.relay", str(record), name, "--", *command],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT,
        env=dict(os.environ, **(env or {})),
    )  # fmt: skip


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def lines(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def read_within(stream, seconds: float = 10) -> bytes:
    """What the stream has to read within `seconds`, at once: a relay that held bytes back would give none."""
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, "nothing passed on"
    return os.read(stream.fileno(), 1 << 20)


def test_the_bytes_pass_unchanged_and_at_once_and_each_message_is_recorded(tmp_path):
    record = tmp_path / "mcp.jsonl"
    calls = (
        INITIALIZE
        + b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_numbers","arguments":{"a":2,"b":3}}}\n'
    )
    direct = subprocess.run([sys.executable, str(MCP_SERVER)], input=calls, capture_output=True).stdout
    process = relay(record, sys.executable, str(MCP_SERVER))
    process.stdin.write(INITIALIZE)
    process.stdin.flush()
    first = read_within(process.stdout)  # answered while the agent's side is still open
    process.stdin.write(calls[len(INITIALIZE) :])
    process.stdin.close()
    rest = process.stdout.read()
    assert process.wait(10) == 0
    assert first + rest == direct and first == direct.splitlines(keepends=True)[0]
    said = lines(record)
    assert said[0]["event"] == "started" and said[0]["command"] == [sys.executable, str(MCP_SERVER)]
    assert said[0]["pid"] > 0 and all(line["server"] == "parcels" and line["transport"] == "stdio" for line in said)
    messages = [(line["from"], line["message"].get("method"), line["size"]) for line in said if "message" in line]
    assert messages == [
        ("agent", "initialize", len(INITIALIZE) - 1),
        ("server", None, len(direct.splitlines()[0])),
        ("agent", "tools/call", len(calls) - len(INITIALIZE) - 1),
        ("server", None, len(direct.splitlines()[1])),
    ]
    assert said[4]["message"]["result"] == {"content": [{"type": "text", "text": 'add_numbers: {"a": 2, "b": 3}'}]}
    assert said[-1] == {**said[-1], "event": "exited", "code": 0, "signal": None}
    assert oct(record.stat().st_mode & 0o777) == "0o600"


def test_a_line_without_its_newline_passes_at_once(tmp_path):
    """A server that writes half a line and waits: the agent gets the half at once (no line buffering)."""
    server = script(tmp_path, "half.py", "import sys\nsys.stdout.write('{\"jsonrpc\": \"2.0\", ')\nsys.stdout.flush()\n"
                    "sys.stdin.readline()\nsys.stdout.write('\"id\": 1, \"result\": {}}\\n')\n")  # fmt: skip
    process = relay(tmp_path / "mcp.jsonl", sys.executable, server)
    assert read_within(process.stdout) == b'{"jsonrpc": "2.0", '
    process.stdin.write(b"\n")
    process.stdin.close()
    assert process.stdout.read() == b'"id": 1, "result": {}}\n' and process.wait(10) == 0
    [message] = [line for line in lines(tmp_path / "mcp.jsonl") if "message" in line]
    assert message["message"] == {"jsonrpc": "2.0", "id": 1, "result": {}} and message["size"] == 41


def test_a_secret_the_server_returns_is_masked_in_the_record_and_passed_to_the_agent_as_it_is(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text(f"the key is {SECRET}; the password is {ENV_SECRET}\n")
    server = script(tmp_path, "reader.py", "import json, sys\nfor line in sys.stdin:\n    m = json.loads(line)\n"
                    f"    text = open({str(notes)!r}).read()\n"
                    "    print(json.dumps({'jsonrpc': '2.0', 'id': m['id'], 'result': {'content': [{'type': 'text', "
                    "'text': text}], 'nested': json.dumps({'inner': text})}}), flush=True)\n")  # fmt: skip
    record = tmp_path / "mcp.jsonl"
    process = relay(record, sys.executable, server, env={"NOTES_PASSWORD": ENV_SECRET})
    out, _ = process.communicate(b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read"}}\n', 10)
    assert SECRET in out.decode() and ENV_SECRET in out.decode()  # the agent gets what the server said
    text = record.read_text()
    assert SECRET not in text and ENV_SECRET not in text
    [answer] = [line for line in lines(record) if line.get("from") == "server"]
    content = answer["message"]["result"]["content"][0]["text"]
    assert content.startswith("the key is [REDACTED sha256:") and "the password is [REDACTED sha256:" in content
    assert "[REDACTED sha256:" in json.loads(answer["message"]["result"]["nested"])["inner"]


def test_a_server_that_dies_writes_non_json_and_stderr_is_recorded_as_such(tmp_path):
    server = script(tmp_path, "dies.py", "import sys\nprint('Starting up, hello', flush=True)\n"
                    f"sys.stderr.write('warming up with token {SECRET}\\n' + 'x' * 2_000_000)\n"
                    "sys.stdin.readline()\nsys.exit(3)\n")  # fmt: skip
    record = tmp_path / "mcp.jsonl"
    process = relay(record, sys.executable, server, name="dying")
    out, err = process.communicate(INITIALIZE, 20)
    assert process.returncode == 3 and out == b"Starting up, hello\n"
    first = f"warming up with token {SECRET}\n"
    assert err == (first + "x" * 2_000_000).encode()  # the agent's stderr gets it all, as it was
    said = lines(record)
    [not_json] = [line for line in said if line.get("from") == "server"]
    assert not_json == {**not_json, "not_json": "Starting up, hello", "size": 18}
    assert said[-1] == {**said[-1], "event": "exited", "code": 3, "signal": None}
    kept = (tmp_path / "mcp" / "dying.stderr").read_text()
    assert kept.startswith("warming up with token [REDACTED sha256:") and SECRET not in kept
    masked_first = kept.splitlines(keepends=True)[0]
    more = len(masked_first) + 2_000_000 - 1024 * 1024
    assert (
        kept
        == masked_first
        + "x" * (1024 * 1024 - len(masked_first))
        + f"\n[agent-probe: {more:,} more bytes of stderr not kept]\n"
    )


def test_a_server_that_never_starts_looks_to_the_agent_as_a_failed_spawn(tmp_path):
    record = tmp_path / "mcp.jsonl"
    process = relay(record, str(tmp_path / "no-such-server"), "--flag", name="ghost")
    out, err = process.communicate(INITIALIZE, 10)
    assert process.returncode == 127 and out == b""
    assert err.decode() == f"{tmp_path / 'no-such-server'}: No such file or directory\n"
    [failed] = lines(record)
    assert failed == {**failed, "server": "ghost", "event": "failed", "error": err.decode().strip()}
    not_runnable = tmp_path / "plain.txt"
    not_runnable.write_text("not a program")
    assert relay(record, str(not_runnable)).wait(10) == 126


def test_a_long_line_is_kept_as_its_head_and_size_and_a_batch_as_one_line_a_message(tmp_path):
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"text": f"{SECRET} " + "y" * 5_000_000}})
    server = script(tmp_path, "big.py", "import sys\nsys.stdin.readline()\n"
                    f"sys.stdout.write(open({str(tmp_path / 'big.json')!r}).read() + '\\n')\n"
                    "print('[{\"jsonrpc\": \"2.0\", \"id\": 2, \"result\": {}}, {\"jsonrpc\": \"2.0\", \"method\": "
                    "\"notifications/progress\"}]', flush=True)\n")  # fmt: skip
    (tmp_path / "big.json").write_text(big)
    record = tmp_path / "mcp.jsonl"
    process = relay(record, sys.executable, server)
    out, _ = process.communicate(INITIALIZE, 30)
    assert out.splitlines()[0] == big.encode()
    said = [line for line in lines(record) if line.get("from") == "server"]
    assert said[0] == {**said[0], "message": None, "cut": True, "size": len(big)}
    assert said[0]["head"].startswith('{"jsonrpc": "2.0", "id": 1, "result": {"text": "[REDACTED sha256:')
    assert len(said[0]["head"]) == 2000 and SECRET not in record.read_text()
    assert [(line["batch"], line["message"].get("id")) for line in said[1:]] == [(0, 2), (1, None)]


def test_a_stop_signal_goes_on_to_the_server_and_the_relay_ends_as_it_did(tmp_path):
    # One write of the whole line: print() writes the newline apart, which PYTHONUNBUFFERED passes on apart.
    server = script(tmp_path, "sleeper.py", "import sys, time\nsys.stdout.write('{\"ready\": true}\\n')\n"
                    "sys.stdout.flush()\ntime.sleep(60)\n")  # fmt: skip
    record = tmp_path / "mcp.jsonl"
    process = relay(record, sys.executable, server, name="sleeper")
    assert read_within(process.stdout) == b'{"ready": true}\n'
    started = next(line for line in lines(record) if line.get("event") == "started")
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == -signal.SIGTERM
    assert lines(record)[-1] == {**lines(record)[-1], "event": "exited", "code": None, "signal": "SIGTERM"}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{started['pid']}").exists():
        time.sleep(0.05)
    assert not Path(f"/proc/{started['pid']}").exists()


def test_each_message_is_stamped_when_the_read_that_ended_it_came(tmp_path):
    """The recorder writes after the bytes passed on; a message's time is that of the read that completed its line."""
    record = McpRecord(tmp_path / "mcp.jsonl", "parcels", [])
    copies: queue.Queue = queue.Queue()
    for item in (
        ("agent", b'{"jsonrpc":"2.0","id":1,', 100.0),
        ("agent", b'"method":"ping"}\n', 100.5),
        ("server", b'{"jsonrpc":"2.0","id":1,"result":{}}\n{"jsonrpc":"2.0",', 100.75),
        ("server", b'"method":"notifications/message"}\n', 101.25),
        DONE,
    ):
        copies.put(item)
    record_copies(copies, record, tmp_path / "mcp" / "parcels.stderr")
    said = [(line["from"], line["message"].get("method", "answer"), line["t"]) for line in lines(record.path)]
    assert said == [("agent", "ping", 100.5), ("server", "answer", 100.75), ("server", "notifications/message", 101.25)]


def test_a_quick_servers_answers_are_never_stamped_nor_recorded_before_the_requests(tmp_path):
    record = tmp_path / "mcp.jsonl"
    process = relay(record, sys.executable, str(MCP_SERVER))
    for number in range(2, 202):
        process.stdin.write(b'{"jsonrpc":"2.0","id":%d,"method":"tools/list"}\n' % number)
        process.stdin.flush()
        read_within(process.stdout)
    process.stdin.close()
    assert process.wait(10) == 0
    said = [line for line in lines(record) if "message" in line]
    asked, answered = (
        {line["message"]["id"]: (index, line["t"]) for index, line in enumerate(said) if line["from"] == side}
        for side in ("agent", "server")
    )
    assert sorted(asked) == sorted(answered) == list(range(2, 202))
    assert [number for number in asked if asked[number] > answered[number]] == []


def test_the_relay_reads_the_secret_rules_from_the_captures_cache_not_the_agents_new_one(tmp_path):
    """In a private home the agent's cache is new: listing and compiling the rules there took 2.7 s of CPU before the
    first message was recorded. The server still gets the agent's environment as it is."""
    home = tmp_path / "private-home"
    home.mkdir()
    said = "{'jsonrpc': '2.0', 'id': 1, 'result': {'cache': os.environ.get('XDG_CACHE_HOME')}}"
    server = script(tmp_path, "env.py", f"import json, os, sys\nsys.stdin.readline()\nprint(json.dumps({said}))\n")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    environ = {name: value for name, value in os.environ.items() if name != "XDG_CACHE_HOME"} | {"HOME": str(home)}
    record = tmp_path / "mcp.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "probe.capture.mcp.relay", str(record), "env", "--cache", cache, "--", sys.executable,
         server], input=INITIALIZE, capture_output=True, cwd=PROJECT_ROOT, env=environ, timeout=60,
    )  # fmt: skip
    assert json.loads(done.stdout)["result"] == {"cache": None}
    answer = [line for line in lines(record) if line.get("from") == "server"]
    assert answer[0]["message"]["result"] == {"cache": None}
    assert sorted(str(path.relative_to(home)) for path in home.rglob("*")) == []
