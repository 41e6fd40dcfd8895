"""The property tests search with every example on the newest pair and with a share of them elsewhere, and none
escapes the share with a number of its own."""

import ast
from pathlib import Path

import pytest
import search_budget
from search_budget import FLOOR, examples

TESTS = Path(__file__).resolve().parents[1]


CASES = [("", 500, 500), ("1", 500, 500), ("0.2", 500, 100), ("0.2", 300, 60), ("0.2", 50, FLOOR), ("0.2", 8, 8)]


@pytest.mark.parametrize(("share", "full", "expected"), CASES)
def test_a_share_of_the_examples_never_below_the_floor_nor_above_the_full_number(monkeypatch, share, full, expected):
    monkeypatch.setenv("PROBE_EXAMPLES_SHARE", share)
    assert examples(full) == expected


@pytest.mark.parametrize("share", ["0", "1.5", "-0.2"])
def test_a_share_out_of_range_is_refused(monkeypatch, share):
    monkeypatch.setenv("PROBE_EXAMPLES_SHARE", share)
    with pytest.raises(ValueError, match="PROBE_EXAMPLES_SHARE must be above 0 and at most 1"):
        search_budget.share()


def test_every_property_test_takes_its_number_of_examples_from_the_share():
    """A `max_examples` written as a number above the floor would run in full everywhere: it must come from
    examples() (or be left to the profile, which is shared out too)."""
    fixed = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "max_examples":
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value <= FLOOR:
                    continue
                if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "examples":
                    continue
                fixed.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert fixed == []
