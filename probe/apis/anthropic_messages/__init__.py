"""Anthropic Messages API, including count_tokens."""
