"""Recordings made elsewhere (a HAR, a mitmproxy flow file, cassettes, traces) read back as traffic.jsonl lines: one
module per format, listed in probe.capture.imports.formats with what each one exposes."""
