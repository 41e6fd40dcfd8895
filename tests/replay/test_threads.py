"""Each thread of a replay is served from its own recorded thread: two sub-agents whose requests are the same
(the case matching by key alone gets wrong), a sub-agent told by the name its requests give it or by its parent,
a thread the recording has no room for, and the committed sub-agent captures fed back in another interleaving
under fresh ids; the threads are named by the analysis's own rules, as the agents send them."""

import json
import uuid
from pathlib import Path

from conftest import PROJECT_ROOT

from probe.analyse.agents import AgentTree
from probe.read.conversation import Turn
from probe.replay.keys import RequestKey
from probe.replay.matching import Divergence, Matcher
from probe.replay.recorded import Answer, recorded_answers
from probe.replay.threads import Thread, ThreadNames

SAVED = PROJECT_ROOT / "tests" / "data" / "subagents"
ENDPOINT = "POST /v1/messages"


def key(*said: str) -> RequestKey:
    return RequestKey(ENDPOINT, "m", tuple(("user", (("text", text, None, None, False, None),)) for text in said))


def answer(number: int, request: RequestKey, thread: Thread | None) -> Answer:
    return Answer(number, request, body=f"answer #{number}".encode(), thread=thread)


MAIN = Thread("main")
TASK, DONE = key("write hello"), key("write hello", "tool said ok")


def two_same_subagents() -> list[Answer]:
    """The main agent spawns two sub-agents with the same task: their requests are the same, their answers not."""
    first, second = Thread("agent-a", "main"), Thread("agent-b", "main")
    return [
        answer(1, key("spawn two"), MAIN),
        answer(2, TASK, first), answer(3, TASK, second),
        answer(4, DONE, first), answer(5, DONE, second),
        answer(6, key("spawn two", "both done"), MAIN),
    ]  # fmt: skip


def served(found: Answer | Divergence) -> int:
    assert isinstance(found, Answer), found.summary()
    return found.number


def test_two_threads_with_the_same_requests_each_get_their_own_answers_in_order():
    # This run's sub-agents (fresh ids) ask in another interleaving: y finishes its task before x.
    x, y = Thread("fresh-x", "main"), Thread("fresh-y", "main")
    asked = [
        (key("spawn two"), MAIN),
        (TASK, x),
        (TASK, y),
        (DONE, y),
        (DONE, x),
        (key("spawn two", "both done"), MAIN),
    ]
    matcher = Matcher(two_same_subagents())
    got = [(thread.id, served(matcher.answer(request, thread))) for request, thread in asked]
    assert got == [("main", 1), ("fresh-x", 2), ("fresh-y", 3), ("fresh-y", 5), ("fresh-x", 4), ("main", 6)]
    assert matcher.bound == {"main": "main", "fresh-x": "agent-a", "fresh-y": "agent-b"}
    assert matcher.thread_counts() == {"recorded": 3, "bound": 3, "unbound": 0}
    assert (matcher.repeated, matcher.divergences, matcher.unserved()) == (0, [], [])

    # Matched by key alone (no thread named), y's second request gets x's recorded answer, and x gets y's.
    blind = Matcher(two_same_subagents())
    assert [served(blind.answer(request)) for request, _ in asked] == [1, 2, 3, 4, 5, 6]


def test_a_thread_is_bound_by_its_name_then_its_parent_then_its_next_answer():
    warm_up = RequestKey("WS /v1/responses", "m", ())  # every codex thread's first request is the same
    child, other = Thread("rec-c", "main", "/root/tester"), Thread("rec-o", "main", "/root/writer")
    grandchild = Thread("rec-g", "rec-c", None)
    recorded = [answer(1, warm_up, MAIN), answer(2, warm_up, child), answer(3, warm_up, other),
                answer(4, warm_up, grandchild), answer(5, key("test"), child), answer(6, key("write"), other),
                answer(7, key("nested"), grandchild)]  # fmt: skip
    matcher = Matcher(recorded)
    assert served(matcher.answer(warm_up, Thread("main"))) == 1
    # The writer asks first: its name, which both runs share, binds it to the recorded writer, not to the first
    # recorded thread waiting for a warm-up.
    assert served(matcher.answer(warm_up, Thread("new-w", "main", "/root/writer"))) == 3
    assert served(matcher.answer(warm_up, Thread("new-t", "main", "/root/tester"))) == 2
    # A grandchild that gives no name: the recorded thread whose parent is bound to its parent.
    assert served(matcher.answer(warm_up, Thread("new-g", "new-t"))) == 4
    assert [served(matcher.answer(key(said), thread)) for said, thread in
            (("nested", Thread("new-g", "new-t")), ("write", Thread("new-w", "main")),
             ("test", Thread("new-t", "main")))] == [7, 6, 5]  # fmt: skip


