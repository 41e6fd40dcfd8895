"""A pytest plugin: under `--dist loadgroup`, the tests of one xdist_group go to one worker again with pytest 9.2.

pytest-xdist 3.8 groups tests by renaming each one `<node id>@<group>` on the workers, through the node's `_nodeid`,
which pytest 9.2 no longer reads (its node ids are structured: pytest-dev/pytest-xdist#1386). The groups were then
ignored without a word, and each worker made a group's shared runs again. This renames them as pytest-xdist would.
"""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # a pytest before 9.2, on which pytest-xdist's own renaming works
        return
    for item in items:
        names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                 for mark in item.iter_markers("xdist_group")}  # fmt: skip
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
