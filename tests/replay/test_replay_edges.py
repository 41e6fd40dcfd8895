"""The replay's edges: a capture recorded against a stand-in server that is not the project's mock (written here,
framing and wording its answers its own way) replays through the real Qwen Code with the same bytes served; and
Ctrl-C in the middle of a replay leaves no process, folder or half-written manifest behind; and a run of an older
codex replays with the pinned one, as a regression test of the upgrade."""

import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import PROJECT_ROOT

from probe.common.counting import counted
from probe.write.diff import diff_runs

DATA = PROJECT_ROOT / "data"
PROMPT = "write a hello world function"


class OtherServer(BaseHTTPRequestHandler):
    """A Chat Completions server unlike the mock: its stream framed by Content-Length, `data:` lines without a
    space, CRLF line ends, ids of its own, one text answer split in three, and usage in the last chunk."""

    protocol_version = "HTTP/1.1"
    served = 0

    def do_POST(self):  # the name http.server calls
        self.rfile.read(int(self.headers.get("content-length", 0)))
        OtherServer.served += 1
        chunk = {"id": f"other-{OtherServer.served}", "object": "chat.completion.chunk", "created": 1795600000,
                 "model": "gpt-4.1"}  # fmt: skip
        events = [
            {
                **chunk,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}],
            }
            for piece in ("Hello from ", "another ", "server.")
        ]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1234, "completion_tokens": 7, "total_tokens": 1241}})  # fmt: skip
        body = "".join(f"data:{json.dumps(event)}\r\n\r\n" for event in events) + "data:[DONE]\r\n\r\n"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *arguments):
        pass


def invoke(data_dir: Path, program: str, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PROBE_DATA_DIR=str(data_dir), **(env or {}))
    environment["PATH"] = f"{Path(program).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run([sys.executable, "-m", *arguments], cwd=PROJECT_ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_a_capture_against_another_stand_in_replays_with_the_same_bytes(tmp_path, qwen_program):
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtherServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    data = tmp_path / "data"
    key = {"OPENAI_API_KEY": "sk-other-server-not-a-real-key"}  # a server of the user's own: they give the key
    try:
        recorded = invoke(data, qwen_program, "invoke", "pipeline", "-t", "qwen-code", "-p", PROMPT, "--port",
                          "api=0", "-u", f"http://127.0.0.1:{server.server_address[1]}/", "--workdir", "fresh",
                          "--quiet", env=key)  # fmt: skip
    finally:
        server.shutdown()
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    [run] = (data / "qwen-code").iterdir()
    original = [json.loads(line) for line in (run / "traffic.jsonl").read_text().splitlines()]
    assert original and all(line["response"]["body"].startswith("data:{") for line in original)
    # Recorded here, but Qwen Code runs its tools without asking (--yolo): replayed with --trust.
    result = invoke(data, qwen_program, "probe.replay.run", "--run", str(run), "--fast", "--quiet", "--trust")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        result.stderr.strip().splitlines()[-1] == f"replay: every request matched ({counted(len(original), 'request')})"
    )
    [new] = [folder for folder in (data / "qwen-code").iterdir() if folder != run]
    replayed = [json.loads(line) for line in (new / "traffic.jsonl").read_text().splitlines()]
    # The same bytes, framed the same way: the other server's own ids, line ends and Content-Length.
    for before, after in zip(original, replayed, strict=True):
        assert after["response"]["body_sha256"] == before["response"]["body_sha256"]
        assert after["response"]["body"] == before["response"]["body"] and "other-" in after["response"]["body"]
        headers = {name.lower(): value for name, value in after["response"]["headers"]}
        assert headers["content-length"] == str(before["response"]["body_size"]) and "transfer-encoding" not in headers
    assert "Hello from another server." in (new / "report.md").read_text()


