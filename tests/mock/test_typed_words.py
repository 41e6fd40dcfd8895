"""The mock quotes what the user typed, whatever each agent wraps around it: a context block in a tag of the agent's
own before or after the prompt, in the same text or a part of its own (Copilot's <current_datetime>, Claude Code's
<system-reminder>, codex's <environment_context>, any other tag), on every API the mock speaks; a tag inside the
user's own line stays."""

import pytest

from probe.mock import chat_api, gemini_api, messages_api, responses_api
from probe.mock.wording import final_answer_text

PROMPT = "write a hello world function"
# The texts of one user message as agents send them: the prompt among context blocks.
WRAPPED = [
    [f"<current_datetime>2026-11-27T05:00:00Z</current_datetime>\n\n{PROMPT}"],
    ["<system-reminder>\nAs you answer, use this context:\n# gitStatus\n</system-reminder>", PROMPT],
    [f'<environment_context>\n  <cwd>/w</cwd>\n</environment_context>\n{PROMPT}\n<user_note kind="x">n</user_note>'],
    [f"  <reminder>one</reminder>\n<other-tag>\ntwo\n</other-tag>\n{PROMPT}", "<Context.v2>three</Context.v2>"],
]


def chat(texts):
    return chat_api.user_prompt({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [
        {"type": "text", "text": text} for text in texts]}]})  # fmt: skip


def messages(texts):
    return messages_api.user_prompt({"messages": [{"role": "user", "content": [
        {"type": "text", "text": text} for text in texts]}]})  # fmt: skip


def responses(texts):
    return responses_api.last_user_text({"input": [{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": text} for text in texts]}]})  # fmt: skip


def gemini(texts):
    return gemini_api.user_prompt({"contents": [{"role": "user", "parts": [{"text": text} for text in texts]}]})


@pytest.mark.parametrize("api", [chat, messages, responses, gemini])
@pytest.mark.parametrize("texts", WRAPPED)
def test_the_mock_finds_the_typed_prompt_among_context_blocks(api, texts):
    assert api(texts) == PROMPT
    assert final_answer_text(api(texts)).startswith(f'Here is my answer to "{PROMPT}"')


@pytest.mark.parametrize("api", [chat, messages, responses, gemini])
def test_a_tag_the_user_typed_stays_and_a_message_of_blocks_only_is_given_whole(api):
    typed = "make <b>this</b> bold and keep </i> as it is"
    assert api([f"<current_datetime>now</current_datetime>\n{typed}"]) == typed
    assert api(["<only-context>x</only-context>"]) == "<only-context>x</only-context>"
