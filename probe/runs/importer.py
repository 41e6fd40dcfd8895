"""Turns a renderer reference, `package.module` or `package.module:attr`, into an object.

Only references from target files the user chose reach this (a name in targets/ or a path given on the command
line), or one a run's manifest names that is already among those or shipped in probe.apis
(probe.runs.stored_target): a run's own files never add to what may be imported.
"""

import importlib
import re
from types import ModuleType

from probe.common.errors import TargetError

# Dotted Python identifiers, optionally `:attribute.path`: an absolute module path, never a relative one.
RENDERER_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$", re.ASCII)
# Read a request and a response into the conversation model, then write each as Markdown.
REQUIRED_FUNCTIONS = ("read_request", "read_response", "render_request", "render_response")
# The built-in renderers' former module paths, which older target files and run manifests name: a fixed table,
# so a name is only ever looked up here, never imported as written.
FORMER_PATHS = {
    f"probe.renderers.{api}": f"probe.apis.{api}.report"
    for api in ("openai_responses", "anthropic_messages", "openai_chat", "gemini", "generic")
}


def import_renderer(reference: str) -> ModuleType | object:
    """Import the module (and attribute) named by `reference` and check it can render."""
    if not RENDERER_REFERENCE.match(reference):
        raise TargetError(f'renderer "{reference}": expected "package.module" or "package.module:attr"')
    module_name, _, attribute = reference.partition(":")
    module_name = FORMER_PATHS.get(module_name, module_name)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise TargetError(f'renderer "{reference}": no module named "{module_name}"') from None
        raise TargetError(f'renderer "{reference}": cannot import it: {describe(error)}') from None
    except (Exception, SystemExit) as error:  # whatever the module does at import: a syntax error, a raise, exit()
        raise TargetError(f'renderer "{reference}": cannot import it: {describe(error)}') from None
    renderer = module
    if attribute:
        try:
            for part in attribute.split("."):
                renderer = getattr(renderer, part)
        except AttributeError:
            raise TargetError(
                f'renderer "{reference}": module "{module_name}" has no attribute "{attribute}"'
            ) from None
    missing = [name for name in REQUIRED_FUNCTIONS if not callable(getattr(renderer, name, None))]
    if missing:
        raise TargetError(f'renderer "{reference}": is not a renderer (missing {", ".join(missing)})')
    return renderer


def describe(error: BaseException) -> str:
    """An exception as one line: its type, and where a syntax error is."""
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({error.filename}, line {error.lineno})"
    if isinstance(error, SystemExit):
        return f"it called exit({error.code!r})"
    return f"{type(error).__name__}: {error}"


def renderer_module(renderer) -> str:
    """The module a renderer comes from: the renderer itself, or the module defining the attribute named."""
    if isinstance(renderer, ModuleType):
        return renderer.__name__
    return getattr(renderer, "__module__", None) or type(renderer).__module__
