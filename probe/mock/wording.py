"""What the mock model says, how it cuts text into streamed deltas, and its ids; shared by every API."""

import uuid
from collections.abc import Container

# Called when the agent declared none of the harmless tools: the call still completes the tool loop, since the
# agent answers it with an error result.
FALLBACK_CALL = ("probe_lookup", {"query": "hello world"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def split_words(text: str) -> list[str]:
    """Split text into deltas that join back to it exactly."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in " \n":
            pieces.append(current)
            current = ""
    return pieces + ([current] if current else [])


def final_answer_text(prompt: str) -> str:
    topic = prompt.strip().splitlines()[0][:120] if prompt.strip() else "your request"
    return (
        f'Here is my answer to "{topic}" (from the agent-probe mock model):\n\n'
        '```python\ndef hello_world() -> str:\n    return "Hello, world!"\n```\n'
    )


def harmless_call(declared: Container[str], harmless: list[tuple[str, dict]]) -> tuple[str, dict]:
    """The first of the `harmless` calls (in order of preference) to a tool the agent declared, else the fallback."""
    return next(((name, arguments) for name, arguments in harmless if name in declared), FALLBACK_CALL)
