"""resend.md: the recorded answer and each send side by side, the spread of several, and each text against the
recorded one as a unified diff, captured text inert (a fence in it, a tool name with a pipe, a control character)."""

from decimal import Decimal

from probe.analyse.resend_numbers import Answer, spread
from probe.common.errors import inert_lines
from probe.read.conversation import Usage
from probe.write.resend_section import resend_markdown


def answer(number: int, text: str, tools: list[str], output: int, usd: str | None) -> Answer:
    usage = Usage(raw={}, input=1_000, output=output, cache_read=400, cache_write=None)
    return Answer(
        number, 200, "model-a", usage, Decimal(usd) if usd else None, None if usd else "no price", tools, text
    )


def test_the_page_compares_each_send_with_the_recorded_answer_and_keeps_captured_text_inert():
    recorded = answer(3, "Let me look.\n```\nrm -rf /\n```", ["Bash"], 40, "0.0125")
    sends = [
        answer(1, "Let me look.\n```\nls\n```", ["Read|Write"], 30, "0.01"),
        answer(2, "Let me look.\n```\nrm -rf /\n```", ["Bash"], 50, None),
        answer(3, "Let me look.\n\x1b[31mred\x1b[0m", [], 60, "0.02"),
    ]
    page = resend_markdown(["Exchange 3 of `x/y`."], recorded, sends, spread(sends))
    assert "|  | recorded #3 | send 1 | send 2 | send 3 |" in page
    assert "| output tokens | 40 | 30 | 50 | 60 |" in page
    assert "| cache read | 400 | 400 | 400 | 400 |" in page
    assert "| cost | $0.012500 | $0.010000 | unknown (no price) | $0.020000 |" in page
    assert "| tool calls | Bash | Read\\|Write | Bash | none |" in page  # the pipe cannot end the cell
    assert "Over 3 sends: 3 distinct texts, 3 distinct sets of tool calls." in page
    assert "| output tokens | 30 | 50 | 60 |" in page and "| cost | $0.010000 | $0.015000 | $0.020000 |" in page
    # The diff in a fence longer than any inside the texts: the recorded ``` cannot close it.
    assert (
        "````diff\n--- recorded #3\n+++ send 1\n@@ -1,4 +1,4 @@\n Let me look.\n ```\n-rm -rf /\n+ls\n ```\n````"
        in (page)
    )
    assert "Send 2's text is the recorded text, unchanged." in page
    assert "\x1b" not in inert_lines(page) and "\\x1b[31mred" in inert_lines(page)
