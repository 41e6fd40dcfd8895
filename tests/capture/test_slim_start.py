"""How a capture starts its processes: mitmdump with the recorder's addons alone (probe.capture.slim_mitmdump), and
the mock beside it, on a socket that listens before the mock has started."""

import json
import signal
import socket
import subprocess
import sys
import urllib.request

from probe.capture import processes
from probe.capture.mock_process import spawn_mock
from probe.capture.ports import free_port, port_taken
from probe.capture.proxies import ADDON, find_mitmdump, mitmdump_command

# What the proxy's addons and mitmproxy's loaded addon modules are, once it runs: then it stops itself.
REPORTER = """
import json, sys
from mitmproxy import ctx

def running():
    with open({out!r}, "w") as file:
        json.dump({{"addons": [type(addon).__name__ for addon in ctx.master.addons.chain],
                   "modules": sorted(name for name in sys.modules if name.startswith("mitmproxy.addons."))}}, file)
    ctx.master.shutdown()
"""
RECORDER_ADDONS = [
    "TermLog", "Core", "DisableH2C", "Proxyserver", "ScriptLoader", "NextLayer", "TlsConfig", "UpdateAltSvc",
    "ErrorCheck",
]  # fmt: skip


def test_the_capture_runs_mitmdump_with_the_recorders_addons_alone(tmp_path):
    reporter, out = tmp_path / "reporter.py", tmp_path / "addons.json"
    reporter.write_text(REPORTER.format(out=str(out)))
    port = free_port()
    argv = [*mitmdump_command(find_mitmdump()), "-s", str(ADDON), "-s", str(reporter), "--listen-host", "127.0.0.1"]
    argv += ["--mode", f"reverse:http://127.0.0.1:9/@{port}", "--set", "termlog_verbosity=warn"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text())
    assert seen["addons"] == RECORDER_ADDONS
    # Only theirs: the proxy authentication the recorder's forward proxy checks its clients with is loaded with
    # that proxy's first client (none here).
    loaded = {name.removeprefix("mitmproxy.addons.") for name in seen["modules"]}
    assert loaded == {
        "core", "disable_h2c", "errorcheck", "next_layer", "proxyserver", "script", "termlog", "tlsconfig",
        "update_alt_svc",
    }  # fmt: skip


def test_a_taken_port_ends_the_slim_start_with_mitmdumps_own_line(tmp_path):
    """probe.capture.ports reads mitmdump's line to tell a port taken by another process."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        argv = [*mitmdump_command(find_mitmdump()), "-s", str(ADDON), "--listen-host", "127.0.0.1"]
        argv += ["--mode", f"reverse:http://127.0.0.1:9/@{port}", "--set", "termlog_verbosity=warn"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert port_taken(result.stdout + result.stderr) == port


def test_the_mock_answers_a_request_sent_before_it_has_started():
    starting = spawn_mock("http")
    try:
        # Sent at once: the socket listens already, and the request waits there for the mock.
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
        request = urllib.request.Request(
            starting.url + "v1/chat/completions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        process, url = starting.ready(60)
        assert url == starting.url and process.poll() is None
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0]["message"]["role"] == "assistant"
    finally:
        processes.stop(starting.process, signal.SIGTERM, grace=2)


def test_the_slim_start_is_used_only_for_this_pythons_mitmdump(tmp_path):
    ours = find_mitmdump()
    assert mitmdump_command(ours) == [sys.executable, "-P", "-m", "probe.capture.slim_mitmdump"]
    other = tmp_path / "mitmdump"  # PROBE_MITMDUMP: a mitmdump installed on its own, run as it is
    assert mitmdump_command(str(other)) == [str(other)]
