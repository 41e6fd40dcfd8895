"""Masking with Hyperscan finding the needles (and ruling out the maintained rules) gives exactly what it gives
without (RE2, or `find`): on the corpus of credential shapes, the masking tests' own texts, and large generated
bodies with secrets planted in them; and the maintained rules' prefilter never rules out a text a rule matches."""

import json
import random
import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from secret_corpus import CORPUS

from probe.redact import maintained, masking, shapes

FINDERS = (shapes.NEEDLE_FINDER, masking.KEY_FINDER, masking.TEXT_FINDER)
TOKENS = [
    "sk-proj-" + "Fa5tScanSecret1234567890abcdef",
    "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "AKIA" + "QYLPMN5HHHFPZAM2",
    "xoxb-" + "1234567890-abcdefghijklmnop",
    "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "c2lnbmF0dXJlc2lnbmF0dXJl",
]


def slow(monkeypatch, engine: str) -> None:
    """The finders without Hyperscan (and, for `find`, without RE2), and the maintained rules without its prefilter."""
    assert maintained.rule_set().prefilter is not None
    monkeypatch.setattr(maintained, "ruled_out", lambda rules, text: False)
    for finder in FINDERS:
        assert finder.fast is not None  # Hyperscan is a dependency: its absence must not go unnoticed here
        monkeypatch.setattr(finder, "fast", None)
        if engine == "find":
            monkeypatch.setattr(finder, "union", None)


def every_masking(data: bytes) -> list:
    return [
        masking.mask_text_lines(data),
        masking.mask_bytes(data),
        masking.mask_body(data, "text/event-stream").data,
        masking.mask_body(data, "application/json").data,
        masking.mask_text(data.decode("utf-8", "replace")),
    ]


def corpus_texts() -> list[bytes]:
    texts = [text.encode() for _, text, _ in CORPUS]
    texts += [f"Authorization: Bearer {token}\nx-api-key: {token}\n".encode() for token in TOKENS]
    texts += [json.dumps({"api_key": token, "nested": {"password": "hunter2hunter2"}}).encode() for token in TOKENS]
    texts.append(b"data: {\\u0022k\\u0022: \\u0022sk-\\u0070roj-abcdefghijklmnopqrstuvwxyz123\\u0022}\n")
    return texts


def generated_bodies() -> list[bytes]:
    generator = random.Random(11)
    words = ["the", "model", "streams", "answer", "word", "task-runner", "ask", "monkey", "key", "\u00e9"]
    bodies = []
    for size in (2_000, 50_000, 400_000):
        events = []
        while sum(map(len, events)) < size:
            delta = " ".join(generator.choice(words) for _ in range(40))
            if generator.random() < 0.02:
                delta += " " + generator.choice(TOKENS)
            event = {"type": "response.output_text.delta", "delta": delta}
            if generator.random() < 0.01:
                event["api_key"] = "plain" + str(generator.random())
            events.append(b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n")
        bodies.append(b"".join(events))
    return bodies


@pytest.mark.parametrize("engine", ["re2", "find"])
def test_masking_with_hyperscan_is_identical_to_masking_without(monkeypatch, engine):
    texts = corpus_texts() + generated_bodies()
    fast = [every_masking(text) for text in texts]
    assert sum(result[0][1] for result in fast) > len(texts)  # secrets were found and masked
    slow(monkeypatch, engine)
    assert [every_masking(text) for text in texts] == fast


def test_the_corpus_secrets_are_masked_with_hyperscan():
    for name, text, secret in CORPUS:
        masked, count = masking.mask_text_lines(text.encode())
        assert secret.encode() not in masked or not count, name


def examples_of(source: str) -> list[str]:
    """An ASCII text matching the pattern as Python reads it (most RE2 patterns read the same); none if it cannot."""
    examples: list[str] = []

    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @given(st.from_regex(source, alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
    def collect(example):
        examples.append(example)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            re.compile(source)
            collect()
        except Exception:
            return []  # RE2 syntax Python lacks, or a pattern Hypothesis cannot draw from
    return examples


@pytest.mark.slow  # over five seconds: CI runs it, `nox -s quick` does not
def test_the_prefilter_keeps_every_text_a_maintained_rule_matches():
    """An example of each rule: wherever RE2's set matches it, the prefilter lets it through."""
    rules = maintained.rule_set()
    checked = 0
    for source in rules.sources:
        for example in examples_of(source):
            data = example.encode()
            if rules.scan.Match(data):
                checked += 1
                assert rules.prefilter.may_match(data), (source, example)
    assert checked > 300
