"""What the mock model says, how it cuts text into streamed deltas, and its ids; shared by every API."""

import re
import uuid

# A block of context an agent wraps in a tag of its own and sends beside what the user typed (<system-reminder>,
# <current_datetime>, <environment_context>, …): a whole element on lines of its own, the same tag closing it (a tag
# inside a line the user typed stays).
CONTEXT_BLOCK = re.compile(r"^[ \t]*<([A-Za-z_][\w.:-]*)(?:\s[^<>\n]*)?>.*?</\1>[ \t]*$", re.DOTALL | re.MULTILINE)

SUMMARY_TAG = "summary"


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


def typed_words(texts: list[str]) -> str:
    """What the user typed, among the texts of a user message: each text without the context blocks agents wrap in
    tags of their own, the parts left empty dropped. A message made of such blocks only is given whole."""
    own = [CONTEXT_BLOCK.sub("", text).strip() for text in texts]
    return "\n".join(text for text in own if text) or "\n".join(text for text in texts if text)


def final_answer_text(prompt: str) -> str:
    # The first line of the user's words, past a heading an agent puts before them (smolagents' "New task:").
    lines = [line.strip() for line in prompt.strip().splitlines() if line.strip()]
    topic = next((line for line in lines if not line.endswith(":")), lines[0] if lines else "your request")[:120]
    return (
        f'Here is my answer to "{topic}" (from the agent-probe mock model):\n\n'
        '```python\ndef hello_world() -> str:\n    return "Hello, world!"\n```\n'
    )


def summary_text(topic: str) -> str:
    """The mock's summary of a conversation it is asked to compact."""
    topic = topic.strip().splitlines()[0][:120] if topic.strip() else "a request"
    return f'Summary of the conversation so far (from the agent-probe mock model): the user asked "{topic}".'


def tagged_summary(asked: str, topic: str) -> str | None:
    """The answer to a request for a summary inside a tag (Claude Code's compaction asks for an <analysis> block
    then a <summary> block), or None when `asked` names no such tag."""
    if f"<{SUMMARY_TAG}>" not in asked:
        return None
    analysis = "<analysis>\nThe conversation is summed up below.\n</analysis>"
    return f"{analysis}\n\n<{SUMMARY_TAG}>\n{summary_text(topic)}\n</{SUMMARY_TAG}>\n"
