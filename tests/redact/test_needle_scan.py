"""The needle scan finds exactly what a `find` of each needle would, with Hyperscan, with RE2 and with neither, in
any text."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.redact import needle_scan
from probe.redact.needle_scan import Finder, Haystack

NEEDLES = [(b"sk-", False), (b"sk_", False), (b"gsk_", False), (b"eyJ", False), (b"bearer", True), (b"key=", True)]
# (RE2 over text would also take the Kelvin sign, \xe2\x84\xaa, for a k when ignoring case; bytes.lower() does not.)


def every_start(text: bytes, needle: bytes, ignore_case: bool) -> list[int]:
    haystack = text.lower() if ignore_case else text
    return [index for index in range(len(text)) if haystack.startswith(needle, index)]


def expected(text: bytes) -> dict[int, list[int]]:
    found = {index: every_start(text, needle, ignore_case) for index, (needle, ignore_case) in enumerate(NEEDLES)}
    return {index: places for index, places in found.items() if places}


def finder_by(engine: str) -> Finder:
    scan = Finder(NEEDLES)
    # Hyperscan and RE2 are dependencies: their absence must not go unnoticed here.
    assert scan.fast is not None and scan.union is not None
    if engine != "hyperscan":
        scan.fast = None
    if engine == "find":
        scan.union = None
    return scan


ENGINES = ["hyperscan", "re2", "find"]


@pytest.fixture(params=ENGINES)
def finder(request):
    return finder_by(request.param)


@given(
    st.lists(
        st.sampled_from(
            [
                b"sk-",
                b"gsk_",
                b"eyJ",
                b"BeArEr",
                b"KEY=",
                b"s",
                b"k",
                b"-",
                b"x",
                b"\n",
                b"\xff",
                b"\xe2\x84\xaa",
                b"ey=",
            ]
        )
    )
)
@settings(max_examples=examples(300), deadline=None)
def test_every_occurrence_is_found_overlapping_and_ignoring_case(pieces):
    text = b"".join(pieces)
    for engine in ENGINES:
        scan = finder_by(engine)
        assert scan.positions(text) == expected(text)
        assert scan.any_in(text) == bool(expected(text))


def test_a_large_text_is_scanned_by_its_sparse_bytes_with_the_same_result(finder, monkeypatch):
    monkeypatch.setattr(needle_scan, "SHORT", 0)  # the choice of bytes is made even for this small text
    generator = random.Random(7)
    words = [b"task-runner", b"ask", b"sk-abc", b"gsk_x", b"eyJhb", b"Bearer", b"monkey=1", b"x" * 50, b"\n"]
    text = b" ".join(generator.choice(words) for _ in range(20000))
    assert finder.positions(text) == expected(text)


def test_a_byte_the_sample_missed_is_not_followed_past_its_limit(monkeypatch):
    monkeypatch.setattr(needle_scan, "SHORT", 0)
    text = b"a" * 20000 + b"-" * 5000 + b"sk-" * 10  # '-' is absent from the sample, then common
    haystack = Haystack(text)
    assert haystack.positions(b"sk-") == [25000 + 3 * index for index in range(10)]
    assert haystack.sparse[ord("-")] is None and haystack.sparse[ord("k")] == [25001 + 3 * index for index in range(10)]
