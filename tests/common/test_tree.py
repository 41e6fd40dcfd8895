"""The one depth-first walk of a tree the report, the time model and the Perfetto export share."""

from probe.common.tree import depth_first


def test_parents_come_before_their_children_and_siblings_keep_their_order():
    keys = ["main", "a", "b", "a1", "other"]
    parents = [None, "main", "main", "a", "gone"]  # `other`'s parent is not among them: a tree of its own
    walk = [(keys[index], depth) for index, depth in depth_first(keys, parents)]
    assert walk == [("main", 0), ("a", 1), ("a1", 2), ("b", 1), ("other", 0)]


def test_a_loop_of_parents_loses_no_node_and_repeats_none():
    keys = ["x", "y", "z", "self"]
    parents = ["z", "x", "y", "self"]  # x → y → z → x, and one its own parent
    walk = depth_first(keys, parents)
    assert [(keys[index], depth) for index, depth in walk] == [("self", 0), ("x", 0), ("y", 1), ("z", 2)]


def test_a_chain_thousands_deep_is_walked_without_recursion():
    keys = [f"agent {number}" for number in range(20_000)]
    walk = depth_first(keys, [None, *keys[:-1]])
    assert walk[-1] == (19_999, 19_999)


def test_two_records_of_one_key_are_each_listed_once():
    walk = depth_first(["a", "a", "b"], [None, None, "a"])
    assert walk == [(0, 0), (2, 1), (1, 0)]  # `b` under the first `a` only
