"""How long each provider keeps a cached prefix, as its documentation says, and which of those lifetimes a turn's
request asks for; unknown where the provider is unknown or documents none."""

from dataclasses import dataclass
from typing import Any

from probe.analyse.explicit_caches import ExplicitCaches
from probe.read.conversation import Turn

ANTHROPIC_DOCS = "platform.claude.com/docs/en/build-with-claude/prompt-caching"
OPENAI_DOCS = "developers.openai.com/api/docs/guides/prompt-caching#prompt-cache-retention"
GEMINI_DOCS = "ai.google.dev/gemini-api/docs/caching"


@dataclass(frozen=True)
class Lifetime:
    """How long a cached prefix lives after it was last written or read (None: unknown), and what says so."""

    seconds: float | None
    source: str
    # Where set, the lifetime counts from this moment (seconds since the epoch), not from the prefix's last use: an
    # explicit cache's, from when it was made or its ttl last changed.
    since: float | None = None
    cache: str | None = None  # the explicit cache it is the lifetime of, by name

    @property
    def expires(self) -> float | None:
        return None if self.since is None or self.seconds is None else self.since + self.seconds


# Each entry names the page that documents it. A read refreshes Anthropic's and OpenAI's lifetimes: they count from
# the prefix's last use.
LIFETIMES = {
    # Anthropic: 5 minutes by default, "refreshed each time the cached content is used".
    "anthropic": Lifetime(300, f"Anthropic's default, 5 min ({ANTHROPIC_DOCS})"),
    # Anthropic: a cache_control marker with ttl "1h" keeps the prefix an hour.
    "anthropic 1h": Lifetime(3600, f"Anthropic's cache_control ttl 1h ({ANTHROPIC_DOCS})"),
    # OpenAI's in-memory retention: caches are cleared "within 5 to 10 minutes of inactivity", always within an
    # hour; the shortest is the lifetime, past which the cache may be gone.
    "openai": Lifetime(300, f"OpenAI's in-memory retention, 5 to 10 min of inactivity ({OPENAI_DOCS})"),
    # OpenAI's extended retention, asked for with prompt_cache_retention "24h": kept up to 24 hours.
    "openai 24h": Lifetime(86400, f"OpenAI's extended retention, prompt_cache_retention 24h ({OPENAI_DOCS})"),
    # Gemini's implicit cache: its documentation gives no lifetime ("send requests with similar prefix in a short
    # amount of time").
    "gemini": Lifetime(None, f"Gemini's implicit cache, whose lifetime is not documented ({GEMINI_DOCS})"),
    # Gemini's explicit cache (a request's cachedContent): it lives for the ttl set when it was made, 1 hour if none
    # was, counted from then, not from its last use; the request that reads it does not carry that ttl, so a cache the
    # capture did not see made (probe.analyse.explicit_caches) has it unknown.
    "gemini explicit": Lifetime(
        None,
        f"Gemini's explicit cache (cachedContent), ttl unknown: it is set when the cache is made, not in the request "
        f"({GEMINI_DOCS})",
    ),
}
UNKNOWN = Lifetime(None, "unknown: the API does not say which provider served it")
ASKED_OF_UNKNOWN = Lifetime(
    None,
    "unknown: the request asks for OpenAI's prompt_cache_retention, but the API does not say which provider served it",
)
# The provider each API's reader names (Turn.provider); an API many providers speak names none.
PROVIDERS = {"anthropic": "anthropic", "openai": "openai", "gcp.gemini": "gemini"}


def lifetime(turn: Turn, caches: ExplicitCaches | None = None) -> Lifetime:
    """How long the cached prefix of `turn` lives after it: its provider's, longer where the request asks for it; an
    explicit cache it names, the ttl `caches` saw it made with."""
    provider = PROVIDERS.get(turn.provider or "")
    if provider == "openai":
        return LIFETIMES["openai 24h" if turn.config.get("prompt_cache_retention") == "24h" else "openai"]
    if provider == "anthropic":
        return LIFETIMES["anthropic 1h" if "1h" in marker_ttls(turn) else "anthropic"]
    if provider == "gemini":
        explicit = turn.config.get("cachedContent") or turn.config.get("cached_content")
        made = caches.named(explicit) if explicit and caches is not None else None
        if made is not None:
            return explicit_lifetime(made)
        return LIFETIMES["gemini explicit" if explicit else "gemini"]
    if provider is None and turn.config.get("prompt_cache_retention") is not None:
        # (a gateway that speaks OpenAI's API need not keep OpenAI's retention: what was asked is said, not assumed)
        return ASKED_OF_UNKNOWN
    return UNKNOWN


def explicit_lifetime(cache) -> Lifetime:
    """The lifetime of an explicit cache (probe.analyse.explicit_caches.ExplicitCache) the capture saw made: its ttl,
    from when it was made or its ttl last changed."""
    said = f"ttl {cache.ttl} from when {cache.counted_from}" + (
        f", deleted after {cache.seconds}s" if cache.deleted else ""
    )
    return Lifetime(
        cache.seconds,
        f"Gemini's explicit cache {cache.name}, {said} ({GEMINI_DOCS})",
        since=cache.since,
        cache=cache.name,
    )


def marker_ttls(turn: Turn) -> set[str]:
    """The ttls the request's cache markers ask for: its own (automatic caching), its tools', its instructions', and
    those of the items new in it (a marker moves to the newest message each turn; the carried ones were read before)."""
    metadata = [turn.config] + [tool.metadata for tool in turn.tools] + [block.metadata for block in turn.system]
    carried = turn.carried.items if turn.carried is not None and turn.carried.by == "prefix" else 0
    metadata += [part.raw for item in turn.input[carried:] for part in item.parts if isinstance(part.raw, dict)]
    return {str(marker.get("ttl")) for marker in map(marker_of, metadata) if isinstance(marker, dict)}


def marker_of(metadata: Any) -> Any:
    return metadata.get("cache_control") if isinstance(metadata, dict) else None
