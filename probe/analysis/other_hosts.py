"""Takes the exchanges that are no model call (probe.analyse.model_calls) out of a run's reading before they could
become turns: they are counted by host (probe.analyse.hosts), each with its line in insight.jsonl, and shown in the
report's Other hosts section and the viewer's requests view."""

from probe.analyse.hosts.kinds import host_of, is_other_host
from probe.analyse.hosts.totals import request_record
from probe.analyse.insight import SCHEMA
from probe.analyse.model_calls import is_model_call
from probe.read.masked import masked_exchange
from probe.read.thinning import thin_exchange
from probe.read.traffic import Exchange


def took_other_host(run, exchange: Exchange) -> bool:
    """Whether `exchange` is no model call: then it was counted, and `run` (the RunReading of probe.analysis.report)
    reads it no further."""
    if is_model_call(exchange, run.renderer):
        if is_other_host(exchange):  # a turn, and a request to its host as every other the forward proxy saw
            run.insight.write({**request_record(exchange, host_of(exchange), "model-api"), "schema": SCHEMA})
        return False
    thin_exchange(exchange)
    if run.redact:  # masked as every exchange is, before anything of it is decoded or written
        exchange = masked_exchange(exchange, run.extra_secrets)
    record = run.totals.insight.add_other(exchange)
    run.insight.write({**record, "schema": SCHEMA})
    if not is_other_host(exchange):  # through the target's own proxies: in the run's totals and its logins seen
        run.totals.count(exchange)
    return True
