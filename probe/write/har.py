"""A run's capture as HAR 1.2: each exchange rebuilt as a mitmproxy flow and written by mitmproxy's own HAR code."""

import importlib.metadata
import json
from pathlib import Path
from typing import BinaryIO

from mitmproxy import version
from mitmproxy.addons.savehar import SaveHar

from probe.common.fastjson import encoded
from probe.read.masked import masked_exchanges
from probe.read.traffic import iter_exchanges
from probe.write.flows import UNFIT, flow_of

CREATOR = "agent-probe"


def write_har(traffic: Path, out: BinaryIO, warnings: list[str], masked: bool = True) -> int:
    """Write the HAR document of a capture into `out`, one entry at a time (a capture may be gigabytes), each made
    by mitmproxy's HAR writer from the flow the exchange describes, masked unless `masked` is off; return the
    number of entries."""
    writer = SaveHar()
    log = writer.make_har([])["log"]  # mitmproxy's own envelope: version 1.2, creator, pages
    log["creator"] = {"name": CREATOR, "version": package_version(), "comment": f"HAR by mitmproxy {version.VERSION}"}
    head = json.dumps({"log": {**log, "entries": []}}, indent=1).encode()
    opening, closing = head.split(b'"entries": []')
    out.write(opening + b'"entries": [\n')
    servers_seen: set = set()
    count = 0
    exchanges = iter_exchanges(traffic, warnings)
    for exchange in masked_exchanges(exchanges) if masked else exchanges:
        try:
            entry = writer.flow_entry(flow_of(exchange), servers_seen)
        except UNFIT as error:  # a field no flow can hold
            warnings.append(f"exchange {exchange.number}: left out of the HAR ({type(error).__name__}: {error})")
            continue
        out.write((b",\n" if count else b"") + encoded(entry))
        count += 1
    out.write(b"\n]" + closing)
    return count


def package_version() -> str:
    try:
        return importlib.metadata.version("agent-probe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
