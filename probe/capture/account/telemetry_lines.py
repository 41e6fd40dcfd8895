"""A record as one line of telemetry.jsonl, strict JSON: a number JSON has not is null, and a lone UTF-16 surrogate
(text cut inside an emoji) is U+FFFD."""

import json
import math
import re
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")


def line_of(record: dict) -> str:
    """One record as one line of strict JSON, its end included."""
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a float that is not finite, somewhere a reader let one through
        text = json.dumps(finite(record), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return SURROGATE.sub("\ufffd", text) + "\n"


def finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value
