"""Turns a renderer reference, `package.module` or `package.module:attr`, into an object."""

import importlib
from types import ModuleType

from probe.errors import TargetError

REQUIRED_FUNCTIONS = ("render_request", "render_response")


def import_renderer(reference: str) -> ModuleType | object:
    """Import the module (and attribute) named by `reference` and check it can render."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or (":" in reference and not attribute):
        raise TargetError(f'renderer "{reference}": expected "package.module" or "package.module:attr"')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise TargetError(f'renderer "{reference}": no module named "{module_name}"') from None
        raise  # the renderer exists but one of its own imports failed: show the real problem
    renderer = module
    if attribute:
        try:
            for part in attribute.split("."):
                renderer = getattr(renderer, part)
        except AttributeError:
            raise TargetError(f'renderer "{reference}": module "{module_name}" has no attribute "{attribute}"') from None
    missing = [name for name in REQUIRED_FUNCTIONS if not callable(getattr(renderer, name, None))]
    if missing:
        raise TargetError(f'renderer "{reference}": is not a renderer (missing {", ".join(missing)})')
    return renderer
