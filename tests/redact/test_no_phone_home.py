"""agent-probe sends nothing it was not asked to: with an empty cache (the first run on a machine), reading and
importing captures behind a proxy that records and refuses every connection reach no host at all, the maintained
secret scanner's rule listing included (its binary would otherwise ask GitHub for a newer release of itself)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT
from refusing_proxy import RefusingProxy

SAMPLE = PROJECT_ROOT / "data/codex/20261125-122558-sample-websocket"


@pytest.fixture
def fresh_machine(tmp_path):
    """An empty home and cache, every proxy variable pointing at the refusing proxy."""
    proxy = RefusingProxy()
    environ = {name: value for name, value in os.environ.items() if not name.startswith("XDG_CACHE")}
    environ |= {"HOME": str(tmp_path / "home"), "PROBE_DATA_DIR": str(tmp_path / "data")}
    yield proxy, proxy.environment(environ), tmp_path
    proxy.close()


def har_of_one_exchange() -> dict:
    body = json.dumps({"model": "gpt-5", "input": "hi", "stream": False})
    answer = json.dumps({"id": "resp_1", "object": "response", "model": "gpt-5", "output": [],
                         "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}})  # fmt: skip
    headers = [{"name": "content-type", "value": "application/json"}]
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [{
        "startedDateTime": "2026-01-01T00:00:00.000Z", "time": 10, "cache": {},
        "timings": {"send": 1, "wait": 8, "receive": 1},
        "request": {"method": "POST", "url": "https://api.openai.com/v1/responses", "httpVersion": "HTTP/1.1",
                    "headers": headers, "queryString": [], "cookies": [], "headersSize": -1, "bodySize": len(body),
                    "postData": {"mimeType": "application/json", "text": body}},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": headers,
                     "cookies": [], "content": {"size": len(answer), "mimeType": "application/json", "text": answer},
                     "redirectURL": "", "headersSize": -1, "bodySize": len(answer)},
    }]}}  # fmt: skip


def test_reading_and_importing_on_a_fresh_machine_reach_no_host(fresh_machine):
    proxy, environ, folder = fresh_machine
    run = folder / "data" / "codex" / SAMPLE.name
    shutil.copytree(SAMPLE, run)
    har = folder / "recording.har"
    har.write_text(json.dumps(har_of_one_exchange()))
    for command in (["probe.analysis.analyze", "--run", str(run)], ["probe.import_capture", str(har)]):
        result = subprocess.run([sys.executable, "-m", *command], cwd=PROJECT_ROOT, env=environ, capture_output=True,
                                text=True, timeout=300)  # fmt: skip
        assert result.returncode == 0, result.stderr
    # The scanner's rules were listed here, into the empty cache: the path that used to reach out ran.
    [listing] = (folder / "home/.cache/agent-probe").glob("secret-rules-kingfisher-*.json")
    assert len(json.loads(listing.read_text())) > 100
    assert "gpt-5" in (run / "report.md").read_text()
    [imported] = (folder / "data" / "imported").iterdir()
    assert "- Totals: 1 exchange" in (imported / "report.md").read_text()
    assert proxy.seen == []
