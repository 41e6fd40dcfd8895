"""The shape of the package, read from its own imports: the stage contract, no cycles, at most 8 levels of
imports below the tasks, no chain of imports over 10 modules and no module over 400 lines. A change that breaks the
flow fails with the name of the contract."""

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
from conftest import PROJECT_ROOT

PROBE = PROJECT_ROOT / "probe"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MOST_LINES = 400
MOST_LEVELS = 8
MOST_MODULES_IN_A_CHAIN = 10


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports run in `root`, reading its .importlinter and the probe package found there."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(root)),
    )


def test_every_contract_of_the_house_is_kept():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 6 kept, 0 broken." in result.stdout


def test_read_importing_write_breaks_the_flow_and_names_the_contracts(tmp_path):
    shutil.copytree(PROBE, tmp_path / "probe", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / ".importlinter", tmp_path)
    sse = tmp_path / "probe" / "read" / "sse.py"
    sse.write_text(sse.read_text() + "\nfrom probe.write import diff  # noqa: E402\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "read imports nothing of apis, analyse or write BROKEN" in result.stdout
    assert "The flow: capture → read → apis → analyse → write" in result.stdout
    assert "probe.read.sse -> probe.write.diff" in result.stdout


def test_a_writer_running_the_analysis_job_breaks_the_flow_and_names_the_contracts(tmp_path):
    """write only writes what the job (probe.analysis) hands it: a writer that ran the job would climb back up."""
    shutil.copytree(PROBE, tmp_path / "probe", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / ".importlinter", tmp_path)
    har = tmp_path / "probe" / "write" / "har.py"
    har.write_text(har.read_text() + "\nfrom probe.analysis import report  # noqa: E402\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "write (and everything it reads with) never runs the analysis job" in result.stdout
    assert "probe.write.har -> probe.analysis.report" in result.stdout


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(PROJECT_ROOT)): len(path.read_text().splitlines()) for path in PROBE.rglob("*.py")}
    assert {path: lines for path, lines in sizes.items() if lines > MOST_LINES} == {}


def test_imports_are_at_most_8_levels_deep():
    """A module that imports nothing of probe stands on level 1; every other one a level above the highest it
    imports. (A cycle would have no level: the contract above forbids them.)"""
    graph = grimp.build_graph("probe", cache_dir=None)
    on_the_way: list[str] = []

    @functools.cache
    def level(module: str) -> int:
        assert module not in on_the_way, "a cycle: " + " -> ".join([*on_the_way, module])
        on_the_way.append(module)
        below = max(map(level, graph.find_modules_directly_imported_by(module)), default=0)
        on_the_way.pop()
        return 1 + below

    # The invoke tasks only hand options to the scripts, and the installed command only runs the tasks: they stand on
    # top of them all (as tasks.py did from outside the package), not on a level of the code they call.
    levels = {
        module: level(module)
        for module in graph.modules
        if module != "probe.program" and module.split(".")[:2] != ["probe", "tasks"]
    }
    deepest = max(levels, key=levels.get)
    chain = [deepest]
    while imported := graph.find_modules_directly_imported_by(chain[-1]):
        chain.append(max(imported, key=levels.get))
    assert levels[deepest] <= MOST_LEVELS, " -> ".join(chain)


def test_no_chain_of_imports_is_over_10_modules():
    """Every chain of imports Python runs, from the installed command down, whether a module runs it on loading or
    in a function. Importing `a.b.c` runs the packages `a` and `a.b` first, so a package's __init__.py is a link of
    every chain through its modules (but not of its own modules' chains: it is already running when they load)."""
    graph = grimp.build_graph("probe", cache_dir=None)

    def packages_and_itself(module: str) -> set[str]:
        parts = module.split(".")
        return {".".join(parts[:end]) for end in range(1, len(parts) + 1)}

    def runs(module: str) -> set[str]:
        """The modules that importing `module` runs, directly: each it imports, and the packages above each."""
        named = graph.find_modules_directly_imported_by(module)
        return set().union(*map(packages_and_itself, named)) - packages_and_itself(module)

    @functools.cache
    def longest_chain(module: str) -> tuple[str, ...]:
        return (module, *max(map(longest_chain, runs(module)), key=len, default=()))

    longest = max(map(longest_chain, graph.modules), key=len)
    assert len(longest) <= MOST_MODULES_IN_A_CHAIN, f"{len(longest)} modules: " + " -> ".join(longest)
