"""The error a replay answers a diverging request with is in its API's own shape: each reader reads the error
body it writes back as that API's error, with the replay's message."""

import pytest
from conftest import Rendering

from probe.apis.anthropic_messages import reader as anthropic_messages
from probe.apis.gemini import reader as gemini
from probe.apis.openai_chat import reader as openai_chat
from probe.apis.openai_responses import reader as openai_responses
from probe.read.sse import Event

MESSAGE = "agent-probe replay: diverged at request 3"


@pytest.mark.parametrize("reader", [anthropic_messages, gemini, openai_chat, openai_responses], ids=lambda r: r.API)
def test_each_api_reads_its_own_error_body_as_an_error(reader):
    turn = Rendering(reader).turn("#1")  # a turn of the reader's API
    reader.read_response(None, reader.error_body(MESSAGE), turn)
    assert MESSAGE in repr(turn.errors)


def test_the_responses_websocket_error_event_is_read_as_an_error():
    turn = Rendering(openai_responses).turn("#1")
    openai_responses.read_response([Event("", openai_responses.error_event(MESSAGE))], None, turn)
    assert MESSAGE in repr(turn.errors)
