"""Which values a turn of the viewer's data names (probe.write.viewer.data.ViewerData.entry), and the same turn
naming them by other numbers: what a page too large to hold every turn keeps (probe.write.viewer.page_budget)."""

from collections.abc import Callable

from probe.common.number_runs import runs


def named(entry: dict) -> list[int]:
    """The values one turn of the page names."""
    found = [entry["config"], entry["system"], entry["request_headers"], entry["response_headers"]]
    found += [entry["cache_lifetime"]] if "cache_lifetime" in entry else []
    found += entry["tools"] + entry["input"] + entry["output"]
    left_out = (entry.get("raw_request") or {}).get("left_out")
    for first, count in left_out["runs"] if isinstance(left_out, dict) else ():
        found += range(first, first + count)
    return found


def renumbered(entry: dict, number: Callable[[int], int]) -> dict:
    """A turn of the page naming its values by `number(value)`."""
    for field in ("config", "system", "request_headers", "response_headers", "cache_lifetime"):
        if field in entry:
            entry[field] = number(entry[field])
    for field in ("tools", "input", "output"):
        entry[field] = [number(value) for value in entry[field]]
    left_out = (entry.get("raw_request") or {}).get("left_out")
    if isinstance(left_out, dict):
        named_here = [number(first + at) for first, count in left_out["runs"] for at in range(count)]
        left_out["runs"] = runs(named_here)
    return entry
