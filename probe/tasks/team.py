"""The tasks over many runs at once: SQL over the data folder or the team lake, publishing to the lake, its upkeep."""

from invoke import task

from probe.analysis import lake as lake_script
from probe.store.lake.settings import HELP, METAVARS
from probe.store.views import QUERY_HELP, VIEWS_WORD
from probe.tasks.calls import ProbeTask, call, script, script_argv

# The options of publish's script, with their placeholders, as the tasks' help starts each.
LAKE_HELP = {name.replace("-", "_"): f"{METAVARS[name]}: {text}" for name, text in HELP.items()}


@task(
    klass=ProbeTask,
    positional=["query"],
    help={
        "query": f"SQL: {QUERY_HELP}",
        "format": "table|csv|json: how to print the rows (default: table)",
        "memory_limit": "SIZE: what DuckDB may hold in memory (default 1GB); a run that needs more is left out",
        "lake": "CATALOG: query the team lake with this catalog (as DuckLake takes it after `ducklake:`), not the "
        "data folder (see docs/team-lake.md)",
        "lake_data": "PATH: with --lake, the lake's data path (a lake made knows its own); alone, the lake of "
        "PROBE_LAKE, else the config file",
        "views": "list the views and their columns, as the query `views` does (`invoke sql views`: invoke needs a "
        "query)",
        "external_access": "let the query read files, reach other hosts and use DuckDB's extensions, as a query you "
        "wrote yourself may (off by default: a query copied from elsewhere reads only the views)",
    },
)
def sql(c, query, format=None, memory_limit=None, lake=None, lake_data=None, external_access=False, views=False):
    """Query every run under the data folder, or in the team lake, with SQL (DuckDB), through the same views; `invoke
    sql views` lists the views and their columns."""
    options = dict(format=format, memory_limit=memory_limit, lake=lake, lake_data=lake_data,
                   external_access=external_access, views=views)  # fmt: skip
    # (invoke has no optional positional argument: the word `views` in place of a query is the script's --views)
    asked = ["--views"] if query.strip() == VIEWS_WORD else [query]
    call(c, script("probe.analysis.sql"), [*asked, *script_argv(**options)])


@task(
    klass=ProbeTask,
    help={
        "run": "RUN: `latest` (default), a run folder name or path, or `all`: every run of the data folder",
        "target": "NAME: with --run latest, the newest run of this target (with --run all, its runs)",
        **LAKE_HELP,
    },
)
def publish(c, run=None, target=None, lake=None, lake_data=None, machine=None, user=None):
    """Add runs to the team lake (DuckLake on PostgreSQL): each lands once, masked, credited to whoever recorded it."""
    options = dict(lake=lake, lake_data=lake_data, machine=machine, user=user)
    call(c, script("probe.analysis.publish"), script_argv(run=run, target=target, **options))


@task(
    klass=ProbeTask,
    positional=["action"],
    iterable=["run"],
    help={
        "action": "tidy|remove|relabel: merge small files and expire old snapshots; take runs out of the lake; "
        "change whom a run is credited to (see docs/team-lake.md)",
        "run": "RUN: with remove (repeat it) or relabel, a run_id or a run folder's name (target/name)",
        "keep": f"DURATION: with tidy, keep a snapshot this long after a newer one superseded it, and a file this "
        f"long after it stopped being used: 30m, 1h, 7d, 0 (default {lake_script.KEEP})",
        **{name: f"LABEL: with relabel, {text}" for name, text in lake_script.CREDIT_HELP.items()},
        "lake": LAKE_HELP["lake"],
        "lake_data": LAKE_HELP["lake_data"],
    },
)
def lake(c, action, run=None, keep=None, machine=None, user=None, team=None, project=None, repository=None,
         lake=None, lake_data=None):  # fmt: skip
    """Keep the team lake in shape (tidy), take runs out of it (remove), or credit a run to others (relabel)."""
    labels = dict(machine=machine, user=user, team=team, project=project, repository=repository)
    call(
        c,
        script("probe.analysis.lake"),
        [action, *(run or []), *script_argv(keep=keep, **labels, lake=lake, lake_data=lake_data)],
    )
