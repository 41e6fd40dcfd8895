"""Per-API renderers: each turns request bodies and response streams of one API into Markdown."""
