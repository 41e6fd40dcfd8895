"""A stand-in model server that real agents and the official SDKs can complete turns against, and its prices."""

from pathlib import Path

# The prices a run against the mock is costed with unless others are asked for: see the file's own comment.
PRICES = Path(__file__).parent / "prices.yaml"
