"""What one imported file may expand to is bounded, in every format and every Content-Encoding (nested too): a body
that decodes far past the file (a decompression bomb), the same one aliased forty times in a YAML cassette, and
aliases nested a billion strings deep each stop the import at the bound in one line, keeping the exchange before
them, with what is written and held small. Run in a process whose address space is limited: an import that
expanded would fail there, not only write too much."""

import base64
import gzip
import json
import subprocess
import sys
import textwrap

import pytest

from probe.capture.imports.expansion import FACTOR, FLOOR
from probe.common.paths import PROJECT_ROOT
from probe.import_capture import import_file
from tests.capture import hostile_imports

ADDRESS_SPACE = 1536 * 2**20  # the importing process's whole address space: Python, mitmproxy and the import
IMPORTS = textwrap.dedent(
    """
    import contextlib, json, os, resource, sys
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from probe.import_capture import import_file
    for source in json.loads(sys.argv[1]):
        with open(source + ".stderr", "w") as said, contextlib.redirect_stderr(said):
            os.environ["PROBE_DATA_DIR"] = source + ".data"
            import_file(Path(source), None, "")
    """
)


def import_in_a_small_address_space(sources: list) -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS.format(limit=ADDRESS_SPACE), json.dumps([str(path) for path in sources])],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def imported(source) -> tuple[list[dict], dict, list[str]]:
    """The lines written, the manifest and the warnings of one import."""
    [run] = (source.parent / f"{source.name}.data" / "imported").iterdir()
    limit = FLOOR + FACTOR * source.stat().st_size
    traffic = (run / "traffic.jsonl").read_bytes()
    assert len(traffic) <= limit
    lines = [json.loads(line) for line in traffic.splitlines()]
    warnings = (source.parent / f"{source.name}.stderr").read_text().splitlines()
    return lines, json.loads((run / "manifest.json").read_text()), warnings


@pytest.mark.slow
def test_no_imported_file_expands_past_its_bound(tmp_path):
    sources = {}
    for name, write in hostile_imports.FORMATS.items():
        for encoding in hostile_imports.ENCODINGS:
            sources[name, encoding] = tmp_path / f"{name}-{encoding.replace(', ', '-')}"
            write(sources[name, encoding], encoding)
    for go in (False, True):
        sources["laughs", "go-vcr" if go else "vcr"] = tmp_path / f"laughs-{go}.yaml"
        hostile_imports.laughs(sources["laughs", "go-vcr" if go else "vcr"], go)
    # Each a small file, whose bombs decode past all it may expand to.
    assert all(FLOOR + FACTOR * path.stat().st_size < hostile_imports.EXPANDS_TO for path in sources.values())
    import_in_a_small_address_space(list(sources.values()))
    for (name, encoding), source in sources.items():
        lines, manifest, warnings = imported(source)
        case = f"{name} {encoding}"
        # The good exchange is kept, whole; nothing after it.
        assert [line["request"]["url"] for line in lines] == [hostile_imports.GOOD_URL], case
        assert lines[0]["response"]["body"] in (hostile_imports.GOOD_BODY, None), case
        stopped = [warning for warning in warnings if "import stopped at" in warning]
        assert len(stopped) == 1 and "the exchange before it is kept" in stopped[0], (case, warnings)
        assert f"the most an imported file may ({FLOOR / 2**20:.1f} MiB and {FACTOR} times its" in stopped[0], case
        assert manifest["imported"]["stopped"] == stopped[0].removeprefix("warning: "), case
        assert manifest["note"].startswith(manifest["imported"]["stopped"]) and manifest["imported"]["entries"] == 1


def modest_aliases(path) -> None:
    """Interactions each a mebibyte once its aliases are expanded, from a file of a few kilobytes."""
    levels = "{l0: &l0 '" + "x" * 1000 + "', l1: &l1 [" + ", ".join(["*l0"] * 32) + "]}"
    text = f"- request: {{method: POST, uri: 'https://x/0', parsed_body: &mib [{', '.join(['*l1'] * 32)}]}}\n"
    text += "".join(f"- request: {{method: POST, uri: 'https://x/{n}', parsed_body: *mib}}\n" for n in range(1, 60))
    path.write_text(f"interactions:\n- request: {{method: GET, uri: 'https://x/', parsed_body: {levels}}}\n" + text)


def modest_bodies(path) -> None:
    """Lines each holding a mebibyte of text, gzip-compressed to a kilobyte."""
    body = base64.b64encode(gzip.compress(b"a" * 2**20)).decode()
    path.write_text("".join(
        json.dumps({"schema": 1, "kind": "http", "id": str(n), "proxy": "model", "timing": {},
                    "request": {"method": "POST", "url": f"https://x/{n}", "path": "/", "body": body,
                                "body_format": "base64", "headers": [["content-encoding", "gzip"]]},
                    "response": None}) + "\n"
        for n in range(60)
    ))  # fmt: skip


@pytest.mark.parametrize("write", [modest_aliases, modest_bodies], ids=["aliases", "bodies"])
def test_many_modest_entries_stop_at_the_bound_in_one_line(tmp_path, private_data_dir, capsys, write):
    """No entry is a bomb, but all of them together expand past the bound: those before it are kept, whole."""
    source = tmp_path / "recording"
    write(source)
    run = import_file(source, None, "")
    limit = FLOOR + FACTOR * source.stat().st_size
    traffic = (run / "traffic.jsonl").read_bytes()
    lines = [json.loads(line) for line in traffic.splitlines()]
    assert limit - 2 * 2**20 < len(traffic) <= limit  # filled to the bound, less than one entry short of it
    assert all(len(line) > 10**6 for line in traffic.splitlines()[1:])  # each a mebibyte, whole
    stopped = [line for line in capsys.readouterr().err.splitlines() if "import stopped at" in line]
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(stopped) == 1 and f"the {len(lines)} exchanges before it are kept" in stopped[0]
    assert manifest["imported"]["stopped"] == stopped[0].removeprefix("warning: ")
    assert manifest["imported"]["entries"] == len(lines) < 60
