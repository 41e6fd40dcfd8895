"""What the mock remembers of its recent answers, so that a request continuing one (by its id) is counted as the
whole context the server holds, as a real API counts it, and reads from the cache no more than the prefix the two
share. Bounded: only the newest answers are kept."""

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

REMEMBERED = 1024  # answers; an older id is continued as if the server had forgotten it (counted afresh)


@dataclass(frozen=True)
class Context:
    """One answer's context as the server holds it, in estimated tokens."""

    head: str  # digest of what the request sends afresh every time (instructions, tools): the prefix's start
    head_tokens: int
    conversation_tokens: int  # every input item of the chain so far, and this answer's output


@dataclass(frozen=True)
class Counted:
    """A request's input as the server counts it: all of it, and what the cache read."""

    input_tokens: int
    cached_tokens: int
    conversation_tokens: int  # the chain's input items before this answer's output


def estimate_tokens(value: object) -> int:
    """About four characters of JSON to a token: stable, so the numbers are the same on every run."""
    return len(json.dumps(value)) // 4 if value else 0


class Memory:
    """The newest answers' contexts, by answer id."""

    def __init__(self, size: int = REMEMBERED):
        self.size = size
        self.contexts: OrderedDict[str, Context] = OrderedDict()

    def count(self, previous_id: object, head: dict, new_input: object) -> Counted:
        """How the server counts a request that sends `head` (instructions, tools, …) and `new_input`, continuing
        the answer `previous_id` (None for a fresh request)."""
        head_tokens, new_tokens = estimate_tokens(head), estimate_tokens(new_input)
        earlier = self.contexts.get(previous_id) if isinstance(previous_id, str) else None
        if earlier is None:
            return Counted(max(1, head_tokens + new_tokens), 0, new_tokens)
        conversation = earlier.conversation_tokens + new_tokens
        # The prefix both share: the same instructions and tools, then the whole earlier conversation.
        shared = earlier.head_tokens + earlier.conversation_tokens if earlier.head == digest(head) else 0
        total = max(1, head_tokens + conversation)
        return Counted(total, min(shared, total), conversation)

    def remember(self, answer_id: str, head: dict, counted: Counted, output_tokens: int) -> None:
        self.contexts[answer_id] = Context(digest(head), estimate_tokens(head),
                                           counted.conversation_tokens + output_tokens)  # fmt: skip
        self.contexts.move_to_end(answer_id)
        while len(self.contexts) > self.size:
            self.contexts.popitem(last=False)


def digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
