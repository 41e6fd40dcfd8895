"""`--agent-version` runs one exact version of the target's agent from .agents/<package>@<version>/, beside the
pinned one; the run says which program it uses, and warns when the one on PATH is not the pinned version."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import OLDER_CODEX, PROJECT_ROOT, read_traffic

from probe.capture import agents
from probe.capture.run import CaptureResult, report_outcome
from probe.redact.secrets import fingerprint
from probe.replay.run import recorded_version
from probe.runs.targets import load_target

MOCK_KEY = "sk-mock-not-a-real-key"  # in the codex target's stand-in login (agent.files auth.json)

PROMPT = "write a hello world function"
PINNED = load_target("codex").install.version


def probe(module: str, *arguments: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def fake_tools(folder: Path, codex_says: str) -> tuple[Path, Path]:
    """A `codex` that says `codex_says` for --version, and an `npm` that leaves a marker if it is ever called."""
    folder.mkdir(exist_ok=True)
    marker = folder / "NPM-WAS-CALLED"
    codex = executable(folder / "codex", f'#!/bin/sh\n[ "$1" = --version ] && echo "{codex_says}"\nexit 0\n')
    executable(folder / "npm", f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    return codex, marker


def tree_state(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` with its size, modification time and inode: what an overwrite would change."""
    state = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            info = os.lstat(os.path.join(root, name))
            state[os.path.relpath(os.path.join(root, name), folder)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return state


def install_folder(version: str) -> Path:
    return agents.install_folder(load_target("codex").install, version).resolve()


# The tests of the older codex's runs share one worker, so that each run is made once.
ON_THE_OLDER_RUNS_WORKER = pytest.mark.xdist_group("older-codex-runs")


@pytest.fixture(scope="module", params=["websocket", "http"])
def older_run(request, tmp_path_factory, codex_program, older_codex_program):
    """The real codex 0.166.0 through the pipeline, with a different codex first on PATH and the pinned one
    installed beside it."""
    data = tmp_path_factory.mktemp("data")
    fake, _ = fake_tools(tmp_path_factory.mktemp("bin"), "codex-cli 0.1.0")
    pinned_before = tree_state(install_folder(PINNED))
    env = dict(os.environ, PROBE_DATA_DIR=str(data), PATH=f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = probe(
        "probe.pipeline",
        "--target",
        "codex",
        "--upstream",
        "mock",
        "--mock-transport",
        request.param,
        "--agent-version",
        OLDER_CODEX,
        "--prompt",
        PROMPT,
        "--timeout",
        "120",
        env=env,
    )
    [run] = (data / "codex").iterdir()
    return request.param, result, run, pinned_before


@pytest.mark.e2e
@ON_THE_OLDER_RUNS_WORKER
def test_the_requested_version_runs_and_says_so(older_run):
    _, result, run, _ = older_run
    assert result.returncode == 0, result.stderr[-2000:]
    folder = install_folder(OLDER_CODEX)
    program = folder / "node_modules" / ".bin" / "codex"
    shown = (
        os.path.relpath(program, PROJECT_ROOT.resolve())
        if folder.is_relative_to(PROJECT_ROOT.resolve())
        else str(program)
    )
    assert f"agent: codex-cli {OLDER_CODEX} at {shown}" in result.stderr.splitlines()
    assert "installing" not in result.stderr  # the fixture installed it; nothing is installed twice
    assert "warning: codex on PATH" not in result.stderr  # the codex on PATH is not even asked
    assert 'return "Hello, world!"' in result.stdout  # this version finished the turn against the mock
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    agent = manifest["agent"]
    assert agent["version"] == f"codex-cli {OLDER_CODEX}"
    assert Path(agent["binary"]).resolve().is_relative_to(folder) and agent["argv"][0] == agent["binary"]
    assert agent["npm_package"] == "@openai/codex" and agent["requested_version"] == OLDER_CODEX
    target_file = PROJECT_ROOT / "targets" / "codex.yaml"
    # The stand-in logins' key and tokens (the ChatGPT login's two JWTs and its refresh token) are fingerprinted as
    # every secret is; nothing else of the file changes.
    tokens = yaml.safe_load(target_file.read_text())["agent"]["logins"]["chatgpt"]["mock_files"]["auth.json"]["tokens"]
    stored = target_file.read_text()
    for secret in (MOCK_KEY, tokens["id_token"], tokens["access_token"], tokens["refresh_token"]):
        stored = stored.replace(secret, fingerprint(secret))
    assert manifest["target_file"] == {
        "name": "codex.yaml",
        "content": stored,
        "sha256": hashlib.sha256(target_file.read_bytes()).hexdigest(),
    }
    assert f"agent version `codex-cli {OLDER_CODEX}`" in (run / "report.md").read_text()


@pytest.mark.e2e
@ON_THE_OLDER_RUNS_WORKER
def test_the_older_version_makes_real_model_exchanges(older_run):
    transport, _, run, _ = older_run
    model = [entry for entry in read_traffic(run) if entry["proxy"] == "model"]
    if transport == "http":
        posts = [entry for entry in model if entry["request"]["method"] == "POST"]
        assert [entry["request"]["path"] for entry in posts] == ["/v1/responses", "/v1/responses"]
        assert all(entry["response"]["status"] == 200 and entry["complete"] for entry in posts)
        bodies = [entry["request"]["body"] for entry in posts]
    else:
        assert model and all(entry["kind"] == "websocket" and entry["response"]["status"] == 101 for entry in model)
        bodies = [frame["body"] for entry in model for frame in entry["messages"] if frame["from"] == "client"]
        server = [frame["body"]["type"] for entry in model for frame in entry["messages"] if frame["from"] == "server"]
        assert server.count("response.completed") == len(bodies)
    outputs = [item for body in bodies for item in body.get("input", []) if item.get("type") == "function_call_output"]
    assert len(outputs) == 1 and "Sleep completed" in outputs[0]["output"]  # it ran the mock's tool call


@pytest.mark.e2e
@ON_THE_OLDER_RUNS_WORKER
def test_the_pinned_install_is_left_as_it_was(older_run, codex_program):
    _, _, _, pinned_before = older_run
    assert tree_state(install_folder(PINNED)) == pinned_before
    assert agents.agent_version(codex_program) == f"codex-cli {PINNED}"
    assert Path(codex_program).resolve().is_relative_to(install_folder(PINNED))


@pytest.mark.parametrize("says, warns", [("codex-cli 0.1.0", True), (f"codex-cli {PINNED}", False)])
def test_an_agent_on_path_that_is_not_the_pinned_version_is_named_in_a_warning(tmp_path, says, warns):
    fake, npm_marker = fake_tools(tmp_path / "bin", says)
    agents_dir = tmp_path / "agents"
    env = dict(
        os.environ,
        PROBE_DATA_DIR=str(tmp_path / "data"),
        PROBE_AGENTS_DIR=str(agents_dir),
        PATH=f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
    )
    result = probe(
        "probe.pipeline",
        "--target",
        "codex",
        "--upstream",
        "mock",
        "--prompt",
        PROMPT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    if warns:
        assert warnings == [
            f"warning: codex on PATH ({fake}) says 'codex-cli 0.1.0', not the pinned {PINNED}: "
            f"--agent-version X runs version X, installed into {agents_dir}/"
        ]
    else:
        assert warnings == []
    assert f"agent: {says} at {fake}" in result.stderr.splitlines()
    [run] = (tmp_path / "data" / "codex").iterdir()
    agent = json.loads((run / "manifest.json").read_text())["agent"]
    assert (agent["binary"], agent["version"], agent["npm_package"], agent["requested_version"]) == (
        str(fake),
        says,
        None,
        None,
    )
    assert not npm_marker.exists() and not agents_dir.exists()  # nothing was installed


BAD_VERSIONS = [
    "latest",
    "file:..",
    "1.0.0 || x",
    "git+https://github.com/openai/codex.git",
    "../x",
    "",
    "1.0",
    "v1.0.0",
    "^1.0.0",
    "~1.0.0",
    "1.0.0\n",
    " 1.0.0",
    "1.0.0 --registry=http://127.0.0.1:9/",
    "1.0.0-../../x",
    "1.0.0/x",
    "-1.0.0",
    "\u0661.\u0660.\u0660",
    "1.0.0\x1b[31m",
]


@pytest.mark.parametrize("value", BAD_VERSIONS, ids=[repr(value) for value in BAD_VERSIONS])
@pytest.mark.parametrize("module", ["probe.pipeline", "probe.record capture", "probe.capture.agents"])
def test_a_version_that_is_not_plain_is_refused_before_anything_happens(tmp_path, value, module):
    _, npm_marker = fake_tools(tmp_path / "bin", "codex-cli 0.1.0")
    data, agents_dir = tmp_path / "data", tmp_path / "agents"
    env = dict(
        os.environ,
        PROBE_DATA_DIR=str(data),
        PROBE_AGENTS_DIR=str(agents_dir),
        PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    if module == "probe.capture.agents":
        result = probe(module, f"codex@{value}", env=env)
        expected = "error: codex@"
    else:
        result = probe(
            *module.split(),
            "--target",
            "codex",
            "--upstream",
            "mock",
            f"--agent-version={value}",
            "--prompt",
            PROMPT,
            env=env,
        )
        expected = "error: argument --agent-version: expected a plain version such as 0.166.0, got "
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert not npm_marker.exists() and not agents_dir.exists() and not data.exists()


def test_the_invoke_tasks_pass_the_version_on_and_refuse_the_same(tmp_path):
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), PROBE_AGENTS_DIR=str(tmp_path / "agents"))
    result = probe("invoke", "pipeline", "--target", "codex", "--agent-version", "latest", "--prompt", "hi", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: argument --agent-version: expected a plain version such as 0.166.0, "
        "got 'latest' (see python -m probe.pipeline --help)"
    )
    assert not (tmp_path / "data").exists()


def test_a_version_npm_does_not_have_is_one_line_and_leaves_nothing(tmp_path):
    data, agents_dir = tmp_path / "data", tmp_path / "agents"
    env = dict(os.environ, PROBE_DATA_DIR=str(data), PROBE_AGENTS_DIR=str(agents_dir))
    result = probe(
        "probe.pipeline",
        "--target",
        "codex",
        "--upstream",
        "mock",
        "--agent-version",
        "0.0.999",
        "--prompt",
        PROMPT,
        env=env,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        "error: installing @openai/codex@0.0.999 failed: npm has no version 0.0.999 of @openai/codex"
    ]
    assert not data.exists()
    assert list((agents_dir / "@openai").iterdir()) == []  # npm's work folder is gone, and nothing is in its place


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--target", "codex", "--command", "true"],
            "error: --agent-version chooses the version of the target's agent; it does not go with --command",
        ),
        (
            ["--target", "NOINSTALL", "--prompt", "hi"],
            "error: --agent-version: noinstall names no npm or PyPI package (agent.install) to install a version of "
            "its agent from",
        ),
    ],
)
def test_a_version_with_nothing_to_install_is_refused(tmp_path, arguments, message):
    target = tmp_path / "noinstall.yaml"
    target.write_text(
        "name: noinstall\ndescription: d\nrenderer: probe.apis.generic.report\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\nagent: {command: ['true']}\n"
    )
    arguments = [str(target) if argument == "NOINSTALL" else argument for argument in arguments]
    env = dict(os.environ, PROBE_DATA_DIR=str(tmp_path / "data"), PROBE_AGENTS_DIR=str(tmp_path / "agents"))
    result = probe("probe.pipeline", *arguments, "--upstream", "mock", "--agent-version", OLDER_CODEX, env=env)
    assert result.returncode == 2 and result.stderr.strip() == message
    assert not (tmp_path / "data").exists() and not (tmp_path / "agents").exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("npm", "../../x", "agent.install.npm: expected an npm package name"),
        ("version", "latest", "agent.install.version: expected a plain version"),
        ("version", "1.0.0 || x", "agent.install.version: expected a plain version"),
        ("binary", "../bin/sh", "agent.install.binary: expected a program's file name"),
    ],
)
def test_a_target_file_pins_only_a_plain_package_version_and_program(tmp_path, field, value, message):
    install = {"npm": "@openai/codex", "version": "1.2.3", "binary": "codex", field: value}
    target = tmp_path / "pin.yaml"
    target.write_text(
        "name: pin\ndescription: d\nrenderer: probe.apis.generic.report\n"
        "proxies: [{name: a, listen: 0, upstream: 'https://x/'}]\n"
        f"agent: {{command: [codex], install: {json.dumps(install)}}}\n"
    )
    result = probe("probe.capture.agents", str(target), env=dict(os.environ, PROBE_AGENTS_DIR=str(tmp_path / "agents")))
    assert (
        result.returncode == 2
        and result.stderr.strip()
        == f"error: {target}: {message}"
        + {"npm": ", such as @openai/codex", "version": ", such as 1.2.3", "binary": ", such as codex"}[field]
    )


