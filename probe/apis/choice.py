"""Which renderer shows a run: its target's, the one stored in its manifest if it is ours, or each API's own."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probe.common.errors import TargetError
from probe.runs.code_files import source_files
from probe.runs.importer import import_renderer, renderer_module
from probe.runs.stored_target import stored_target
from probe.runs.targets import Target, load_target, named_by_data

GENERIC_RENDERER = "probe.apis.generic.report"  # no target: it reads no API of its own (probe.analyse.model_calls)
PER_API = (
    "each exchange is read and shown by its own API's built-in renderer (one that fits none is no model call but "
    "another request, in the report's Other hosts)"
)


@dataclass(frozen=True)
class Choice:
    """The renderer a report uses, the headers its target masks as well, and the target file they came from."""

    renderer: Any
    extra_secrets: frozenset[str]
    target_file: Path | None = None
    name: str = ""  # the renderer as the target names it (perhaps a former module path, probe.runs.importer)
    logins: tuple = ()  # the target's (probe.runs.logins.Login): the report names those its requests carried

    def sources(self) -> tuple[Path, ...]:
        """The files this choice adds to what a report is made from: the renderer's code and the target file."""
        target_file = (self.target_file,) if self.target_file is not None else ()
        return source_files(renderer_module(self.renderer)) + target_file


def choose_renderer(target: Target | None, manifest: dict | None, warnings: list[str]):
    """The renderer and the extra secret headers, as `choose` picks them."""
    choice = choose(target, manifest, warnings)
    return choice.renderer, choice.extra_secrets


def choose(target: Target | None, manifest: dict | None, warnings: list[str]) -> Choice:
    """The renderer of the target the user named; else of the target the run's manifest names, looked up by
    name in targets/ only (a manifest comes with the run, from whoever made it: it never names a file, and a
    module only from a fixed list); else the renderer of the target file stored in the manifest if it is one of
    ours (probe.runs.stored_target); else none: each exchange is then read and shown by its own API's built-in renderer.
    Both fallbacks say so in a warning. Whatever is chosen, an exchange of another API than the chosen renderer's
    is read by that API's renderer (probe.apis.turns.Reading)."""
    if target is None and manifest and manifest.get("target") is not None:
        named = manifest["target"]
        try:
            target = load_target(named_by_data(named)) if named_by_data(named) else None
        except TargetError:
            target = None
        if target is None:
            why = f"the manifest names target {repr(named)[:80]}, which is not a target in targets/"
            stored = stored_target(manifest)
            if stored is not None and stored.known:
                warnings.append(
                    f"{why}: the report uses {stored.renderer}, the renderer of the target file "
                    f"{stored.file_name} stored in the manifest (pass --target to choose another)"
                )
                return Choice(import_renderer(stored.renderer), stored.redact_headers, name=stored.renderer)
            unknown = ""
            if stored is not None and stored.renderer is not None:
                unknown = (
                    f" (the target file stored in the manifest names renderer {repr(stored.renderer)[:80]}, "
                    "which is not one of probe.apis or of targets/)"
                )
            warnings.append(f"{why}: {PER_API}{unknown} (pass --target to choose one)")
    if target is None:
        return Choice(import_renderer(GENERIC_RENDERER), frozenset(), name=GENERIC_RENDERER)
    return Choice(
        import_renderer(target.renderer), frozenset(target.redact_headers), target.path, target.renderer, target.logins
    )
