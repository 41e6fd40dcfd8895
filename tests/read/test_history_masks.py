"""Masking a request body's long lists item by item across requests (probe.read.history_masks) masks every exchange
exactly as masking each body whole does: on every capture of the readers' corpus, the bundled samples, generated
sessions, and a session whose history, tools and fields carry every credential shape of the secret corpus."""

import copy
import json
import sys
from pathlib import Path

import orjson
import pytest
from secret_corpus import CORPUS as SECRETS

from probe.read import history_reads, masked
from probe.read.history_masks import HistoryMasks
from probe.read.masked import masked_exchange
from probe.read.traffic import iter_exchanges

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(
    path for path in (PROJECT_ROOT / "tests" / "corpus").glob("*/*.jsonl") if not path.name.endswith(".turns.jsonl")
)
SAMPLES = sorted((PROJECT_ROOT / "data").glob("*/*-sample-*/traffic.jsonl"))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from generate_capture import generate, http_entry  # noqa: E402


def masked_both_ways(traffic: Path) -> int:
    """Mask each exchange of `traffic` whole and across requests; assert the two are the same, and that every JSON
    text masking hands on for a masked list (to the history's reading) is the one orjson writes for it. The
    exchanges."""
    histories, count = HistoryMasks(), 0
    history_reads.KNOWN_TEXTS.clear()
    for exchange in iter_exchanges(traffic, []):
        whole = masked_exchange(copy.deepcopy(exchange))
        across = masked_exchange(exchange, histories=histories)
        assert across == whole, f"exchange {exchange.number}"
        assert json.dumps(across.request_body.value) == json.dumps(whole.request_body.value)  # 1 and 1.0 differ here
        assert all(orjson.dumps(value) == text for value, text in history_reads.KNOWN_TEXTS.values())
        count += 1
    return count


@pytest.mark.parametrize("case", [*CASES, *SAMPLES], ids=lambda case: "/".join(case.parts[-3:-1] + (case.stem,)))
def test_each_capture_is_masked_across_requests_as_it_is_whole(case):
    assert masked_both_ways(case) >= 1


@pytest.mark.parametrize("shape", ["codex", "growing", "items"])
def test_generated_sessions_are_masked_across_requests_as_whole(tmp_path, shape):
    traffic = tmp_path / "traffic.jsonl"
    generate(traffic, 1, 6, shape)
    assert masked_both_ways(traffic) >= (1 if shape == "items" else 2)  # (an items request is 4 MB)


def secret_session(tmp_path: Path) -> Path:
    """A growing session that re-sends every credential shape: in messages, tool results, a secret-named field of
    an item, a tool's description, and a long list under a secret name (masked whole, as its name says)."""
    tools = [{"name": f"tool_{index}", "description": f"uses {text}", "input_schema": {}}
             for index, (_, text, _) in enumerate(SECRETS[:10])]  # fmt: skip
    history, lines = [], []
    for turn, (name, text, _secret) in enumerate(SECRETS):
        history.append({"role": "user", "content": [{"type": "text", "text": f"{name}: {text}"}]})
        history.append({"role": "assistant", "content": "ok", "api_key": text[-24:], "n": 1.0 if turn % 2 else 1})
        body = {"model": "m", "tools": tools, "messages": list(history), "api_keys": [text] * 9,
                "metadata": {"token": text}}  # fmt: skip
        lines.append(http_entry(turn + 1, body, [], text="", url="https://x.test/v1/messages"))
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return traffic


def test_a_session_full_of_secrets_is_masked_across_requests_as_whole(tmp_path):
    traffic = secret_session(tmp_path)
    assert masked_both_ways(traffic) == len(SECRETS)
    histories = HistoryMasks()
    last = [masked_exchange(exchange, histories=histories) for exchange in iter_exchanges(traffic, [])][-1]
    written = json.dumps(last.request_body.value)
    assert written.count("[REDACTED sha256:") >= len(SECRETS)
    assert [name for name, _, secret in SECRETS if secret in written] == []


def test_only_what_a_request_adds_is_masked_again(tmp_path, monkeypatch):
    masked_items = []
    whole_mask = masked.masked_json

    def counting(value):
        masked_items.append(len(value) if isinstance(value, list) else 0)
        return whole_mask(value)

    monkeypatch.setattr(masked, "masked_json", counting)
    histories = HistoryMasks()
    exchanges = list(iter_exchanges(secret_session(tmp_path), []))
    for exchange in exchanges[:12]:
        masked_exchange(exchange, histories=histories)
    # The tools (10) are masked once; the messages (2 items a turn) with the rest of the body until they are 8
    # long, then whole once, then 2 items a request; the rest of the body (a dict) each time.
    lists = [count for count in masked_items if count]
    assert lists == [10, 8] + [2] * 8, lists
