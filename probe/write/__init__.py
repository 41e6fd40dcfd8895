"""Writers: report.md and the viewer, turns.jsonl, the diff, HAR and flows, OTLP, SQL and the live feed. In: the
model and the analysis. Out: files and lines, every captured text made inert. No writer knows an API."""
