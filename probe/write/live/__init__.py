"""The live viewer: report.html's page served from 127.0.0.1 while a run is recorded, growing as the run does."""
