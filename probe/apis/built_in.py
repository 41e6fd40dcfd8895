"""The renderer of each API this project reads, by the API's name: what an exchange of that API is shown with
when the target's renderer is for another API (or there is no target)."""

from typing import Any

from probe.apis.anthropic_messages import report as anthropic_messages
from probe.apis.gemini import report as gemini
from probe.apis.generic import report as generic
from probe.apis.openai_chat import report as openai_chat
from probe.apis.openai_responses import report as openai_responses

BY_API = {renderer.API: renderer for renderer in (openai_responses, anthropic_messages, gemini, openai_chat, generic)}


def renderer_for(reader: Any, preferred: Any) -> Any:
    """The renderer of the turns `reader` read: `preferred` (the target's) when it is that reader, else the
    built-in renderer of the reader's API."""
    if reader is preferred:
        return preferred
    return BY_API.get(getattr(reader, "API", None), generic)
