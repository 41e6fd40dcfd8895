"""The columns of a run's identity that every SQL view ends with, and the lake's tables have: names only, worked out
by probe.store.identity."""

from probe.runs.label_names import LABEL_NAMES

# The columns every view ends with, in order, and their types (the `runs` view has `target` and `agent_version`
# in its own places).
IDENTITY = {
    "run_id": "VARCHAR",
    "target": "VARCHAR",
    "agent_version": "VARCHAR",
    "agent_version_parts": "INTEGER[]",
    "login": "VARCHAR",
    **{name: "VARCHAR" for name in LABEL_NAMES},  # machine, user, team, project, repository
    "labels_from": "VARCHAR",  # whose labels they are: recorder, importer or publisher (probe.runs.labels)
}
# The run's identity as every view ends with it, from run_folders (`f`), so that a query reads the same columns here
# and in the team lake; `runs` shows target and agent_version in its own places.
RUN_IDENTITY = ", ".join(f'f."{name}"' for name in IDENTITY)
RUNS_IDENTITY = ", ".join(f'f."{name}"' for name in IDENTITY if name not in ("target", "agent_version"))

# The labels of IDENTITY: whom a run is credited to.
CREDIT = (*LABEL_NAMES, "labels_from")
