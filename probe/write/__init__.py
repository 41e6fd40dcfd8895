"""Writers: report.md and the viewer, turns.jsonl, the diff, HAR and flows, OTLP and the live feed (the SQL views and
the lake are the store's, probe.store). In: the model and the analysis. Out: files and lines, every captured text made
inert. No writer knows an API."""
