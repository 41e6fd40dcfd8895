"""The needle scan of the text rules finds what one regular expression per probe found: the same masked output
on captures, on these tests' own examples and on strings made to sit at the edges of every needle."""

import contextlib
import itertools
import json
import random
import re
from pathlib import Path

import pytest
import reference_scan
from hypothesis import given, settings
from hypothesis import strategies as st
from search_budget import examples

from probe.redact import masking as redaction
from probe.redact import shapes as secret_shapes
from probe.redact import urls_and_headers
from probe.redact.masking import mask_body
from probe.redact.replacing import fingerprint
from probe.redact.shape_rules import BOUNDARY, NEEDLES, RULES
from probe.redact.shapes import apply_rules, mask_bytes, mask_text, token_can_start

try:
    from re import _parser as sre_parse  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_parse

ROOT = Path(__file__).resolve().parents[2]


def language(pattern: str) -> set[str]:
    """Every string a small regular expression (literals, classes, alternations, `?`) matches."""

    def strings(items) -> set[str]:
        results = {""}
        for op, argument in items:
            name = str(op)
            if name == "LITERAL":
                options = {chr(argument)}
            elif name == "IN":
                options = set()
                for kind, value in argument:
                    if str(kind) == "LITERAL":
                        options.add(chr(value))
                    elif str(kind) == "RANGE":
                        options.update(chr(code) for code in range(value[0], value[1] + 1))
                    else:
                        raise ValueError(f"{pattern}: {kind}")
            elif name == "BRANCH":
                options = set().union(*(strings(branch) for branch in argument[1]))
            elif name == "SUBPATTERN":
                options = strings(argument[-1])
            elif name == "MAX_REPEAT" and argument[:2] == (0, 1):
                options = {""} | strings(argument[2])
            else:
                raise ValueError(f"{pattern}: {name}")
            results = {result + option for result in results for option in options}
        return results

    return strings(sre_parse.parse(pattern))


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.probe)
def test_each_rules_needles_are_every_string_its_probe_matches(rule):
    assert set(secret_shapes.needles_of(rule)) == language(rule.probe)


def test_a_rule_without_needles_or_with_wrong_ones_is_refused(monkeypatch):
    rule = secret_shapes.Rule("zz[0-9]", "zz[0-9]+")
    with pytest.raises(ValueError, match="is not a literal and has no needles"):
        secret_shapes.needles_of(rule)
    monkeypatch.setitem(NEEDLES, "zz[0-9]", ("zz1", "zzz"))
    with pytest.raises(ValueError, match="does not match"):
        secret_shapes.needles_of(rule)


# Contexts a token can follow, whole needles, pieces of secrets and near misses, combined below.
CONTEXTS = [
    "",
    " ",
    "ta",
    "a",
    "9",
    "_",
    "-",
    "x",
    "c",
    "g",
    "do",
    "\\n",
    "\\t",
    "\\u00e9",
    "\\u00E9",
    "%2F",
    "%2f",
    "%",
    "\\",
    '"',
    "'",
    "=",
    "?",
    "&",
    "\u00e9",
    "\n",
    "\\\\n",
    "u00e9",
    "\\u00g9",
]
EXAMPLES = [
    "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDf",
    "sk-ant-api03-abcdefghijklmnop",
    "csk-abcdefghijklmnopqrst",
    "sk_live_abcdefghij0123456789",
    "rk_test_abcdefghij0123456789",
    "AIzaSyA1234567890abcdefghijkl",
    "ya29.a0AfH6SMBx1234567890abcdef",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "ghp_abcdefghijklmnopqrstuvwxyz012345",
    "github_pat_11ABCDEFG0123456789_abcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE",
    "xoxb-1234567890-abcdefghij",
    "xapp-1-A0123456789-abcdef",
    "xai-" + "a1" * 16,
    "glpat-abcdefghij0123456789",
    "hf_" + "a1" * 16,
    "npm_" + "b2" * 16,
    "pypi-AgE" + "c3" * 21,
    "pplx-" + "d4" * 16,
    "SG.abcdefghij012345.abcdefghij012345",
    "gsk_" + "e5" * 16,
    "r8_" + "f6" * 16,
    "dop_v1_" + "0a" * 21,
    "shpat_" + "0123456789abcdef" * 2,
    "whsec_" + "abcd1234" * 4,
    "GOCSPX-abcdefghij0123456789",
    "ATATT3xFfGF0" + "g7" * 10,
    "sntrys_" + "h8" * 12,
    "lin_api_" + "i9" * 12,
    "ntn_" + "j0" * 12,
    "PMAK-0123456789abcdef-0123",
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIEabcd+/=\\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIE",
    "Bearer abcdefgh1234",
    "bearer\\nabc.def-12345",
    "BASIC dXNlcjpwYXNzd29yZA==",
    "Authorization: Bearer tok12345678",
    '"authorization": "abc12345678"',
    '\\"auth-token\\":\\"x1234567890\\"',
    "x-api-key: abcd12345678",
    "openai-insecure-api-key.sk1234567890abc",
    "https://alice:s3cr3t@example.com/x",
    "git clone ftp://u:p@h",
    "?key=abc123",
    "&access_token=xyz987",
    "#sig=abc",
    ";password=hunter2",
    "?X-Amz-Signature=abc",
    "&PASSWD=x",
    "[REDACTED sha256:0123abcd]",
]
NEAR_MISSES = [
    "task-0123456789abcdefghij",
    "ask-",
    "desk_",
    "risk-free",
    "tasks_",
    "trainai-0123456789",
    "auth",
    "author",
    "oauth2",
    "basically",
    "bearers",
    "shpx_",
    "sntryx",
    "PRIVATE KEYS",
    "://",
    "key=",
    "keys=",
    "AIz",
    "ya29",
    "eyJ.",
    "gh_",
    "ox-",
    "app-x-",
    "_v1",
    "SG..",
    "ATATT",
    "PMAK",
    "api-key",
    "A[KS]IA",
]


