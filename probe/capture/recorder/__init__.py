"""The recorder: the mitmproxy addon and what it is made of, run inside mitmdump. In: flows. Out: one JSON line
per exchange in traffic.jsonl, secrets masked. It imports only the standard library, mitmproxy and the project's
common and redact stages, so that a mitmdump installed on its own can load it."""
