"""Values as OpenTelemetry takes them: times in nanoseconds, attributes of the types it accepts."""

from typing import Any

from probe.common.fastjson import strict_text


def nanoseconds(seconds: float | None) -> int | None:
    return int(seconds * 1e9) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None


def attribute(value: Any) -> Any:
    """A value OpenTelemetry accepts as an attribute: a scalar, a list of one scalar type, else its JSON (strict: a
    manifest's NaN as null)."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return strict_text(value, ensure_ascii=False, default=str)
