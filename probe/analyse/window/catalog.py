"""The context windows an agent's own model list gives, where the capture holds it: codex fetches `/models` from its
backend, each model with its `context_window` and the share of it codex lets a conversation fill,
`effective_context_window_percent` (95 where not said: codex-rs/protocol/src/openai_models.rs)."""

from dataclasses import dataclass

DEFAULT_PERCENT = 95
MODELS_KEPT = 256  # models read from one list: a list that names more is hostile, and the rest are left out


@dataclass(frozen=True)
class ListedWindow:
    """One model's window as the agent's model list gives it, and the share of it the agent fills."""

    tokens: int
    percent: int = DEFAULT_PERCENT

    @property
    def effective(self) -> int:
        return self.tokens * self.percent // 100


def listed_windows(exchange) -> dict[str, ListedWindow]:
    """The windows a model list's answer (`exchange`, a probe.read.traffic.Exchange: not imported, which would stack
    the reader's modules under this one's) gives, by model name; none for any other exchange."""
    if not exchange.path.split("?", 1)[0].endswith("/models") or not exchange.response_body.is_json:
        return {}
    body = exchange.response_body.value
    models = body.get("models") if isinstance(body, dict) else None
    found = {}
    for entry in models[:MODELS_KEPT] if isinstance(models, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
            continue
        tokens, percent = entry.get("context_window"), entry.get("effective_context_window_percent")
        if whole(tokens):
            percent = percent if whole(percent) and percent <= 100 else DEFAULT_PERCENT
            found[entry["slug"]] = ListedWindow(tokens, percent)
    return found


def whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
