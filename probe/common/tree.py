"""One depth-first walk of a tree given as each node's parent: parents before their children, never twice."""

from collections.abc import Hashable, Sequence


def depth_first(keys: Sequence[Hashable], parents: Sequence[Hashable | None]) -> list[tuple[int, int]]:
    """Each node's index with its depth, parents before their children and siblings in the order given. A node
    whose parent is not among `keys` (or is itself) starts the tree at depth 0; nodes only a loop of parents
    reaches (hostile headers) come after the rest, each at depth 0 with what hangs below it. Iterative: a
    hostile chain may be thousands deep."""
    known = set(keys)
    children: dict[Hashable | None, list[int]] = {}
    for index, (key, parent) in enumerate(zip(keys, parents, strict=True)):
        children.setdefault(parent if parent in known and parent != key else None, []).append(index)
    order: list[tuple[int, int]] = []
    seen: set[int] = set()
    for top in [*children.get(None, []), *range(len(keys))]:
        stack = [(top, 0)]
        while stack:
            index, depth = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            order.append((index, depth))
            stack += [(child, depth + 1) for child in reversed(children.get(keys[index], []))]
    return order
