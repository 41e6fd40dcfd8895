"""agent-probe: record and explain what AI coding agents send to their model APIs.

The folders follow the data, and imports only ever run down this list (.importlinter holds it):
- pipeline, samples, record: the commands that run the stages one after another (record: the capture and
  proxies commands, which start the live feed, an output, beside the capture).
- write/: every output (report.md, report.html, turns.jsonl, diff, HAR, flows, OTLP, SQL, the live feed).
- analyse/: facts derived from the conversation model (key paths, token sums, what runs are compared by).
- apis/: one package per model API, reading its exchanges into the model and wording its report.
- capture/ (proxies, the recorder inside mitmdump, the agent), read/ (traffic.jsonl into exchanges and the
  conversation model), mock/ (the stand-in model server): side by side, none imports another.
- runs/: run folders, manifests, target files and what is out of date.
- redact/: masking secrets, for capture and writers alike.
- common/: errors, paths, the argument parser and the other small tools every stage shares.
"""

__version__ = "0.1.0"