def test_what_the_agent_says_of_its_version_and_mitmdumps_last_words_print_inert(tmp_path, capsys):
    said = "codex-cli 1.0\x1b]0;pwned\x07\u202e"
    shown = agents.Agent(str(tmp_path / "codex"), said, None, None).describe()
    assert shown.startswith("agent: codex-cli 1.0\\x1b]0;pwned\\x07\\u202e at ")
    report_outcome(CaptureResult(tmp_path, "proxy-failed", 1, f"mitmdump stopped: {said}"))
    err = capsys.readouterr().err
    assert err.startswith("error: mitmdump stopped: codex-cli 1.0\\x1b]0;pwned\\x07\\u202e (")
    assert not any(raw in err for raw in "\x1b\x07\u202e")


@pytest.mark.parametrize(
    "said, versions",
    [
        ("codex-cli 0.169.0", ["0.169.0"]),
        ("2.1.330 (Claude Code)", ["2.1.330"]),
        ("v1.18.33", ["1.18.33"]),
        ("GitHub Copilot CLI 1.0.102.", ["1.0.102"]),  # a sentence, its full stop not part of the version
        ("version unknown.", []),
    ],
)
def test_the_version_an_agent_says_is_one_word_of_it(said, versions):
    assert agents.versions_said(said) == versions


