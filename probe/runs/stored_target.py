"""The run's copy of its target file, as analysis reads it back: the one thing it may take from it is the name of
one of our renderers (the capture writes the copy: probe.capture.session)."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from probe.common.errors import TargetError
from probe.runs.importer import FORMER_PATHS, RENDERER_REFERENCE
from probe.runs.targets import HEADER_NAME, known_targets, load_target


@dataclass(frozen=True)
class Stored:
    """What a manifest's stored target file names: a renderer, and whether it is one of ours."""

    file_name: str
    renderer: str | None  # None: the file names none that could be read
    known: bool
    redact_headers: frozenset[str]


def stored_target(manifest: dict) -> Stored | None:
    """Read the stored target file as data: its text is parsed as YAML and nothing it names is imported here."""
    stored = manifest.get("target_file")
    if not isinstance(stored, dict) or not isinstance(stored.get("content"), str):
        return None
    name = stored.get("name")
    file_name = repr(name)[:80] if isinstance(name, str) else "of no name"
    try:
        data = yaml.safe_load(stored["content"])
    except (yaml.YAMLError, RecursionError, ValueError):
        data = None
    data = data if isinstance(data, dict) else {}
    renderer = data.get("renderer") if isinstance(data.get("renderer"), str) else None
    headers = data.get("redact_headers") if isinstance(data.get("redact_headers"), list) else []
    # Extra headers only add masking; anything that is not a header name is left out.
    headers = frozenset(header.lower() for header in headers if isinstance(header, str) and HEADER_NAME.match(header))
    return Stored(file_name, renderer, renderer is not None and renderer in known_renderers(), headers)


def known_renderers() -> set[str]:
    """The renderers analysis may import for a stored target: those shipped in probe.apis (found by listing its
    folders, so nothing is imported to find them), under their former paths too, and the renderers of targets/."""
    apis = Path(__file__).resolve().parents[1] / "apis"
    known = {
        f"probe.apis.{path.parent.name}.report" for path in apis.glob("*/report.py") if path.parent.name.isidentifier()
    }
    known |= set(FORMER_PATHS)
    for name in known_targets():
        try:
            known.add(load_target(name).renderer)
        except TargetError:
            continue  # a broken target file names nothing
    return {reference for reference in known if RENDERER_REFERENCE.match(reference)}
