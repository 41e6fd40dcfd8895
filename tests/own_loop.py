"""A coroutine run to its end on an event loop of its own, in a thread of its own: a test that drives an async client
(the MCP SDK's) then works whatever loop an earlier test left running on the worker's thread (Playwright's sync API
leaves one), where asyncio.run() refuses."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run_apart(coroutine: Coroutine) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
