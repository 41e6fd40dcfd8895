"""The model the mock answers as: the one the agent asked for when the price database knows it, else a current
model of the API's provider that it does, so that a mock run's report says what the run would have cost."""

import functools

# Current models every pinned release of genai-prices prices (0.0.61 on Python 3.11, 0.2.3 on 3.12), one per
# provider. An agent's own default is often newer than the database (codex asks for models it does not know yet),
# and a report that says "Cost: unknown" tells a newcomer nothing.
STAND_INS = {"openai": "gpt-5.1", "anthropic": "claude-sonnet-4-5", "google": "gemini-2.5-flash"}


def answering_model(requested: object, provider: str) -> str:
    """The model name the answer carries, as a real API names the model that answered (an alias resolved)."""
    if isinstance(requested, str) and requested and priced(requested, provider):
        return requested
    return STAND_INS[provider]


@functools.lru_cache(maxsize=256)
def priced(model: str, provider: str) -> bool:
    """Whether genai-prices has a price for the model at this provider."""
    import genai_prices  # here: loading its data takes 0.3 s, which a mock that never answers need not wait

    try:
        genai_prices.calc_price(genai_prices.Usage(input_tokens=1, output_tokens=1), model, provider_id=provider)
    except Exception:  # LookupError for an unknown model; anything else means it cannot be priced either
        return False
    return True