def test_a_thread_the_recording_has_no_room_for_diverges_and_is_named():
    matcher = Matcher(two_same_subagents())
    matcher.answer(key("spawn two"), MAIN)
    for fresh in ("fresh-x", "fresh-y"):
        served(matcher.answer(TASK, Thread(fresh, "main")))
    third = matcher.answer(TASK, Thread("fresh-z", "main"))  # a third sub-agent, not recorded
    assert isinstance(third, Divergence) and third.expected is None
    assert third.summary() == (
        f"diverged at request 4 ({ENDPOINT}, thread fresh-z, bound to no recorded thread): it matches no recorded "
        "request; expected nothing recorded"
    )
    assert third.threads() == {"this_run": "fresh-z", "recorded": None}
    wrong = matcher.answer(key("something else"), Thread("fresh-x", "main"))  # a bound thread that asks otherwise
    assert isinstance(wrong, Divergence) and wrong.expected.number == 4
    assert wrong.summary().startswith(f"diverged at request 5 ({ENDPOINT}, recorded thread agent-a): ")
    assert wrong.threads() == {"this_run": "fresh-x", "recorded": "agent-a"}
    assert matcher.thread_counts() == {"recorded": 3, "bound": 3, "unbound": 1}


def test_a_request_that_names_no_thread_is_matched_by_its_key():
    recorded = [answer(1, TASK, None), answer(2, TASK, MAIN), answer(3, DONE, MAIN)]
    matcher = Matcher(recorded)
    # A side request that names nothing takes the answer recorded without a thread first, even if it came later.
    assert served(matcher.answer(TASK)) == 1
    assert served(matcher.answer(TASK, Thread("main"))) == 2
    assert served(matcher.answer(DONE)) == 3  # then any waiting, as before threads were told apart
    assert matcher.thread_counts() == {"recorded": 1, "bound": 1, "unbound": 0}


def headers(path: Path) -> list[list[tuple[str, str]]]:
    return [[tuple(pair) for pair in json.loads(line)["request"]["headers"]] for line in path.read_text().splitlines()]


# The headers that carry an agent's ids (probe notes): a new run of the agent sends fresh ones.
ID_HEADERS = {"x-claude-code-session-id", "x-claude-code-agent-id", "x-claude-code-parent-agent-id", "session-id",
              "thread-id", "x-codex-parent-thread-id"}  # fmt: skip


def renamed(requests: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """The same headers with every id in them fresh (the same fresh id for the same old one)."""
    ids: dict[str, str] = {}
    return [[(name, ids.setdefault(value, str(uuid.uuid4())) if name.lower() in ID_HEADERS else value)
             for name, value in pairs] for pairs in requests]  # fmt: skip


def test_the_committed_sub_agent_captures_replayed_in_another_interleaving_get_each_agents_answers():
    for target in ("claude-code", "codex"):
        run = SAVED / target
        answers, _ = recorded_answers(run)
        recorded_headers = headers(run / "traffic.jsonl")
        assert [answer.number for answer in answers] == list(range(1, len(recorded_headers) + 1))
        # The analysis's own grouping of the recording: the agent of each exchange.
        tree = AgentTree()
        agent_of = {number: tree.add(Turn(number, number, "http", "", "POST", "/", 200, True, ""), pairs)
                    for number, pairs in enumerate(recorded_headers, 1)}  # fmt: skip
        assert len(set(agent_of.values())) == 3
        # Each agent's requests in their order, but the agents taking turns otherwise: the newest agent first.
        by_agent: dict[str, list[int]] = {}
        for number, agent in agent_of.items():
            by_agent.setdefault(agent, []).append(number)
        order = sorted(agent_of, key=lambda number: (by_agent[agent_of[number]].index(number), -number))
        assert order != sorted(order)
        new_headers = renamed(recorded_headers)
        names, matcher = ThreadNames(), Matcher(answers)
        got = {}
        for number in order:
            thread = names.of(new_headers[number - 1])
            got[number] = served(matcher.answer(answers[number - 1].key, thread))
        # Every request got the very answer recorded for it: its own agent's, in that agent's order.
        assert got == {number: number for number in agent_of}, target
        assert matcher.thread_counts() == {"recorded": 3, "bound": 3, "unbound": 0}
        assert (matcher.repeated, matcher.divergences, matcher.unserved()) == (0, [], [])


def test_a_recorded_version_is_read_from_what_the_agent_said():
    from probe.replay.run import recorded_version

    assert recorded_version({"agent": {"version": "2.1.330 (Claude Code)"}}) == "2.1.330"
    assert recorded_version({"agent": {"version": "codex-cli 0.169.0", "requested_version": "0.166.0"}}) == "0.166.0"
    assert recorded_version({"agent": {"version": "v1.18.33"}}) == "1.18.33"
    assert recorded_version({"agent": {"version": "unknown"}}) is None and recorded_version({}) is None