def needle_strings() -> list[str]:
    needles = [needle for rule in RULES for needle in secret_shapes.needles_of(rule)]
    return needles + [needle.upper() for needle in needles] + [needle.title() for needle in needles]


def generated() -> list[str]:
    """Each example and needle after each context, at the start and the end of a text, twice in a row, inside
    one another, and random strings of all these pieces."""
    pieces = EXAMPLES + NEAR_MISSES + needle_strings()
    texts = [context + piece + tail for context in CONTEXTS for piece in pieces for tail in ("", " ", "x", "\\n")]
    texts += [first + second for first, second in itertools.product(EXAMPLES + NEAR_MISSES, repeat=2)]
    texts += [
        example[: len(example) // 2] + other + example[len(example) // 2 :]
        for example in EXAMPLES
        for other in EXAMPLES
    ]
    rng = random.Random(15)
    parts = pieces + CONTEXTS + ["0123456789abcdef", "ABCDEFGH", "-_-", ".", "/", "@", ":"]
    texts += ["".join(rng.choice(parts) for _ in range(rng.randint(2, 8))) for _ in range(4000)]
    # So many `_`, `-` and `=` that visiting each gives way to a pattern.
    texts += [
        f"{filler * 3000}{example}{filler * 10}"
        for filler in ("a_", "b-", "k=", "sk_", "-_=", "A", "k-", "sk-", "ATAT")
        for example in EXAMPLES
    ]
    return texts


def samples() -> list[bytes]:
    """Every line of the bundled samples' captures, whole, and each request and response body in it."""
    bodies = []
    for capture in sorted(ROOT.glob("data/*/*-sample-*/traffic.jsonl")):
        for line in capture.read_bytes().splitlines():
            bodies.append(line)
            record = json.loads(line)
            for side in ("request", "response"):
                body = (record.get(side) or {}).get("body")
                if body is not None:
                    bodies.append(body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return bodies


def fixtures() -> list[bytes]:
    return [
        path.read_bytes() for path in sorted((ROOT / "tests").rglob("*")) if path.is_file() and path.suffix != ".pyc"
    ]


@contextlib.contextmanager
def without_re2():
    """The scan a mitmdump without RE2 makes: by the needles' anchors."""
    union, secret_shapes.NEEDLE_FINDER.union = secret_shapes.NEEDLE_FINDER.union, None
    try:
        yield
    finally:
        secret_shapes.NEEDLE_FINDER.union = union


def test_re2_is_there_to_be_compared():
    assert secret_shapes.NEEDLE_FINDER.union is not None  # else only the scan without it would be tested here


def assert_same(text) -> None:
    is_bytes = isinstance(text, bytes)
    expected = reference_scan.apply_rules(text, is_bytes)
    assert apply_rules(text, is_bytes) == expected, text[:200]
    with without_re2():
        assert apply_rules(text, is_bytes) == expected, text[:200]


@pytest.mark.slow  # thousands of texts through the slow probes: CI runs it, `nox -s quick` does not
def test_the_needle_scan_agrees_with_the_probes_on_generated_text():
    texts = generated()
    underscore = next(group for group in secret_shapes.SCANS[False][0].groups if group.anchor == "_")
    dense = [text for text in texts if text.count("_") > len(text) // secret_shapes.CHARACTERS_PER_VISIT + 16]
    assert any(underscore.dense.search(text) for text in dense)  # both ways of visiting an anchor are tried
    for text in texts:
        assert_same(text)
        assert_same(text.encode("utf-8"))
        assert_same(text.encode("latin-1", "replace"))


def test_the_needle_scan_agrees_with_the_probes_on_the_samples_and_these_tests_own_files():
    corpus = samples() + fixtures()
    assert len(corpus) > 100
    for data in corpus:
        assert_same(data)
        assert_same(data.decode("utf-8", "surrogateescape"))


def test_masking_whole_bodies_agrees_with_the_probes(monkeypatch):
    corpus = samples() + [text.encode() for text in generated()[::7]]
    new = [(mask_bytes(data), mask_text(data.decode("utf-8", "surrogateescape"))) for data in corpus]
    with without_re2():
        assert [(mask_bytes(data), mask_text(data.decode("utf-8", "surrogateescape"))) for data in corpus] == new
    monkeypatch.setattr(secret_shapes, "apply_rules", reference_scan.apply_rules)
    old = [(mask_bytes(data), mask_text(data.decode("utf-8", "surrogateescape"))) for data in corpus]
    assert new == old


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.sampled_from(EXAMPLES + NEAR_MISSES + CONTEXTS + needle_strings() + ["0a1B", "İ", "ẞ", "K"]), max_size=10
    )
)
def test_the_needle_scan_agrees_with_the_probes_on_any_mix(pieces):
    text = "".join(pieces)
    assert_same(text)
    assert_same(text.encode("utf-8"))


def test_the_boundary_check_is_boundary():
    boundary = re.compile(BOUNDARY)
    boundary_bytes = re.compile(BOUNDARY.encode())
    texts = [context + "sk-" for context in CONTEXTS] + generated()[:3000]
    for text in texts:
        for start in range(len(text) + 1):
            assert token_can_start(text, start) == bool(boundary.match(text, start)), (text, start)
        data = text.encode("utf-8")
        for start in range(len(data) + 1):
            assert token_can_start(data, start) == bool(boundary_bytes.match(data, start)), (data, start)


CODEX_LIKE = (
    '{"model":"gpt-5-codex","instructions":"You are a coding agent. Each task-0123456789abcdefghij has a desk '
    'and we ask-questions; see https://example.com/docs?page=2.","input":[{"type":"message","role":"user",'
    '"content":[{"type":"input_text","text":"run task-0123456789abcdefghij\\nthen %s"}]}],'
    '"tools":[{"type":"function","name":"shell","parameters":{"type":"object"}}]}'
)


def test_a_task_id_is_left_alone_and_a_key_after_an_escape_is_masked():
    key = "sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"  # made up, written split
    plain = (CODEX_LIKE % "done").encode()
    assert mask_bytes(plain) == (plain, 0)
    assert mask_body(plain, "application/json").data == plain
    for before in ("\\n", "%20", '\\"', " "):
        body = (CODEX_LIKE % f"{before}{key}").encode()
        masked, count = mask_bytes(body)
        assert count == 1 and key.encode() not in masked
        assert f"{before}{fingerprint(key)}".encode() in masked and b"task-0123456789abcdefghij" in masked
    cerebras = "csk-" + "abcdefghij0123456789"
    masked, count = mask_bytes((CODEX_LIKE % f"x {cerebras}").encode())
    assert count == 1 and fingerprint(cerebras).encode() in masked
    masked, count = mask_bytes((CODEX_LIKE % f"x xsk-{'a' * 20}").encode())
    assert count == 0  # `xsk-…` is inside a longer word, not a key
    masked, count = mask_text(f"\\u00e9{key}")
    assert masked == f"\\u00e9{fingerprint(key)}" and count == 1


def test_a_text_body_masked_in_one_pass_is_masked_as_in_two():
    corpus = samples() + [text.encode() for text in generated()[::5]]
    corpus.append(b'data: {"type":"x","api_key":"plain-value"}\n\ndata: {"delta":"sk-' + b"a1" * 12 + b'"}\n')
    corpus.append(b'data: {"token":"\\u0073k-' + b"b2" * 12 + b'"}\n')
    for data in corpus:
        masked, count = mask_bytes(data)
        lines, named = redaction.mask_json_lines(masked)
        assert redaction.mask_text_lines(data) == (lines, count + named)
        with without_re2():
            assert redaction.mask_text_lines(data) == (lines, count + named)


def test_headers_and_urls_masked_after_one_scan_are_masked_as_when_every_part_is_scanned(monkeypatch):
    texts = [text for text in generated()[::3] if "\n" not in text and "\r" not in text][:4000]
    pairs = [(texts[index], texts[index + 1]) for index in range(0, len(texts) - 1, 2)]
    pairs += [
        ("authorization", "Bearer sk-" + "a1" * 12),
        ("x-note", "see sk-" + "b2" * 12),
        ("x-" + "sk-" + "c3" * 12, "1"),
    ]
    urls = [f"https://host/{text}?q={text}&api_key=v#{text}" for text in texts[:1500]]
    urls += ["https://api.example/v1/sk-" + "d4" * 12 + "/x?key=AIza" + "e5" * 12, "/p%73k-" + "f6" * 12]
    headers = redaction.mask_headers(pairs)
    masked_urls = [redaction.mask_url(url) for url in urls]
    monkeypatch.setattr(urls_and_headers, "which_have_shapes", lambda texts: [True] * len(texts))
    assert redaction.mask_headers(pairs) == headers
    assert [redaction.mask_url(url) for url in urls] == masked_urls
    assert headers[0][-3][1].startswith("[REDACTED") and "[REDACTED" in headers[0][-2][1] + headers[0][-1][0]
