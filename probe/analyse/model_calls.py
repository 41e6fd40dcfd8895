"""Which exchanges of a run are turns of its conversation: those a reader recognises as a model call, by their path
and their bodies' shape, whichever proxy recorded them or whatever recording they were imported from. The rest (a
price list or a model list downloaded, a trace uploaded, telemetry, another host's traffic) are other requests,
counted by host (probe.analyse.hosts). Only a target whose renderer reads an API of its own, which no reader here
knows, has the unrecognised exchanges of its reverse proxy read as turns: they are what its renderer reads."""

from probe.analyse.hosts.kinds import is_other_host
from probe.apis.recognise import RECOGNISED, recognised
from probe.read.traffic import Exchange

GENERIC = "generic"  # the generic renderer's API: it reads no API of its own


def is_model_call(exchange: Exchange, renderer) -> bool:
    """Whether `exchange` is a turn of the conversation when the run's target renderer is `renderer` (None: none)."""
    if recognised(exchange) is not None:
        return True
    return not is_other_host(exchange) and reads_an_api_of_its_own(renderer)


def reads_an_api_of_its_own(renderer) -> bool:
    """Whether the renderer reads an API that none of our readers recognises."""
    return renderer is not None and getattr(renderer, "API", GENERIC) not in (*RECOGNISED, GENERIC)
