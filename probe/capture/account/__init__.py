"""The agent's own account of a run, kept beside the wire: its OpenTelemetry exports, received on 127.0.0.1 beside
the proxies, and its transcript."""
