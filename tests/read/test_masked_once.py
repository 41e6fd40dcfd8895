"""URLs and headers masked once a process (probe.read.masked) are masked as masking each of them anew masks them:
every credential shape of the secret corpus, as a header's value and in a URL, met once and then again beside others."""

from secret_corpus import CORPUS as SECRETS

from probe.read import masked
from probe.redact.masking import mask_headers, mask_url
from probe.redact.replacing import secrets_seen


def test_headers_and_urls_kept_are_masked_as_each_anew():
    headers = [("x-api-key", "sk-test"), ("user-agent", "agent/1.0"), ("Authorization", "Bearer abc.def")]
    headers += [(f"x-note-{index}", text) for index, (_, text, _) in enumerate(SECRETS)]
    urls = [f"https://x.test/v1/messages?beta=true&key={text}" for _, text, _ in SECRETS] + ["/v1/messages"]
    for _ in range(2):  # the first time masked, the second time kept
        for at in range(0, len(headers), 7):
            some = headers[at : at + 7] + headers[:2]
            assert (
                masked.masked_headers(some, frozenset({"x-note-3"})) == mask_headers(some, frozenset({"x-note-3"}))[0]
            )
            assert masked.masked_headers(some, frozenset()) == mask_headers(some, frozenset())[0]
        assert [masked.masked_url(url) for url in urls] == [mask_url(url)[0] for url in urls]


def test_while_fingerprints_are_gathered_each_is_made_again():
    pairs = [("x-api-key", "sk-gathered-" + "A1b2" * 6)]
    masked.masked_headers(pairs, frozenset())  # kept
    with secrets_seen() as seen:
        assert masked.masked_headers(pairs, frozenset()) == mask_headers(pairs, frozenset())[0]
    assert list(seen.values()) == [pairs[0][1]]


def test_huge_urls_and_headers_are_masked_each_time_not_kept():
    masked.MASKED_URLS.clear(), masked.MASKED_HEADERS.clear()
    url = "https://x.test/v1?" + "a" * masked.KEPT_LENGTH + "&key=sk-" + "A1b2" * 8
    header = [("x-note", "b" * masked.KEPT_LENGTH + " sk-" + "A1b2" * 8)]
    assert masked.masked_url(url) == mask_url(url)[0]
    assert masked.masked_headers(header, frozenset()) == mask_headers(header, frozenset())[0]
    assert not masked.MASKED_URLS and not masked.MASKED_HEADERS  # memory stays bounded by what is kept
