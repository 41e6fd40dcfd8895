"""A record as one line of telemetry.jsonl, strict JSON: a number JSON has not is null, and a lone UTF-16 surrogate
(text cut inside an emoji) is U+FFFD."""

import re

from probe.common.fastjson import strict_text

SURROGATE = re.compile("[\ud800-\udfff]")


def line_of(record: dict) -> str:
    """One record as one line of strict JSON, its end included."""
    return SURROGATE.sub("\ufffd", strict_text(record, ensure_ascii=False, separators=(",", ":"))) + "\n"
