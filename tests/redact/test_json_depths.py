"""A secret is masked wherever JSON hides it: every credential of the corpus, held in JSON held in a string (a tool
call's arguments, a tool result, JSON in JSON in JSON, YAML or a .env file in a string, with `\\u` escapes), is
masked as the same text alone is, and the body still parses to the same structure with only the secret replaced;
what only looks like a secret stays readable at every depth."""

import json

import pytest
from secret_corpus import CORPUS, SECRETS

from probe.redact.escapes import decoded, regions, spaced, to_written
from probe.redact.masking import fingerprint, mask_body, mask_json, mask_text, may_mask


def nested(text: str, depth: int):
    """`text` as the command of a tool call whose arguments are JSON in a string, `depth` times over."""
    value = text
    for _ in range(depth):
        value = json.dumps({"command": value})
    return value


def innermost(value, depth: int) -> str:
    for _ in range(depth):
        value = json.loads(value)["command"]
    return value


SHAPES = {  # where an agent's request holds text a tool call or a tool wrote
    "arguments": lambda text: {"type": "function_call", "name": "shell", "arguments": text},
    "tool result": lambda text: {"role": "tool", "tool_call_id": "call_1", "content": text},
    "anthropic tool_result": lambda text: {"type": "tool_result", "content": [{"type": "text", "text": text}]},
}


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_every_corpus_secret_is_masked_at_every_depth_as_the_text_alone_is(depth, shape, ensure_ascii):
    for name, text, secret in CORPUS:
        body = json.dumps({"input": [SHAPES[shape](nested(text, depth))]}, ensure_ascii=ensure_ascii).encode()
        masked = mask_body(body, "application/json")
        parsed = json.loads(masked.data)  # still JSON, of the same structure
        item = parsed["input"][0]
        held = item.get("arguments") or item["content"]
        held = held[0]["text"] if isinstance(held, list) else held
        inside = innermost(held, depth)
        assert inside == mask_text(text)[0], (name, depth)  # what the report's pass over the text alone makes
        assert secret not in masked.data.decode(), (name, depth)


def test_a_dotenv_file_in_a_tool_result_in_the_history_of_a_later_request_is_masked():
    dotenv = "\n".join(text for name, text, _ in CORPUS if name.startswith(("env-", "python-", "toml-", "js-")))
    history = [
        {"role": "user", "content": "show me the config"},
        {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": json.dumps({"cmd": "cat .env"})},
        {"type": "function_call_output", "call_id": "c1", "output": json.dumps({"output": dotenv, "exit": 0})},
    ]
    body = json.dumps({"model": "m", "input": history * 2}).encode()
    masked = mask_body(body, "application/json").data.decode()
    for name, text, secret in CORPUS:
        if text in dotenv:
            assert secret not in masked and json.dumps(secret)[1:-1] not in masked, name


@pytest.mark.parametrize(
    "text",
    [
        "db:\n  host: x\n  password: Tr0ub4dor&3horse\n",  # YAML
        "password=Tr0ub4dor&3horse\n",
        "curl 'https://example.com/?api_key=Zq8Xk29vLq%2B8ZtR4mW7pN&page=2'",  # percent-encoded
        "grant_type=password&password=S3cr3tPa%21ss9&client_id=x",  # a form
        "machine api.example.com\tlogin bob\tpassword Xk29vLq8Zt",  # tabs
    ],
)
def test_go_style_escapes_and_other_spellings_inside_a_string_are_read_through(text):
    # Go writes `&` `<` `>` as \u0026 \u003c \u003e, and some writers `/` as `\/`: at every depth.
    for depth in (1, 2, 3):
        body = json.dumps({"arguments": nested(text, depth - 1)}).replace("&", "\\u0026").replace("/", "\\/")
        masked = mask_body(body.encode(), "application/json")
        inside = innermost(json.loads(masked.data)["arguments"], depth - 1)
        assert inside == mask_text(text)[0] != text, (depth, inside)


@pytest.mark.parametrize(
    "text",
    [
        '"max_tokens": 4096',
        "password: string",
        "token: Optional[str] = None",
        '"password": {"type": "string", "description": "the password"}',
        '{"type": "thinking", "signature": "0982b7bae7f04da3b70442a09a1475890982b7bae7f04da3b70442a09a147589"}',
        '"prompt_cache_key": "0198f2b4-6c1d-7e3a-9b5f-2d4c6e8a0b1c"',
        "key = lambda item: item.name",
        'print("a\\tb\\\\c")',
    ],
)
def test_what_only_looks_like_a_secret_stays_readable_at_every_depth(text):
    for depth in range(5):
        body = json.dumps({"arguments": nested(text, depth)}).encode()
        masked = mask_body(body, "application/json")
        assert masked.count == 0 and masked.data == body, depth


def test_a_secret_cut_by_json_escapes_keeps_the_json_around_it_valid():
    jwt = SECRETS[next(index for index, (name, _, _) in enumerate(CORPUS) if name == "jwt")]
    body = json.dumps({"arguments": json.dumps({"command": "Authorization: Bearer " + jwt})}).encode()
    masked = mask_body(body, "application/json")
    assert json.loads(json.loads(masked.data)["arguments"]) == {"command": "Authorization: Bearer " + fingerprint(jwt)}


def test_decoding_takes_off_one_level_and_finds_its_way_back():
    text = 'say \\"hi\\" \\\\n \\u0041\\/ \\q'
    assert decoded(text) == 'say "hi" \\n A/ \\q'
    assert decoded(text.encode()) == decoded(text).encode()
    view = decoded(text)
    start = view.index("A/")
    assert to_written(text, [(start, start + 2)]) == [(text.index("\\u0041"), text.index(" \\q"))]
    assert len(spaced(text)) == len(text) and spaced('a\\"b\\nc\\/') == 'a "b \nc /'
    assert regions("x" * 5000) == [] and regions("a " * 2000 + "\\t" + " b" * 2000)[0][1] - 4000 < 600


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_parsed_value_holding_a_secret_deep_in_json_strings_is_walked_and_masked(depth):
    # turns.jsonl and the viewer mask parsed values: may_mask must not spare one whose secret only decoding shows.
    for name, text, _ in CORPUS:
        value = {"type": "function_call", "arguments": nested(text, depth)}
        assert may_mask(value), name
        masked, _ = mask_json(value)
        assert innermost(masked["arguments"], depth) == mask_text(text)[0], name
