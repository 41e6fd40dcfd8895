"""The live viewer: report.html's page served from 127.0.0.1 behind a token, growing while a real capture records,
with the same data report.html has; report.html itself still asks for nothing."""

import http.client
import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, post_json, wait_for
from playwright.sync_api import expect
from test_live_feed import start_proxies_script, stop
from test_viewer import assert_quiet

from probe.analyse.prices_kept import keeping_prices
from probe.analysis.report import viewer_reading, write_report
from probe.runs.targets import load_target
from probe.write.live.run_data import LiveData
from probe.write.live.viewer import open_viewer
from probe.write.viewer.headless import open_page

SAMPLE = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"
ITEST = "tests/data/itest.yaml"
DATA = re.compile(rb'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)
URL = re.compile(r"live viewer: (http://127\.0\.0\.1:(\d+)/([A-Za-z0-9_-]+)/) \(Ctrl-C stops it\)")
SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Posts one request through the proxy, waits at a gate the test opens, then posts a second: each with a marker.
CLIENT = textwrap.dedent(
    """
    import json, os, sys, time, urllib.request
    from pathlib import Path

    gate = Path(sys.argv[1])
    url = os.environ["PROBE_PROXY_URL"] + "/v1/responses"

    def post(text):
        body = json.dumps({"model": "m", "input": text, "stream": True}).encode()
        request = urllib.request.Request(url, body, {"content-type": "application/json"})
        urllib.request.urlopen(request, timeout=60).read()

    post("first question live-marker-one")
    (gate / "first-done").touch()
    while not (gate / "go").exists():
        time.sleep(0.01)
    post("second question live-marker-two")
    while not (gate / "again").exists():
        time.sleep(0.01)
    post("third question live-marker-three")
    """
)


def sample_run(folder: Path) -> Path:
    """A copy of a finished codex run (its capture and manifest only): nothing derived from it yet."""
    run = folder / "codex" / SAMPLE.name
    run.mkdir(parents=True)
    for name in ("traffic.jsonl", "manifest.json"):
        shutil.copy(SAMPLE / name, run / name)
    return run


def report_data(run: Path, folder: Path) -> dict:
    """The data report.html of `run` holds, written into `folder`, priced as analyze prices it (a run recorded
    against the mock: with the mock's price file)."""
    folder.mkdir()
    with keeping_prices(run, []):
        report, _ = write_report(run / "traffic.jsonl", folder / "report.md", load_target("codex"), run)
    return json.loads(DATA.search(report.with_suffix(".html").read_bytes()).group(1))


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    answer = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return answer


def ended(port: int, token: str) -> bool:
    status, _, body = get(port, f"/{token}/since?values=0&turns=0&version=0")
    return status == 200 and json.loads(body)["ended"]


def live_viewer(run: Path, target: str | None):
    reading, job = viewer_reading(run, load_target(target) if target else None)
    return open_viewer(LiveData(job.traffic, reading, job.warnings))


# ---- the server, in this process -------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    viewer = live_viewer(sample_run(tmp_path / "data"), "codex")
    server = viewer.server
    assert wait_for(lambda: ended(server.port, server.token))
    yield viewer
    viewer.close()


def test_the_page_holds_what_report_html_holds_and_the_news_only_what_is_new(served, tmp_path):
    server = served.server
    status, headers, page = get(server.port, f"/{server.token}/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert SAFE_HEADERS.items() <= headers.items()
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert b"connect-src 'self'" in page and b'<meta name="live" content="since">' in page
    live = json.loads(DATA.search(page).group(1))
    written = report_data(served.data.run, tmp_path / "report")
    assert live == written  # the same reading, the same values, turns and header
    assert len(live["turns"]) == 3 and live["header"]["insight"]["run"]["agents"] == 1
    # What a page lacks that holds the first turn: the last two, and the values only they name.
    values, turns = len(live["values"]), len(live["turns"])
    first = live["turns"][0]
    named = [*first["input"], *first["output"], *first["tools"], first["system"], first["config"]]
    first_values = 1 + max(named + [first["request_headers"], first["response_headers"]])
    assert first_values < values
    status, headers, body = get(server.port, f"/{server.token}/since?values={first_values}&turns=1&version=-1")
    news = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json" and news["ended"] is True
    assert [turn["n"] for turn in news["data"]["turns"]] == [2, 3]
    assert news["data"]["turns"] == live["turns"][1:]
    assert news["data"]["values"] == live["values"][first_values:]
    assert news["data"]["header"] == live["header"]
    # Nothing new, and the header it has: nothing but the version.
    status, _, body = get(server.port, f"/{server.token}/since?values={values}&turns={turns}&version={news['version']}")
    assert json.loads(body) == {
        "version": news["version"],
        "ended": True,
        "data": {"schema": 1, "header": None, "values": [], "turns": []},
    }
    status, _, body = get(server.port, f"/{server.token}/since?values={values + 1}&turns=0&version=0")
    assert (status, body) == (400, b"more values or turns than the run holds\n")


def test_no_token_a_wrong_token_or_another_host_is_refused(served):
    server, port = served.server, served.server.port
    for path, host in [
        ("/", None),
        ("/since?values=0&turns=0&version=0", None),
        (f"/{server.token[:-1]}/", None),  # one character short
        (f"/{server.token}x/", None),
        (f"/{server.token}", None),  # the token, but not the page under it
        (f"/{server.token}/", f"evil.example:{port}"),  # a name rebound to 127.0.0.1
        (f"/{server.token}/", "127.0.0.1"),  # another port's
        (f"/{server.token}/", f"127.0.0.1:{port + 1}"),
    ]:
        status, headers, body = get(port, path, host)
        assert status == 403, (path, host)
        assert body.startswith(b"forbidden: ") and b"<" not in body and server.token.encode() not in body
        assert SAFE_HEADERS.items() <= headers.items()
        assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    # The right token, by either name of this machine's loopback.
    status, _, page = get(port, f"/{server.token}/", f"localhost:{port}")
    assert status == 200 and b'id="probe-data"' in page
    assert get(port, f"/{server.token}/elsewhere")[0] == 404
    # A request without a Host, and a method other than GET.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"GET /{server.token}/ HTTP/1.1\r\n\r\n".encode())
        assert raw.recv(100).startswith(b"HTTP/1.1 403 ")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", f"/{server.token}/since", b"{}")
    response = connection.getresponse()
    assert response.status == 501 and response.getheader("X-Content-Type-Options") == "nosniff"
    connection.close()


def listening(port: int) -> list[str]:
    """The local addresses listening on `port`, as the kernel lists them (/proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _remote, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.append(address)
    return found


def test_it_listens_on_127_0_0_1_only(served):
    server = served.server
    assert server.socket.family == socket.AF_INET and server.socket.getsockname() == ("127.0.0.1", server.port)
    assert listening(server.port) == ["0100007F"]  # 127.0.0.1, and neither 0.0.0.0 nor any IPv6 address


def news(viewer) -> dict:
    status, _, body = get(viewer.server.port, f"/{viewer.server.token}/since?values=0&turns=0&version=-1")
    assert status == 200
    return json.loads(body)


def test_a_run_another_process_records_grows_until_that_process_closes_it(tmp_path):
    process, urls = start_proxies_script(tmp_path, "--mock-transport", "http", "--quiet")
    viewer = live_viewer(tmp_path / "run", ITEST)
    try:
        assert news(viewer)["data"]["turns"] == [] and not news(viewer)["ended"]
        for text in ("first live-marker-one", "second live-marker-two"):
            status, _, _ = post_json(urls["model"], "/v1/responses", {"model": "m", "input": text, "stream": True})
            assert status == 200
        assert wait_for(lambda: len(news(viewer)["data"]["turns"]) == 2, timeout=10)
        now = news(viewer)
        assert not now["ended"] and dict(now["data"]["header"]["facts"])["Status"] == "running"
        texts = json.dumps(now["data"]["values"])
        assert "live-marker-one" in texts and "live-marker-two" in texts
        stop(process)
        assert wait_for(lambda: news(viewer)["ended"], timeout=10)
        facts = dict(news(viewer)["data"]["header"]["facts"])
        assert facts["Status"] == "complete" and facts["Totals"].startswith("2 exchanges (2 HTTP")
    finally:
        viewer.close()
        if process.poll() is None:
            stop(process)


# ---- in Chromium ----------------------------------------------------------------------------------------


def started(data_dir: Path, module: str, *arguments: str, program: str = "") -> tuple[subprocess.Popen, queue.Queue]:
    """`python -m module arguments` with its own data folder (and `program`'s folder first on PATH), and the lines
    of its stdout as they come."""
    env = dict(os.environ, PROBE_DATA_DIR=str(data_dir))
    if program:
        env["PATH"] = f"{Path(program).parent}{os.pathsep}{env['PATH']}"
    process = subprocess.Popen(
        [sys.executable, "-m", module, *arguments], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    return process, lines


def next_line(lines: queue.Queue, pattern: re.Pattern, timeout: float = 60) -> re.Match:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        match = pattern.search(line)
        if match:
            return match


def complete_lines(traffic: Path) -> int:
    return traffic.read_bytes().count(b"\n") if traffic.exists() else 0


def interrupted(process: subprocess.Popen) -> str:
    """Ctrl-C, as a person stops a live viewer; what it said on stderr."""
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=60)[1]


def assert_stopped_cleanly(process: subprocess.Popen, stderr: str, port: str) -> None:
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(port)), timeout=5)


@pytest.mark.browser
def test_a_finished_exchange_shows_in_the_open_page_within_a_second(browser, private_data_dir, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (tmp_path / "client.py").write_text(CLIENT)
    command = shlex.join([sys.executable, str(tmp_path / "client.py"), str(gate)])
    process, lines = started(
        private_data_dir, "probe.pipeline", "--target", ITEST, "--upstream", "mock", "--view", "--quiet",
        "--timeout", "120", "--command", command,
    )  # fmt: skip
    try:
        url, port, _token = next_line(lines, URL).groups()
        [run] = (private_data_dir / "itest").iterdir()
        traffic = run / "traffic.jsonl"
        assert wait_for(lambda: (gate / "first-done").exists() and complete_lines(traffic) == 1)
        watched = open_page(browser, url)
        page = watched.page
        expect(page.locator("#turn")).to_contain_text("live-marker-one", timeout=5000)
        expect(page.locator("#turn-count")).to_have_text("1 of 1 turn")
        expect(page.locator("#live-status")).to_contain_text("live: 1 exchange, updated ")
        assert "live-marker-two" not in watched.text("body")

        expect(page.locator("#run dl.facts")).to_contain_text("running")
        (gate / "go").touch()
        assert wait_for(lambda: complete_lines(traffic) == 2, interval=0.002)
        written = time.monotonic()  # the second exchange's line is in traffic.jsonl, whole
        page.wait_for_selector('#timeline .row[data-turn="2"]', timeout=2000)
        shown = time.monotonic() - written
        print(f"exchange #2 shown {shown * 1000:.0f} ms after its line was written")
        assert shown < 1.0
        assert page.locator('#timeline .row[data-turn="2"] .where').inner_text().startswith("POST /v1/responses → 200")
        expect(page.locator("#turn-count")).to_have_text("2 of 2 turns")
        expect(page.locator(".row.selected .n")).to_have_text("#1")  # the page does not jump away from what is read
        page.locator('#timeline .row[data-turn="2"]').click()
        expect(page.locator("#turn")).to_contain_text("live-marker-two")
        expect(page.locator("#turn h2")).to_contain_text("#2 POST")
        expect(page.locator("[data-fact='turns'] dd")).to_have_text(re.compile(r"^2 \("))  # the overview follows

        # A search finds in the turns that come after it, and the list shows them.
        page.fill("#search", "live-marker-three")
        expect(page.locator("#search-count")).to_have_text("no hits")
        expect(page.locator("#timeline .row")).to_have_count(0)
        (gate / "again").touch()
        expect(page.locator("#timeline .row")).to_have_count(1)
        assert page.locator("#timeline .row .n").inner_text() == "#3"
        expect(page.locator("#search-count")).to_have_text(re.compile(r"^[1-9]\d* hits?$"))
        expect(page.locator(".row.selected .n")).to_have_count(0)  # #2, filtered out, is still the one shown
        page.locator("#search").press("Enter")
        expect(page.locator("#search-count")).to_have_text(re.compile(r"^1 of [1-9]\d* hits?$"))
        expect(page.locator("#turn h2")).to_contain_text("#3 POST")
        assert page.locator("mark.current").inner_text() == "live-marker-three"
        page.locator("#search").press("Escape")
        expect(page.locator("#timeline .row")).to_have_count(3)

        next_line(lines, re.compile(r"the run ended; the live viewer stays at " + re.escape(url)))
        expect(page.locator("#live-status")).to_have_text("the run ended: 3 exchanges", timeout=5000)
        facts = dict(page.evaluate("DATA.header.facts"))
        assert facts["Status"] == "complete" and facts["Totals"].startswith("3 exchanges (3 HTTP")
        shown_facts = page.locator("#run dl.facts").inner_text()  # the Run panel, built again from the last header
        assert "complete" in shown_facts and "running" not in shown_facts and "3 exchanges (3 HTTP" in shown_facts
        assert page.evaluate("DATA.header.insight.run.agents") == 1
        assert watched.asked and all(asked.startswith(url + "since?values=") for asked in watched.asked)
        assert_quiet(watched)
        watched.page.context.close()
    finally:
        stderr = interrupted(process)
    assert_stopped_cleanly(process, stderr, port)


@pytest.fixture
def slow_mock():
    """The mock on its own, streaming an event every 150 ms: codex's final answer then takes seconds to arrive, and
    the exchanges before it are finished while codex still runs. Its URL."""
    mock = subprocess.Popen(
        [sys.executable, "-m", "probe.mock", "--port", "0", "--transport", "http", "--event-delay-ms", "150"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = mock.stdout.readline()
    assert line.startswith("mock listening on "), line
    yield line.split("mock listening on ", 1)[1].strip()
    mock.terminate()
    mock.wait(timeout=10)


@pytest.mark.browser
def test_a_real_codex_run_shows_in_the_page_while_codex_runs(browser, codex_program, slow_mock, private_data_dir):
    process, lines = started(
        private_data_dir, "probe.pipeline", "--target", "codex", "--upstream", slow_mock, "--port", "model=0",
        "--port", "backend=0", "--view", "--quiet", "--timeout", "120", "--prompt", "write a hello world function",
        program=codex_program,
    )  # fmt: skip
    try:
        url, port, _token = next_line(lines, URL).groups()
        watched = open_page(browser, url)  # before codex's first exchange has ended
        page = watched.page
        [run] = (private_data_dir / "codex").iterdir()
        traffic = run / "traffic.jsonl"
        delays = []
        for n in (1, 2, 3):
            assert wait_for(lambda n=n: complete_lines(traffic) >= n, timeout=60, interval=0.002)
            written = time.monotonic()
            page.wait_for_selector(f'#timeline .row[data-turn="{n}"]', timeout=5000)
            delays.append(time.monotonic() - written)
            if n < 3:  # codex waits for the answer still streaming to it: it runs, and the page shows #n already
                assert complete_lines(traffic) == n
                expect(page.locator("#run dl.facts")).to_contain_text("running")
        print("exchanges shown " + ", ".join(f"{delay * 1000:.0f}" for delay in delays) + " ms after their lines")
        # (How soon is a figure for the bench, not a pass or fail here: a loaded machine is slower, not wrong. That
        # each exchange shows while codex is still running, before the next line is written, is asserted above.)
        # codex's exchanges as they are: the WebSocket it was refused, the tool call, the answer.
        where = page.locator("#timeline .row .where").all_inner_texts()
        assert where[0].startswith("GET /v1/responses → 426") and where[1].startswith("POST /v1/responses → 200")
        assert page.locator('#timeline .row[data-turn="2"] .calls').inner_text() == "clock.sleep"
        page.locator('#timeline .row[data-turn="3"]').click()
        expect(page.locator("#turn")).to_contain_text('return "Hello, world!"')

        next_line(lines, re.compile(r"the run ended; the live viewer stays at " + re.escape(url)))
        expect(page.locator("#live-status")).to_have_text("the run ended: 3 exchanges", timeout=5000)
        assert dict(page.evaluate("DATA.header.facts"))["Status"].startswith("complete")
        written = json.loads(DATA.search((run / "report.html").read_bytes()).group(1))  # the pipeline's report
        assert page.evaluate("[VALUES, TURNS]") == [written["values"], written["turns"]]
        assert_quiet(watched)
        watched.page.context.close()
    finally:
        stderr = interrupted(process)
    assert_stopped_cleanly(process, stderr, port)


@pytest.mark.browser
def test_report_html_asks_for_nothing(browser, tmp_path):
    run = sample_run(tmp_path / "data")
    write_report(run / "traffic.jsonl", run / "report.md", load_target("codex"), run)
    page_text = (run / "report.html").read_text()
    assert "connect-src 'none'" in page_text and "connect-src 'self'" not in page_text
    assert '<meta name="live" content=' not in page_text
    watched = open_page(browser, run / "report.html")
    watched.page.wait_for_timeout(1000)  # more than two of a live page's questions
    assert watched.page.locator("#live-status").count() == 0
    assert watched.text("#turn-count") == "3 of 3 turns"
    assert watched.asked == []
    assert_quiet(watched)
    watched.page.context.close()


@pytest.mark.browser
def test_invoke_view_live_serves_a_finished_run_whole(browser, private_data_dir, tmp_path):
    run = sample_run(private_data_dir)
    process, lines = started(private_data_dir, "invoke", "view", "--live", "--run", SAMPLE.name)
    try:
        url, port, token = next_line(lines, URL).groups()
        assert wait_for(lambda: ended(int(port), token))
        _, _, page = get(int(port), f"/{token}/")
        assert json.loads(DATA.search(page).group(1)) == report_data(run, tmp_path / "report")
        watched = open_page(browser, url)
        expect(watched.page.locator("#live-status")).to_have_text("the run ended: 3 exchanges")
        assert watched.text("#turn-count") == "3 of 3 turns"
        assert [row.inner_text() for row in watched.page.locator("#timeline .row .n").all()] == [
            f"#{n}" for n in range(1, 4)
        ]
        watched.page.keyboard.press("G")
        expect(watched.page.locator("#turn")).to_contain_text('return "Hello, world!"')
        assert_quiet(watched)
        watched.page.context.close()
    finally:
        stderr = interrupted(process)
    assert_stopped_cleanly(process, stderr, port)
    assert not (run / "report.html").exists()  # it serves; it writes nothing into the run
