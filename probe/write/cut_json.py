"""Masks raw bodies for the viewer as redaction.mask_json does, faster: a JSON text cut short without the
pair-by-pair search for secret-named fields when no name in it can be one (seconds on a 256 KB head of a stream),
and an object member by member, each large member's result kept for the next body that re-sends it."""

import hashlib
import re
from typing import Any

from probe.common.fastjson import encoded
from probe.redact.json_values import NESTED_JSON_LIMIT, mask_json, masked_string
from probe.redact.secret_names import IDENTIFIER_STEMS, is_secret_name
from probe.redact.shapes import mask_text

# Every normalised secret name (redaction.SECRET_SUFFIXES, WEAK_NAMES) and name of an identifier's owner holds one
# of these: a text in which none appears, with letters and digits alone kept, names no secret.
NAME_STEMS = (b"key", b"token", b"secret", b"pass", b"credential", b"sig", b"auth", b"cookie", b"pwd",
              *(stem.encode() for stem in IDENTIFIER_STEMS))  # fmt: skip
NOT_NAME_BYTES = bytes(byte for byte in range(256) if not (48 <= byte <= 57 or 97 <= byte <= 122))
SHORT_ESCAPE = re.compile(rb'\\["\\/bfnrt]')  # decodes to a character that is not a letter or digit


def may_name_secret(text: str) -> bool:
    """Whether some `"name":` in `text` might be a secret's name, decoded as JSON or, malformed, as written."""
    lowered = text.lower()
    if "\\u" in lowered:  # a letter written as an escape: only decoding tells
        return True
    raw = lowered.encode("utf-8", "surrogatepass")
    written = raw.translate(None, NOT_NAME_BYTES)
    decoded = SHORT_ESCAPE.sub(b"", raw).translate(None, NOT_NAME_BYTES)
    return any(stem in written or stem in decoded for stem in NAME_STEMS)


def mask_cut_json(text: str, memo: dict | None = None) -> str:
    """`mask_json(text)`'s text for a JSON text (or any text), the same whether or not it is cut short."""
    stripped = text.strip()
    cut = stripped[:1] in ("{", "[") and not (stripped[-1:] in ("}", "]") and len(text) <= NESTED_JSON_LIMIT)
    if cut and not may_name_secret(text):
        return mask_text(text)[0]  # what mask_json leaves once it has found no secret-named pair
    return mask_json(text, memo=memo)[0]


MEMBER_BYTES = 1024  # members this large are kept by content; smaller ones cost less to mask than to look up
MEMBERS_KEPT = 4 << 20  # bytes of members (as JSON) kept before starting over: memory stays bounded


class MemberMasks:
    """mask_json of a value, walking its objects and lists member by member and keeping each large member's mask
    by its content: every request of a session re-sends its tools and instructions, and every stream echoes
    them, which mask_json would walk again each time."""

    def __init__(self, memo: dict) -> None:
        self.memo = memo  # masked strings, shared with the other masking of the page
        self.kept: dict[bytes, tuple[dict, dict]] = {}  # digest of a member's JSON -> (the member, its mask)
        self.kept_bytes = 0

    def mask(self, value: Any) -> Any:
        """What mask_json(value) gives (the value itself when nothing in it is masked)."""
        kind = type(value)
        if kind is dict:
            masked, changed = {}, False
            for key, item in value.items():
                member = {key: item}
                result = self.member(member, key, item)
                changed = changed or result is not member
                masked.update(result)
            return masked if changed else value
        if kind is list:
            items = [self.mask(item) for item in value]
            return items if any(new is not old for new, old in zip(items, value)) else value
        return mask_json(value, memo=self.memo)[0]

    def member(self, member: dict, key: str, item: Any) -> dict:
        """mask_json({key: item}), from what is kept when the member is large."""
        if type(item) not in (dict, list, str):
            return mask_json(member, memo=self.memo)[0]
        text = encoded(member)
        if len(text) < MEMBER_BYTES:
            return mask_json(member, memo=self.memo)[0]
        digest = hashlib.blake2b(text, digest_size=16).digest()
        found = self.kept.get(digest)
        # The same JSON can stand for different values (NaN and null are both written null): compared whole too.
        if found is not None and found[0] == member:
            return member if found[1] is found[0] else found[1]
        if type(item) is dict or (type(item) is list and not is_secret_name(key)):
            # As mask_json does for a member holding a container: the key by the text rules, the rest walked.
            new_key, count = masked_string(key, True, self.memo, is_key=True)
            new_item = self.mask(item)
            result = member if not count and new_item is item else {new_key: new_item}
        else:  # a string, or a list under a secret name: mask_json's own rules
            result = mask_json(member, memo=self.memo)[0]
        if self.kept_bytes + len(text) > MEMBERS_KEPT:
            self.kept.clear()
            self.kept_bytes = 0
        self.kept[digest] = (member, result)
        self.kept_bytes += len(text)
        return result
