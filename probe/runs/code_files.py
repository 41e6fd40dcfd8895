"""The source files a probe module is made of: its own, and those of every probe module it imports, found by
reading import statements (nothing is imported or run)."""

import ast
import functools
import importlib.util
from pathlib import Path

PACKAGE = "probe"


@functools.cache
def source_files(module: str) -> tuple[Path, ...]:
    """`module`'s file and the files of the probe modules it imports, directly or through others, sorted."""
    found: dict[str, Path] = {}
    parts = module.split(".")
    waiting = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]  # importing it runs its packages too
    while waiting:
        name = waiting.pop()
        if name in found:
            continue
        path = module_file(name)
        if path is None:
            continue
        found[name] = path
        waiting += [imported for imported in probe_imports(path, name) if imported not in found]
    return tuple(sorted(set(found.values())))


def module_file(name: str) -> Path | None:
    """The .py file of a probe module or package, or None for a name that is not one (an imported attribute)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


@functools.cache  # the report's code and its renderer's share most of their modules: each is parsed once
def probe_imports(path: Path, name: str) -> frozenset[str]:
    """The probe modules named by the import statements in one file (and the packages holding them, whose
    __init__ runs too). `from probe import x` names either a module or an attribute; both are kept, and
    module_file drops the attributes."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in import_statements(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import: `from . import x` inside probe.mock, say
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    with_parents = {
        ".".join(parts[:end]) for parts in (n.split(".") for n in names) for end in range(1, len(parts) + 1)
    }
    return frozenset(imported for imported in with_parents if imported == PACKAGE or imported.startswith(PACKAGE + "."))


BODIES = ("body", "orelse", "finalbody", "handlers", "cases")  # where a statement holds statements


def import_statements(tree: ast.AST):
    """The import statements of a module, at any depth (in functions, conditions, try blocks): statements are
    walked, not the expressions in them, which are most of a module's nodes."""
    waiting = [tree]
    while waiting:
        node = waiting.pop()
        for field in BODIES:
            for child in getattr(node, field, None) or ():
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    yield child
                elif isinstance(child, ast.AST):
                    waiting.append(child)
