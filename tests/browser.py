"""A pytest plugin: the headless Chromium that the viewer's tests drive, launched once per test process and shared by
every module (a launch costs seconds; each test opens its pages in a context of its own, so none sees another's)."""

import pytest

from probe.write.viewer.headless import chromium

LAUNCHED = []  # the shared Chromium, once a test has asked for it


@pytest.fixture(scope="session")
def browser():
    with chromium() as launched:
        LAUNCHED.append(launched)
        yield launched
        LAUNCHED.clear()


@pytest.fixture(scope="module", autouse=True)
def pages_closed_with_their_module():
    """Whatever pages a module left open are closed when it ends, as they were when each module had its own
    Chromium: a long session does not keep them all."""
    before = set(LAUNCHED[0].contexts) if LAUNCHED else set()
    yield
    for launched in LAUNCHED:
        for context in launched.contexts:
            if context not in before:
                context.close()
