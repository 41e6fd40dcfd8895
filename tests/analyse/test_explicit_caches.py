"""Gemini's explicit caches: a cache the agent made (`POST …/cachedContents` with a ttl, answered with its name and
expiry; a `PATCH` that sets a new ttl; a `DELETE`) is no turn, and a turn naming it (`cachedContent`) gets its
lifetime, counted from when it was made or its ttl set, not from its last use; a cache not seen made keeps its ttl
unknown, as Gemini's implicit cache's is; and no capture makes the analysis remember more than its newest caches."""

from datetime import UTC, datetime
from types import SimpleNamespace

from conftest import captured_exchange
from test_cache_lifetime import analysed, timing

from probe.analyse.explicit_caches import CACHES_KEPT, ExplicitCaches
from probe.apis.gemini import report as gemini
from probe.apis.recognise import recognised
from probe.read.traffic import Body, from_entry

HOST = "https://generativelanguage.googleapis.com"
SYSTEM = {"parts": [{"text": "You are a coding agent working in /tmp/project."}]}
MADE_AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC).timestamp()  # the server's clock: the capture's is elsewhere


def server_time(offset: float) -> str:
    """A moment `offset` seconds after MADE_AT as the API writes it, to the nanosecond."""
    return datetime.fromtimestamp(MADE_AT + offset, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def cache_call(method: str, at: float, name: str, ttl: str | None, updated: float, expires: float, **request):
    """A cache made (POST) or its ttl changed (PATCH) at `at` on the capture's clock, answered with its times on the
    server's: `updated` and `expires` seconds after MADE_AT."""
    path = "/v1beta/cachedContents" if method == "POST" else f"/v1beta/{name}?updateMask=ttl"
    body = {**request, **({"ttl": ttl} if ttl else {})}
    answer = {"name": name, "model": "models/house-model-1", "createTime": server_time(0),
              "updateTime": server_time(updated), "expireTime": server_time(expires),
              "usageMetadata": {"totalTokenCount": 4000}}  # fmt: skip
    record = captured_exchange(path, body, answer, host=HOST, response_headers=(("content-type", "application/json"),),
                               timing={"start": at - 0.5, "first_byte": at, "end": at + 0.01}, id=f"c{at}")  # fmt: skip
    record["request"]["method"] = method
    return record


def gemini_session(turns: list[tuple[float, str, int]]) -> list[dict]:
    """generateContent turns of one conversation, each re-sending the history: its start, the cache it names and the
    tokens it read from it, of 4,100 input tokens."""
    history, lines = [], []
    for number, (start, cache, read) in enumerate(turns, start=1):
        history.append({"role": "user", "parts": [{"text": f"Step {number}."}]})
        body = {**({"cachedContent": cache} if cache else {}), "contents": list(history)}
        answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": f"Done {number}."}]},
                                  "finishReason": "STOP"}],
                  "usageMetadata": {"promptTokenCount": 4100, "cachedContentTokenCount": read,
                                    "candidatesTokenCount": 5}}  # fmt: skip
        lines.append(captured_exchange("/v1beta/models/house-model-1:generateContent", body, answer, host=HOST,
                                       response_headers=(("content-type", "application/json"),),
                                       timing=timing(start), id=f"t{number}"))  # fmt: skip
        history.append({"role": "model", "parts": [{"text": f"Done {number}."}]})
    return lines


def test_a_turn_naming_a_cache_seen_made_lives_by_its_ttl_from_then_not_from_its_last_use(tmp_path, monkeypatch):
    name = "cachedContents/k3x9house"
    made = cache_call("POST", 1000.0, name, "300s", 0, 300, model="models/house-model-1", systemInstruction=SYSTEM,
                      contents=[{"role": "user", "parts": [{"text": "The project's files."}]}])  # fmt: skip
    patched = cache_call("PATCH", 1250.0, name, "600s", 250, 850)  # a new ttl, from its own moment
    first, second, third, fourth, unseen = gemini_session([
        (1100.0, name, 4000), (1200.0, name, 4000), (1400.0, name, 4000), (1900.0, name, 0),
        (1950.0, "cachedContents/madeelsewhere", 0),
    ])  # fmt: skip
    lines = [made, first, second, patched, third, fourth, unseen]
    section, turns, _ = analysed(tmp_path, monkeypatch, lines, gemini)
    # The cache's own exchanges are no turns: the turns are the 2nd, 3rd, 5th, 6th and 7th exchanges.
    assert sorted(turns) == [2, 3, 5, 6, 7]
    made_source = (
        f"Gemini's explicit cache {name}, ttl 300s from when it was made (ai.google.dev/gemini-api/docs/caching)"
    )
    assert (turns[2]["since_s"], turns[2]["lifetime_s"], turns[2]["lapsed"], turns[2]["lifetime_source"]) == (
        100.0, 300, False, made_source)  # fmt: skip
    # 99 s after the turn before read it, but 200 s after it was made: the ttl does not start again on a read.
    assert (turns[3]["since_s"], turns[3]["lifetime_s"], turns[3]["lapsed"]) == (200.0, 300, False)
    # 400 s after it was made, past its first ttl; the PATCH gave it 600 s from its own moment.
    assert (turns[5]["since_s"], turns[5]["lifetime_s"], turns[5]["lapsed"]) == (150.0, 600, False)
    assert turns[5]["lifetime_source"].startswith(f"Gemini's explicit cache {name}, ttl 600s from when its ttl was")
    assert turns[5]["cause"] is None
    # Past the new ttl: a lapse, named with the cache, and the input it could not read written again.
    assert (turns[6]["since_s"], turns[6]["lifetime_s"], turns[6]["lapsed"]) == (650.0, 600, True)
    assert turns[6]["cause"] == {"kind": "lifetime", "text": (
        f"11 min since {name} was made or its ttl last set, past the cache's 10 min lifetime")}  # fmt: skip
    assert turns[6]["rewritten"] == 4000  # what #5 held, not the new tail
    # A cache the capture did not see made: its ttl is unknown, and so is the lapse.
    assert (turns[7]["lifetime_s"], turns[7]["lapsed"]) == (None, None)
    assert turns[7]["lifetime_source"].startswith("Gemini's explicit cache (cachedContent), ttl unknown")
    assert "Written again after the cache's lifetime lapsed: 4,000 input tokens over 1 turn" in section


