"""Takes the exchanges with other hosts out of a run's reading before they could become turns: an exchange the
forward proxy recorded is a turn only when an API's reader recognises it as a model call; the rest are counted
by host (probe.analyse.hosts), each with its line in insight.jsonl."""

from probe.analyse.hosts.kinds import host_of, is_other_host
from probe.analyse.hosts.totals import request_record
from probe.analyse.insight import SCHEMA
from probe.apis.recognise import recognised
from probe.read.masked import masked_exchange
from probe.read.thinning import thin_exchange
from probe.read.traffic import Exchange


def took_other_host(run, exchange: Exchange) -> bool:
    """Whether `exchange` went to another host, not to a model: then it was counted, and `run` (the RunReading of
    probe.analysis.report) reads it no further."""
    if not is_other_host(exchange):
        return False
    if recognised(exchange) is not None:  # a model call: a turn, and a request to its host as every other
        run.insight.write({**request_record(exchange, host_of(exchange), "model-api"), "schema": SCHEMA})
        return False
    thin_exchange(exchange)
    if run.redact:  # masked as every exchange is, before anything of it is decoded or written
        exchange = masked_exchange(exchange, run.extra_secrets)
    record = run.totals.insight.hosts.add(exchange)
    run.insight.write({**record, "schema": SCHEMA})
    return True