def fake_npm_package(folder: Path, name: str, version: str, says: str) -> Path:
    """An npm install of package `name` at `version` whose program says `says` for --version, linked from
    node_modules/.bin/ as npm links it."""
    package = folder / "node_modules" / name
    (package / "dist").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": name, "version": version}))
    script = executable(package / "dist" / "index.js", f'#!/bin/sh\n[ "$1" = --version ] && echo "{says}"\nexit 0\n')
    (folder / "node_modules" / ".bin").mkdir()
    link = folder / "node_modules" / ".bin" / "grok"
    link.symlink_to(script)
    return link


@pytest.mark.parametrize(
    "package_version, said, warns",
    [("0.0.34", "0.0.34 (it says 1.0.1)", False), ("0.0.30", "0.0.30 (it says 1.0.1)", True)],
)
def test_an_npm_agent_that_says_another_version_than_its_package_is_its_packages(
    tmp_path, monkeypatch, package_version, said, warns
):
    """Grok CLI 0.0.34 says `1.0.1` (a constant of its code): the version that runs is its package's, which a replay
    installs again and the warning about an agent on PATH compares with the pin."""
    target = load_target("grok-cli")
    program = fake_npm_package(tmp_path, target.install.npm, package_version, "1.0.1")
    monkeypatch.setenv("PATH", f"{program.parent}{os.pathsep}{os.environ['PATH']}")
    agent = agents.choose(target)
    assert (agent.program, agent.version) == (str(program), said)
    assert (agents.path_warning(target, agent) is not None) == warns
    assert recorded_version({"agent": {"version": agent.version}}) == package_version
    # Another package's package.json on the way up is not its version.
    assert agents.package_version(str(program), load_target("pi").install) is None
