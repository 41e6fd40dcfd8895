"""What the mock model says, how it cuts text into streamed deltas, and its ids; shared by every API."""

import uuid


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
