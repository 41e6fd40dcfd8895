"""How many web searches a Gemini answer grounded in Google Search is billed for, from its groundingMetadata."""

import re

from probe.read.conversation import server_tool_uses

# Google bills grounding with Google Search per grounded prompt (a request whose answer ran one or more searches)
# up to Gemini 2.5, and per search query from Gemini 3 on: the price database prices either as `web_searches`.
PER_QUERY_FROM = 3
GENERATION = re.compile(r"gemini-(\d+)")


def grounding_uses(model: str | None, candidates: list[dict]) -> dict[str, int]:
    """The web searches billed for an answer whose candidates' fields (`groundingMetadata` among them) are given:
    its queries (each candidate's distinct ones) from Gemini 3 on, else one for a prompt that ran any."""
    queries = 0
    for fields in candidates:
        grounding = fields.get("groundingMetadata")
        sent = grounding.get("webSearchQueries") if isinstance(grounding, dict) else None
        if isinstance(sent, list):
            queries += len({str(query) for query in sent})
    if not queries:
        return {}
    generation = GENERATION.search(model or "")
    per_query = generation is not None and int(generation.group(1)) >= PER_QUERY_FROM
    return server_tool_uses([("web_search", queries if per_query else 1)])
