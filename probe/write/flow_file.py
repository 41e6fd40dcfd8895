"""A run's capture as mitmproxy's own flow file (flows.mitm, for `mitmweb -r`), made from traffic.jsonl on demand
and written by mitmproxy's FlowWriter."""

from pathlib import Path
from typing import BinaryIO

from mitmproxy import io as flow_io

from probe.read.masked import masked_exchanges
from probe.read.traffic import iter_exchanges
from probe.write.flows import UNFIT, joined_flows


def write_flows(traffic: Path, out: BinaryIO, warnings: list[str], masked: bool = True) -> int:
    """Write the capture's flows into `out` one at a time (a capture may be gigabytes: only open WebSockets are
    held), masked unless `masked` is off; return the number of flows."""
    writer = flow_io.FlowWriter(out)
    count = 0
    exchanges = iter_exchanges(traffic, warnings)
    for flow in joined_flows(masked_exchanges(exchanges) if masked else exchanges, warnings):
        try:
            writer.add(flow)  # serialised whole before it is written: a failure leaves nothing behind
        except UNFIT as error:
            warnings.append(f"{flow.request.url}: left out of the flows ({type(error).__name__}: {error})")
            continue
        count += 1
    return count
