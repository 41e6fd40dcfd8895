"""How many examples each property test tries: its full number where the whole suite runs, a share of it elsewhere.

A property test's examples are a search for a failing input, not a list of behaviours: the same code paths run in
the first few dozen examples, and the rest look for a rarer shape. The newest pair (tests-3.12) searches with every
example; the older pair and the quick loop set PROBE_EXAMPLES_SHARE to run the same tests, every code path of them
on their Python and mitmproxy, with a share of the search (docs/development.md, "Where each test runs").
"""

import os

from hypothesis import settings

FULL = 1.0
# Below this, a property test would hardly leave its first, simplest examples.
FLOOR = 20


def share() -> float:
    """The share of each property test's examples to run, from PROBE_EXAMPLES_SHARE (0 < share <= 1)."""
    text = os.environ.get("PROBE_EXAMPLES_SHARE", "")
    if not text:
        return FULL
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"PROBE_EXAMPLES_SHARE must be above 0 and at most 1, not {text}")
    return value


def examples(full: int) -> int:
    """A property test's number of examples: `full` where the whole search runs, the share of it (never fewer than
    FLOOR, nor more than full) elsewhere."""
    return full if share() == FULL else min(full, max(FLOOR, round(full * share())))


# Tests that do not name their number get hypothesis's default, shared out the same way. Loaded when the plugin is
# (conftest's pytest_plugins), before any test module is imported and its settings made.
settings.register_profile("probe", max_examples=examples(settings.default.max_examples))
settings.load_profile("probe")