def test_a_deleted_cache_ends_when_it_was_deleted_and_a_failed_call_changes_nothing(tmp_path, monkeypatch):
    name = "cachedContents/gone"
    deleted = captured_exchange(f"/v1beta/{name}", None, {}, host=HOST, timing=timing(1060.0), id="del",
                                response_headers=(("content-type", "application/json"),))  # fmt: skip
    deleted["request"].update(method="DELETE", body_format="empty")
    refused = cache_call("PATCH", 1070.0, name, "7200s", 70, 7270)
    refused["response"]["status"] = 403
    [turn] = gemini_session([(1100.0, name, 0)])
    lines = [cache_call("POST", 1000.0, name, None, 0, 3600), deleted, refused, turn]
    _, turns, _ = analysed(tmp_path, monkeypatch, lines, gemini)
    [only] = turns.values()
    # Made with an expireTime an hour on (no ttl asked), deleted 60.5 s after its answer came.
    assert (only["since_s"], only["lifetime_s"], only["lapsed"]) == (100.0, 60.5, True)
    assert only["lifetime_source"].startswith(f"Gemini's explicit cache {name}, ttl 3600s from when it was made, "
                                              "deleted after 60.5s")  # fmt: skip


def test_gemini_s_implicit_cache_has_no_documented_lifetime_so_a_long_gap_is_never_named_a_lapse(tmp_path, monkeypatch):
    lines = gemini_session([(1000.0, None, 3000), (1361.0, None, 0)])  # 6 minutes apart, the second read nothing
    _, turns, _ = analysed(tmp_path, monkeypatch, lines, gemini)
    second = turns[2]
    assert (second["since_s"], second["lifetime_s"], second["lapsed"]) == (360.0, None, None)
    assert second["lifetime_source"].startswith("Gemini's implicit cache, whose lifetime is not documented")
    assert second["cause"]["kind"] == "unseen" and second["rewritten"] is None


def test_the_cache_calls_are_no_model_calls():
    made = cache_call("POST", 1.0, "cachedContents/a", "60s", 0, 60, contents=[{"role": "user", "parts": []}])
    patched = cache_call("PATCH", 2.0, "cachedContents/a", "60s", 1, 61)
    vertex = cache_call("POST", 3.0, "projects/p/locations/us-central1/cachedContents/b", "60s", 0, 60,
                        contents=[{"role": "user", "parts": []}])  # fmt: skip
    vertex["request"]["path"] = "/v1/projects/p/locations/us-central1/cachedContents"
    assert [recognised(from_entry(record, 1, 1)) for record in (made, patched, vertex)] == [None, None, None]


def test_a_capture_that_makes_thousands_of_caches_is_remembered_only_in_its_newest():
    caches = ExplicitCaches()
    for index in range(3000):
        answer = {"name": f"projects/p/locations/l/cachedContents/{index}", "createTime": server_time(0),
                  "updateTime": server_time(0), "expireTime": server_time(60)}  # fmt: skip
        caches.note(SimpleNamespace(path="/v1/projects/p/locations/l/cachedContents", method="POST", status=200,
                                    timing={"first_byte": float(index)}, request_body=Body({"ttl": "60s"}, "json"),
                                    response_body=Body(answer, "json")))  # fmt: skip
    assert len(caches.caches) == CACHES_KEPT and caches.forgotten == 3000 - CACHES_KEPT
    assert caches.named("cachedContents/0") is None
    newest = caches.named("cachedContents/2999")  # named by its short name or whole, it is the same cache
    assert newest == caches.named("projects/p/locations/l/cachedContents/2999")
    assert (newest.since, newest.seconds, newest.ttl) == (2999.0, 60, "60s")


def test_a_ttl_too_long_to_be_a_number_of_seconds_leaves_the_cache_unknown_rather_than_failing_the_report():
    caches = ExplicitCaches()
    for ttl, answer in [("9" * 400 + "s", {"name": "cachedContents/huge"}),  # no times: the ttl asked is all
                        ("1e999s", {"name": "cachedContents/exponent"}),
                        ("60s", {"name": "cachedContents/far", "updateTime": "0001-01-01T00:00:00Z",
                                 "expireTime": "9999-12-31T23:59:59Z"})]:  # fmt: skip
        caches.note(
            SimpleNamespace(
                path="/v1beta/cachedContents",
                method="POST",
                status=200,
                timing={"first_byte": 5.0},
                request_body=Body({"ttl": ttl}, "json"),
                response_body=Body(answer, "json"),
            )
        )
    assert caches.named("cachedContents/huge") is None and caches.named("cachedContents/exponent") is None
    far = caches.named("cachedContents/far")  # ten thousand years, on the server's clock: a number all the same
    assert far is not None and abs(far.seconds - 315_537_897_599) <= 1
