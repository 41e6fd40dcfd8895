"""What a turn costs, worked out in the tests from the usage object each API sent, as it sent it, and a price file
read here: the oracle the analysis's costs (insight.jsonl, SQL, the report, the viewer) are held to."""

import json
from decimal import Decimal
from pathlib import Path

import yaml

from probe.read.whole_turns import WholeTurns


def counts_as_sent(api: str, raw: dict) -> tuple[int, int, int, int, int]:
    """All input, cache reads, cache writes, 1-hour writes and output, from the usage object as the API sent it."""
    if api == "anthropic.messages":
        plain, write, read = (raw.get(key) or 0 for key in ("input_tokens", "cache_creation_input_tokens",
                                                               "cache_read_input_tokens"))  # fmt: skip
        long = (raw.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
        return plain + write + read, read, write, long, raw.get("output_tokens") or 0
    assert api == "openai.responses"
    cached = (raw.get("input_tokens_details") or {}).get("cached_tokens") or 0
    return raw["input_tokens"], cached, 0, 0, raw["output_tokens"]  # reasoning is inside output_tokens


def spends(turn: dict) -> bool:
    """A turn of turns.jsonl whose usage was spent on an answer (a token count or a failed request is not)."""
    return bool(turn["usage"]) and bool(turn["output"] or turn["stop_reason"] or turn["response_id"])


def price_file(path: Path) -> dict[str, dict[str, Decimal]]:
    """A price file's models: per million tokens, a cache price left out being the input price."""
    models = yaml.safe_load(path.read_text())["models"]
    prices = {}
    for model, given in models.items():
        price = {key: Decimal(str(value)) for key, value in given.items()}
        for key in ("cache_read", "cache_write"):
            price.setdefault(key, price["input"])
        price.setdefault("cache_write_1h", price["cache_write"])
        prices[model] = price
    return prices


def turn_cost(turn: dict, prices: dict[str, dict[str, Decimal]]) -> Decimal | None:
    """The turn's cost in US dollars from `prices` (price_file), or None for a model it does not name."""
    price = prices.get(turn["model"])
    if price is None:
        return None
    total, read, write, long, output = counts_as_sent(turn["api"], turn["usage"]["raw"])
    spent = (total - read - write) * price["input"] + read * price["cache_read"] + output * price["output"]
    spent += (write - long) * price["cache_write"] + long * price["cache_write_1h"]
    return spent / Decimal(10**6)


def lines(path: Path) -> list[dict]:
    """A JSON lines file's records; a turns.jsonl's turns whole (probe.read.whole_turns)."""
    whole = WholeTurns()
    return [whole.whole(json.loads(line)) for line in path.read_text().splitlines()]
