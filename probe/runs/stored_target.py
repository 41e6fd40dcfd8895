"""The run's copy of its target file: what the manifest keeps of it, and the one thing analysis may take back."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from probe.common.errors import TargetError
from probe.redact.masking import fingerprint, is_secret_variable
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.importer import FORMER_PATHS
from probe.runs.targets import HEADER_NAME, RENDERER_REFERENCE, Target, known_targets, load_target


def record(target: Target, keep_secrets: bool) -> dict | None:
    """The manifest's `target_file`: the file's name, the sha256 of its bytes, and its text with the values of
    secret-named variables fingerprinted and every other secret masked as in the rest of the manifest."""
    if target.text is None:
        return None
    text = target.text
    if not keep_secrets:
        values = {
            value
            for group in (target.env, target.mock_env, target.quiet_env)
            for name, value in group.items()
            if is_secret_variable(name, value)
        }
        for value in sorted(values, key=len, reverse=True):  # a longer secret may hold a shorter one
            text = text.replace(value, fingerprint(value))
        text = mask_tokens_and_urls(text)
    return {
        "name": target.path.name if target.path else f"{target.name}.yaml",
        "sha256": hashlib.sha256(target.text.encode("utf-8")).hexdigest(),
        "content": text,
    }


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
