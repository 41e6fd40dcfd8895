"""Readers: one module per API, each filling the conversation model from captured requests and responses."""
