"""Nox sessions: the tests on both supported Pythons (each with its own mitmproxy), lint, samples, a quick loop
before a commit, and a quick bench.

`nox` alone runs what CI runs: tests-3.11, tests-3.12 (with the Phoenix tests), lint and samples.
"""

import os
import tomllib
from pathlib import Path

import nox

# Each Python gets the mitmproxy release line it supports: 11.0.x is the last for Python 3.11.
MITMPROXY = {"3.11": "mitmproxy>=11,<12", "3.12": "mitmproxy>=12,<13"}

nox.options.sessions = ["tests", "lint", "samples"]
nox.options.error_on_missing_interpreters = True  # a missing Python fails, it is never skipped
nox.options.download_python = "never"  # use the machine's interpreters, not a download


def put_pyenv_pythons_on_path() -> None:
    """pyenv's shim for python3.12 only works where 3.12 is pyenv's selected version; its real interpreters sit
    under $PYENV_ROOT/versions/, so their folders go on PATH (newest patch release first) for nox to find."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    wanted = [
        folder / "bin"
        for minor in MITMPROXY
        for folder in sorted(versions.glob(f"{minor}.*"), key=patch_number, reverse=True)
        if (folder / "bin" / f"python{minor}").is_file()
    ]
    os.environ["PATH"] = os.pathsep.join([*map(str, wanted), os.environ.get("PATH", "")])


def patch_number(folder: Path) -> int:
    patch = folder.name.rsplit(".", 1)[-1]
    return int(patch) if patch.isdigit() else -1


put_pyenv_pythons_on_path()


# The newest pair runs every test. The older one leaves out what does not change with our Python: the tests that
# start a real agent (a Node or Python program of its own) and those that drive Chromium (the page they open is made
# by code the older pair's own tests cover). docs/development.md, "Where each test runs", says why.
NEWEST = max(MITMPROXY, key=lambda version: tuple(map(int, version.split("."))))
ONCE = "e2e or browser or lake or mcp_sdk"
# The older pair and the quick loop run every property test with a share of its examples: its code paths all run
# there, and the newest pair does the whole search (tests/search_budget.py).
SEARCH_SHARE = "0.2"
# Every core; tests sharing an expensive fixture stay on one worker; the 30 slowest are named, so that a slowdown
# shows in the log.
DIST = ("-n", "auto", "--dist", "loadgroup", "--durations=30")


@nox.session(python=list(MITMPROXY), venv_backend="venv")
def tests(session: nox.Session) -> None:
    """The test suite with the real mitmdump: all of it on the newest Python, the OTLP export into a live Phoenix
    included, and on the older one every test whose result can depend on the Python or mitmproxy version; pytest's
    options go after `--`."""
    session.install("-e", ".[dev]", MITMPROXY[session.python])
    # A skipped test fails here (tests/no_skips.py): every part a test needs must be present.
    env = {"PROBE_FORBID_SKIPS": "1"}
    if session.python == NEWEST:
        # The Phoenix tests read the same agent runs as the SQL and OTLP tests: made once, for all of them.
        selection, env["PROBE_PHOENIX"] = ("-m", "phoenix or not phoenix"), phoenix_program(session)
    else:
        selection, env["PROBE_NO_AGENTS"] = ("-m", f"not ({ONCE}) and not phoenix"), "1"
        env["PROBE_EXAMPLES_SHARE"] = SEARCH_SHARE
    compile_project(session)
    session.run("python", "-m", "pytest", *DIST, *selection, *session.posargs, env=env)


@nox.session(python=NEWEST, venv_backend="venv")
def quick(session: nox.Session) -> None:
    """The loop before a commit, in about five minutes: the unit and integration tests with the real mitmdump,
    no real agent, no browser and none of the few that take over five seconds (marked slow), then the linter and the
    architecture contract."""
    session.install("-e", ".[dev]", MITMPROXY[session.python])
    compile_project(session)
    session.run(
        "python", "-m", "pytest", *DIST, "-m", f"not ({ONCE}) and not phoenix and not slow", *session.posargs,
        env={"PROBE_FORBID_SKIPS": "1", "PROBE_NO_AGENTS": "1", "PROBE_EXAMPLES_SHARE": SEARCH_SHARE},
    )  # fmt: skip
    check_style(session)


@nox.session(python=NEWEST, venv_backend="venv")
def phoenix(session: nox.Session) -> None:
    """Only the OTLP export into a live Arize Phoenix (`tests-3.12` runs it with the rest). Phoenix gets an
    environment of its own (its dependencies clash with mitmproxy's); the tests start it from there on free loopback
    ports."""
    session.install("-e", ".[dev]", MITMPROXY[session.python])
    session.run(
        "python", "-m", "pytest", "-m", "phoenix", *session.posargs,
        env={"PROBE_FORBID_SKIPS": "1", "PROBE_PHOENIX": phoenix_program(session)},
    )  # fmt: skip


def compile_project(session: nox.Session) -> None:
    """The project's own modules compiled for the session's Python before its tests. Where Python is told not to
    write bytecode (PYTHONDONTWRITEBYTECODE), each of the suite's thousands of Python processes (every mitmdump with
    the recorder, every script) would otherwise compile them again, about 0.15 s of a core each; bytecode already
    there is still read."""
    session.run("python", "-m", "compileall", "-q", "probe", "tests", "tasks.py", silent=True)


def phoenix_program(session: nox.Session) -> str:
    """Phoenix, pinned in the phoenix extra, installed into an environment of its own inside the session's, by
    installing steps (run_install): `nox --install-only` makes it, and `-R` reuses it."""
    # Beside the session's environment, not in session.create_tmp(), which would also point TMPDIR, and so every
    # test's temporary folder, into the checkout.
    server = Path(session.virtualenv.location).resolve() / "phoenix-server"
    session.run_install("python", "-m", "venv", "--clear", str(server))
    session.run_install(str(server / "bin" / "pip"), "install", "--quiet", extra_requirement("phoenix"), external=True)
    return str(server / "bin" / "phoenix")


@nox.session(venv_backend="venv")
def lint(session: nox.Session) -> None:
    """ruff: the checks and the formatting configured in pyproject.toml; lint-imports: the house's architecture
    (.importlinter), so that an import against the flow fails with the name of the contract it breaks."""
    session.install(dev_requirement("ruff"), dev_requirement("import-linter"))
    session.install("--no-deps", "-e", ".")  # lint-imports reads the package's source; nothing of it is run
    check_style(session)


def check_style(session: nox.Session) -> None:
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(venv_backend="venv")
def samples(session: nox.Session) -> None:
    """Re-analyse the bundled samples and compare with their committed reports, turns and diffs."""
    session.install("-e", ".")
    session.run("python", "-m", "probe.samples", *session.posargs)


@nox.session(venv_backend="venv")
def bench(session: nox.Session) -> None:
    """A quick run of every benchmark with small sizes: it prints figures and asserts nothing about time."""
    session.install("-e", ".[dev]")  # the viewer's figure needs Playwright, to drive Debian's Chromium
    session.run("invoke", "bench", "--quick")


def dev_requirement(name: str) -> str:
    """A tool as pinned in pyproject.toml's dev extra (ruff's formatting changes between releases)."""
    return next(requirement for requirement in extra("dev") if requirement.startswith(name))


def extra_requirement(name: str) -> str:
    """The one requirement of an extra of pyproject.toml's (the pinned Phoenix)."""
    [requirement] = extra(name)
    return requirement


def extra(name: str) -> list[str]:
    return tomllib.loads(Path("pyproject.toml").read_text())["project"]["optional-dependencies"][name]
