"""A target declares the files its agent needs in {agent_home} (settings it reads at start): checked when the
target is read, written before the agent starts, gone with the home when the run ends."""

import json
import os
import subprocess
import sys
import tomllib

import pytest
from conftest import PROJECT_ROOT

from probe.common.errors import TargetError
from probe.runs.targets import parse_target

TARGET = """
name: filed
description: an agent that reads its settings from its home
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [filed, "{prompt}"]
  env:
    HOME: "{agent_home}"
    SEEN: "{run}/seen"
  files:
    .tool/settings.json:
      auth: {selectedType: api-key}
      endpoint: "{proxy.api}/v1"
    .tool/notes.txt: "plain text at {agent_home}\\n"
    .cache/tool/node_modules/:
"""


def test_files_parse_into_text_with_mappings_as_json():
    target = parse_target(TARGET, "targets/filed.yaml")
    assert target.files == {
        ".tool/settings.json": json.dumps({"auth": {"selectedType": "api-key"}, "endpoint": "{proxy.api}/v1"},
                                          indent=2) + "\n",
        ".tool/notes.txt": "plain text at {agent_home}\n",
        ".cache/tool/node_modules/": "",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "/etc/passwd",
            "x",
            "expected a relative path inside {agent_home} (or {run}/…), such as .gemini/settings.json",
        ),
        ("../outside", "x", "expected a relative path inside {agent_home}"),
        ("a/../../b", "x", "expected a relative path inside {agent_home}"),
        ("~/.bashrc", "x", "expected a relative path inside {agent_home}"),
        ("{run}/../outside", "x", "expected a relative path inside {agent_home} (or {run}/…)"),
        ("{run}//etc/passwd", "x", "expected a relative path inside {agent_home} (or {run}/…)"),
        ("{agent_home}/x", "x", "expected a relative path inside {agent_home} (or {run}/…)"),
        ("folder/", "x", "a path ending in / is a folder: give it no content"),
        ("count.txt", "3", "expected the file's text, or a mapping or list to write as JSON"),
        ("url.txt", '"{proxy.other}"', "{proxy.other} names no proxy of this target"),
    ],
)
def test_bad_files_are_rejected_with_their_place(name, content, message):
    text = TARGET.split("  files:")[0] + f"  files:\n    {json.dumps(name)}: {content}\n"
    with pytest.raises(TargetError) as error:
        parse_target(text, "targets/filed.yaml")
    assert str(error.value).startswith(f"targets/filed.yaml: agent.files.{name}: ") and message in str(error.value)


def test_the_files_are_in_the_agent_home_when_it_starts_and_gone_after(tmp_path, private_data_dir):
    target = tmp_path / "filed.yaml"
    target.write_text(TARGET)
    script = 'cp "$HOME/.tool/settings.json" "$SEEN.json"; cat "$HOME/.tool/notes.txt" > "$SEEN.txt"; '
    script += 'stat -c %a "$HOME/.tool/settings.json" > "$SEEN.mode"; test -d "$HOME/.cache/tool/node_modules"'
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--command", script,
         "--upstream", "mock"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "filed").iterdir()
    settings = json.loads((run / "seen.json").read_text())
    proxy_url = json.loads((run / "manifest.json").read_text())["proxies"][0]["url"]
    assert settings == {"auth": {"selectedType": "api-key"}, "endpoint": f"{proxy_url}/v1"}
    home = (run / "seen.txt").read_text().removeprefix("plain text at ").strip()
    assert os.path.basename(home).startswith("agent-probe-home-") and not os.path.exists(home)  # removed after
    assert (run / "seen.mode").read_text().strip() == "600"


WORKDIR_TARGET = """
name: trusting
description: an agent whose settings trust the folder it works in
renderer: probe.apis.generic.report
proxies:
  - {name: api, listen: 0, upstream: "https://api.example.com/"}
agent:
  command: [trusting, "{prompt}"]
  private_env:
    HOME: "{agent_home}"
    SEEN: "{run}/seen"
  files:
    settings.json: {projects: {"{workdir}": {trusted: true}}}
    config.toml: "[projects.\\"{workdir}\\"]\\ntrust_level = \\"trusted\\"\\n"
    "{run}/state/kept.txt": "kept with the run"
"""


def test_a_folder_named_with_quotes_and_backslashes_stays_valid_json_and_toml(tmp_path, private_data_dir):
    """{workdir} is filled into the files escaped as in a JSON string, which TOML reads alike."""
    target = tmp_path / "trusting.yaml"
    target.write_text(WORKDIR_TARGET)
    workdir = tmp_path / 'a "quoted" back\\slash\tfolder'
    workdir.mkdir()
    script = 'cp "$HOME/settings.json" "$SEEN.json"; cp "$HOME/config.toml" "$SEEN.toml"'
    result = subprocess.run(
        [sys.executable, "-m", "probe.record", "capture", "--target", str(target), "--command", script,
         "--upstream", "mock", "--workdir", str(workdir)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [run] = (private_data_dir / "trusting").iterdir()
    assert json.loads((run / "seen.json").read_text()) == {"projects": {str(workdir): {"trusted": True}}}
    assert tomllib.loads((run / "seen.toml").read_text()) == {"projects": {str(workdir): {"trust_level": "trusted"}}}
    assert (run / "state" / "kept.txt").read_text() == "kept with the run"