def slowed(sample: Path, folder: Path) -> Path:
    """A copy of the codex HTTP sample whose first model answer ends a minute after it starts."""
    run = folder / "codex" / sample.name
    run.mkdir(parents=True)
    (run / "manifest.json").write_bytes((sample / "manifest.json").read_bytes())
    lines = [json.loads(line) for line in (sample / "traffic.jsonl").read_text().splitlines()]
    first = next(line for line in lines if line["request"]["path"].startswith("/v1/responses") and
                 line["response"]["status"] == 200)  # fmt: skip
    first["response"]["chunks"][-1][0] = 60_000.0
    # A stand-in sends nothing later than the answer's recorded duration allows: it took the minute.
    first["timing"]["end"] = first["timing"]["start"] + 61.0
    (run / "traffic.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return run


def leftovers(marker: str) -> list[str]:
    """Processes whose command line or environment names `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            said = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in said:
            found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes()[:200]!r}")
    return found


# What codex shows of the sample's first model answer, from its first events: that answer is then being sent.
SLOW_ANSWER_STARTS = "The user asked for code. I will call sleep once before answering."


class Lines:
    """What a process writes on one of its pipes, read as it comes by a thread of its own, so that a test can wait
    for a line instead of a guessed number of seconds."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.thread.start()

    def read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def shows(self, text: str, timeout: float) -> bool:
        """Whether a line holding `text` comes within `timeout` seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def text(self, timeout: float = 0) -> str:
        """All read so far; after `timeout` seconds at most for the pipe to end, once the process has."""
        self.thread.join(timeout)
        with self.changed:
            return "".join(self.lines)


def test_ctrl_c_in_the_middle_of_a_replay_leaves_nothing_behind(tmp_path, codex_program):
    [sample] = (DATA / "codex").glob("*-sample-http")
    data = tmp_path / "data"
    run = slowed(sample, data)
    temp = tmp_path / "tmp"  # the agent's home and working folder are made here
    temp.mkdir()
    env = dict(os.environ, PROBE_DATA_DIR=str(data), TMPDIR=str(temp))
    env["PATH"] = f"{Path(codex_program).parent}{os.pathsep}{env['PATH']}"
    command = [sys.executable, "-m", "probe.replay.run", "--run", str(run), "--quiet", "--trust"]  # a sample
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout, stderr = Lines(process.stdout), Lines(process.stderr)
    # Wait until codex shows the text at the start of the slow answer: the stand-in is then sending it, paced.
    assert stderr.shows(SLOW_ANSWER_STARTS, timeout=60), stderr.text()[-2000:]
    assert process.poll() is None, stdout.text() + stderr.text()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=90)
    stderr = stderr.text(timeout=30)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    [new] = [folder for folder in (data / "codex").iterdir() if folder != run]
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["ended_at"]
    assert leftovers(str(tmp_path)) == []
    assert sorted(path.name for path in temp.iterdir()) == []


def test_a_run_of_an_older_codex_replays_with_the_pinned_one_and_the_diff_names_what_changed(tmp_path, codex_program):
    [sample] = (DATA / "codex").glob("*-sample-v0.166.0")
    data = tmp_path / "data"
    copy = data / "codex" / sample.name
    copy.mkdir(parents=True)
    for name in ("manifest.json", "traffic.jsonl"):
        (copy / name).write_bytes((sample / name).read_bytes())
    result = invoke(data, codex_program, "probe.replay.run", "--run", str(copy), "--agent-version", "0.169.0",
                    "--fast", "--quiet", "--trust")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # 0.169.0 asks the model the same things, and no longer asks the backend for its featured plugins.
    assert result.stderr.strip().splitlines()[-1] == "replay: every request matched (3 requests)"
    [new] = [folder for folder in (data / "codex").iterdir() if folder != copy]
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["agent"]["version"] == "codex-cli 0.169.0" and manifest["replay"]["not_asked"] == []
    # Free ports, not the target's listen ports (another run, or `invoke proxies`, may hold those).
    assert all(not proxy["url"].endswith((":18080", ":18081")) for proxy in manifest["proxies"])
    text, _ = diff_runs(copy, new)
    assert "- Only in A: `GET /backend-api/plugins/featured` ×1" in text
    assert "| agent | `codex-cli 0.166.0` | `codex-cli 0.169.0` |" in text
