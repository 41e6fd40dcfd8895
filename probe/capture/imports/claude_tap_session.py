"""A claude-tap session as one JSON object (`{session, agent, task, packets[]}`, each packet a record without its
times), read as a stream (ijson's events): one packet held at a time."""

import re
from collections.abc import Iterator
from pathlib import Path

import ijson

from probe.capture.imports.formats import Skipped
from probe.capture.imports.json_items import TOO_DEEP, array_items
from probe.capture.imports.tap_records import LOST as RECORD_LOST
from probe.capture.imports.tap_records import record_lines

NAME = "claude-tap session"
LOST = RECORD_LOST + ("timing: a session keeps no times",)
# An object whose first key is "session", with its "packets" list in the file's head.
SNIFF = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"session"\s*:')
# Levels of nesting in a packet: its bodies are kept parsed (a tool's schema nests a dozen levels or so).
MOST_DEPTH = 256
PACKETS = re.compile(rb'"packets"\s*:\s*\[')


def sniff(head: bytes) -> bool:
    return bool(SNIFF.match(head)) and bool(PACKETS.search(head))


def read(path: Path) -> Iterator[dict | Skipped]:
    with path.open("rb") as file:
        packets = array_items(file, ("packets",), MOST_DEPTH)
        number = 0
        try:
            for number, packet in enumerate(packets, 1):
                if packet is TOO_DEEP:
                    yield Skipped(f"packet {number}", f"nested more than {MOST_DEPTH} levels deep: not an exchange")
                    continue
                try:
                    yield from record_lines(packet, f"tap-{number}", timed=False)
                except (TypeError, ValueError, KeyError, UnicodeError) as error:
                    yield Skipped(f"packet {number}", f"not an exchange ({type(error).__name__}: {error})"[:300])
        except ijson.JSONError as error:
            said = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            yield Skipped(f"after packet {number}", f"the file ends or is damaged here ({said[:200]})")
