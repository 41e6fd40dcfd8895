"""Which instruction block of one run is which block of another: paired by role and by how alike their texts are,
not by position (an agent may add a block in between)."""

import difflib
from collections import Counter

SIMILAR = 0.5  # blocks at least this alike (difflib's ratio) are one block changed, not one removed and one added


def block_name(block) -> str:
    kind = block.metadata.get("kind") if isinstance(block.metadata, dict) else None
    return f"{block.role} block" + (f" {kind}" if kind else "")


def match_blocks(old: list, new: list) -> tuple[list, list, list]:
    """Pairs of blocks that are the same block in both runs: by role, and by content similarity rather than
    position (an agent may add a block in between). Returns (pairs with their ratio, only in A, only in B)."""
    pairs, left = [], list(new)
    for block in old:
        best, best_ratio = None, SIMILAR
        for candidate in left:
            if candidate.role != block.role:
                continue
            if candidate.text == block.text:
                best, best_ratio = candidate, 1.0
                break
            ratio = alike(block.text, candidate.text)
            if ratio > best_ratio:
                best, best_ratio = candidate, ratio
        if best is None:
            continue
        pairs.append((block, best, best_ratio))
        left.remove(best)
    matched = {id(pair[0]) for pair in pairs}
    return pairs, [block for block in old if id(block) not in matched], left


CHARACTER_PAIRS = 4_000_000  # characters of one text × the other's up to which they are compared character by character


def alike(old: str, new: str) -> float:
    """How alike two texts are, from 0 to 1. Short texts: difflib's ratio, character by character. Longer ones: the
    share of their lines (of their words, in a text of few lines) that both hold, counted as multisets, which is
    linear in their length, where the character matcher grows faster than quadratically (80 KB took minutes)."""
    if len(old) * len(new) <= CHARACTER_PAIRS:
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return matcher.ratio() if matcher.real_quick_ratio() > SIMILAR and matcher.quick_ratio() > SIMILAR else 0.0
    few_lines = min(old.count("\n"), new.count("\n")) < 4
    old_parts, new_parts = (old.split(), new.split()) if few_lines else (old.splitlines(), new.splitlines())
    if not old_parts and not new_parts:
        return 1.0 if old == new else 0.0
    common = sum((Counter(old_parts) & Counter(new_parts)).values())
    return 2 * common / (len(old_parts) + len(new_parts))
