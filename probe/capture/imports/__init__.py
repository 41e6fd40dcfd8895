"""Recordings made elsewhere (a HAR, a mitmproxy flow file, cassettes, traces) read back as traffic.jsonl lines: one
module per format, listed in probe.capture.imports.formats with what each one exposes."""

TASK_HELP = {  # `invoke import`'s and python -m probe.import_capture's, kept here, light, for `invoke --list`
    "file": "FILE: a HAR, a mitmproxy flow file, a VCR.py or go-vcr cassette, a claude-tap trace or a traffic.jsonl",
    "target": "NAME: file the run under this target's name (default: imported); each exchange is still read by its "
    "own API's reader",
    "label": "TEXT: added to the run folder's name",
    "account": "FILE: the agent's own telemetry file, kept beside the recording (an OTLP JSON file, gemini-cli's "
    "telemetry outfile or Copilot CLI's), read into the run's telemetry.jsonl",
}
