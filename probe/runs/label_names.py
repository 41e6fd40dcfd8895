"""The labels a run is credited to, and the variables that set them: names only, which the SQL views' columns are
made from."""

LABEL_ENVIRONMENT = {
    "machine": "PROBE_MACHINE",
    "user": "PROBE_USER",
    "team": "PROBE_TEAM",
    "project": "PROBE_PROJECT",
    "repository": "PROBE_REPOSITORY",
}
LABEL_NAMES = tuple(LABEL_ENVIRONMENT)
