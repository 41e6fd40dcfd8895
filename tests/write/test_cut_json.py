"""The viewer's faster masking of raw bodies gives what redaction.mask_json gives."""

import json

import pytest

from probe.redact import masking as redaction
from probe.redact.json_values import mask_json
from probe.write.cut_json import NAME_STEMS, MemberMasks, mask_cut_json, may_name_secret

KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2


def test_every_secret_name_holds_a_stem():
    for name in [*redaction.SECRET_SUFFIXES, *redaction.WEAK_NAMES]:
        assert any(stem.decode() in name for stem in NAME_STEMS), name


@pytest.mark.parametrize(
    "head",
    [
        '[{"type": "delta", "delta": "hello "}, {"type": "delta", "delta": "wor',  # nothing to mask
        '[{"delta": "my key is ' + KEY + '"}, {"type": "x", "te',  # a token shape
        '{"input": [{"api_key": "abcdefgh12345678"}, {"text": "cut',  # a secret-named field
        '{"a": 1, "sec\\nret": "hunter2hunter2", "b": "cut',  # a name with an escape in it
        '{"a": 1, "\\u0070assword": "hunter2hunter2", "b": "cut',  # a letter written as an escape
        '{"a": 1, "\\ysecre\\t": "hunter2hunter2", "b": "cut',  # malformed: the name as written
        '{"args": "{\\"token\\": \\"abcdefghijklmnopqrstuvwx\\"}", "cut',  # a secret name inside a string
        '{"whole": "not cut", "password": "x1234567"}',
        "plain text, " + KEY,
    ],
)
def test_a_cut_head_is_masked_as_mask_json_masks_it(head):
    assert mask_cut_json(head) == mask_json(head)[0]


def test_only_texts_without_a_secret_name_skip_the_name_search():
    assert not may_name_secret('[{"type": "delta", "delta": "the words of input_"}')
    assert may_name_secret('{"x": "my_secret"}') and may_name_secret('{"k\\u0065y": 1}')


def test_objects_masked_member_by_member_as_mask_json_masks_them():
    tools = [
        {"name": f"tool{index}", "description": "word " * 100, "parameters": {"type": "object"}} for index in range(5)
    ]
    values = [
        {"model": "m", "tools": tools, "input": [{"text": "hi " + KEY}], "instructions": "be brief " * 200},
        {
            "model": "m",
            "tools": json.loads(json.dumps(tools)),
            "input": [{"text": "again"}],
            "instructions": "be brief " * 200,
        },
        {"config": {"api_keys": ["abcdefgh12345678", "x" * 2000], "nested": {"password": "p" * 1500}}},
        {"settings": {"password": float("nan"), "pad": "p" * 1500}},
        {"settings": {"password": None, "pad": "p" * 1500}},
        [{"type": "response.created", "response": {"tools": tools, "id": "r1"}}, {"delta": "a"}, "text", 3],
        {"arguments": json.dumps({"token": "abcdefghijklmnopqrstuvwx", "pad": "q" * 1500})},
        {"unchanged": tools},
    ]
    masks = MemberMasks({})
    for _ in range(2):  # the second time from what was kept
        for value in values:
            expected = mask_json(value)[0]
            assert json.dumps(masks.mask(value)) == json.dumps(expected)
    assert masks.mask(values[-1]) is values[-1]
    assert masks.kept
