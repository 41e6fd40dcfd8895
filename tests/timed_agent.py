"""A stand-in agent whose every duration is known: it speaks the Anthropic Messages API with Claude Code's agent
headers through the proxy (ANTHROPIC_BASE_URL), runs its "tools" by sleeping, pauses in itself, and runs two
sub-agents side by side in threads. tests/e2e/test_e2e_time_known.py runs it through the real proxy against
tests/timed_model.py, whose answers come WAITING after the request and stream for STREAMING.

Each request's last user message names the answer it wants (`answer: <tool> <id>, …` or `answer: text`), so the
model server needs no script of its own. The stand-in writes what it did by its own clock to the file TIMED_LOG
names, a JSON line per request: its agent, what it did before it (`start`, `tool:<name>`, `agent`, `sub_agents`),
when that began (the answer before, or the spawn), when it sent the request and when the answer ended.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

SESSION = "5e551011-0000-4000-8000-000000000054"
# Each part is 0.4 s or more: a busy machine delays the proxy's own timestamps by tens of milliseconds.
# The model server's first byte comes WAITING after the agent sent the request (its SENT header: the proxy's own
# milliseconds on the way are inside it), its last byte STREAMING after that.
WAITING, STREAMING = 0.4, 0.4
SENT = "x-timed-sent"
LOG = "TIMED_LOG"
TOOL_A = 0.6  # one Bash call
PARALLEL_TOOLS = (0.5, 0.3)  # two Read calls asked for in one answer and run at once: 0.5 s of tool time
PAUSE = 0.5  # time in the agent itself, between a plain answer and its next request
CHILDREN = {"a1c0ffee00000001": 0.5, "a1c0ffee00000002": 0.4}  # each sub-agent: a request, a Bash call, a request
CHILD_START = 0.5  # a sub-agent's time in itself before its first request
# Each step ends at a deadline counted from the answer before it, so the stand-in's own overhead (threads, JSON)
# falls inside the known durations instead of adding to them.


def sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.time()))


class Conversation:
    """One agent's messages, sent whole with each request, as the API wants."""

    def __init__(self, prompt: str, agent: str | None = None, begun: float = 0.0):
        self.agent = agent
        self.messages: list[dict] = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
        self.results: list[dict] = []
        self.answered = begun  # when the newest answer's last byte came (before the first: when the agent began)
        self.log: list[dict] = []

    def tool_results(self, *pairs: tuple[str, str]) -> None:
        """The tool results the next request carries, each (call id, text)."""
        self.results = [{"type": "tool_result", "tool_use_id": call_id, "content": text} for call_id, text in pairs]

    def ask(self, answer: str, after: str) -> None:
        """One streamed request naming the answer it wants; the answer joins the conversation. `after`: what the
        agent did since the answer before (see LOG)."""
        directive = {"type": "text", "text": f"answer: {answer}"}
        if self.results or len(self.messages) > 1:
            self.messages.append({"role": "user", "content": [*self.results, directive]})
        else:
            self.messages[0]["content"].append(directive)
        self.results = []
        body = {"model": "claude-timed", "max_tokens": 1024, "stream": True, "messages": self.messages}
        headers = {"content-type": "application/json", "anthropic-version": "2023-06-01",
                   "x-api-key": "timed-stand-in", "x-claude-code-session-id": SESSION}  # fmt: skip
        if self.agent:
            headers["x-claude-code-agent-id"] = self.agent
        base = urllib.parse.urlsplit(os.environ["ANTHROPIC_BASE_URL"])
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        connection.connect()  # connected first, so that SENT is the moment the request leaves
        sent = time.time()
        headers[SENT] = repr(sent)
        connection.request("POST", "/v1/messages?beta=true", json.dumps(body).encode(), headers)
        lines = connection.getresponse().read().decode().splitlines()
        connection.close()
        events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
        content = [event["content_block"] for event in events if event["type"] == "content_block_start"]
        self.messages.append({"role": "assistant", "content": content})
        answered = time.time()
        self.log.append({"agent": self.agent, "after": after, "begun": self.answered, "sent": sent,
                         "answered": answered})  # fmt: skip
        self.answered = answered


def sub_agent(agent: str, tool_seconds: float, spawned: float, log: list[dict]) -> None:
    conversation = Conversation(f"sub-agent {agent}", agent, spawned)
    sleep_until(spawned + CHILD_START)
    conversation.ask(f"Bash toolu_{agent}", "agent")
    sleep_until(conversation.answered + tool_seconds)
    conversation.tool_results((f"toolu_{agent}", "ran"))
    conversation.ask("text", "tool:Bash")
    log.extend(conversation.log)


def at_once(target, arguments: list[tuple]) -> None:
    """Runs target(*each) for each in threads, side by side, and waits for them all."""
    threads = [threading.Thread(target=target, args=each) for each in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def say_hello() -> None:
    """HEAD /api/hello, as Claude Code starts: the proxy's first request on a connection is slow to be read, and
    this one is no model call."""
    base = urllib.parse.urlsplit(os.environ["ANTHROPIC_BASE_URL"])
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    connection.request("HEAD", "/api/hello")
    connection.getresponse().read()
    connection.close()


def main() -> int:
    say_hello()
    conversation = Conversation("a run of known durations", begun=time.time())
    conversation.ask("Bash toolu_a", "start")
    sleep_until(conversation.answered + TOOL_A)
    conversation.tool_results(("toolu_a", "ran"))
    conversation.ask("Read toolu_b, Read toolu_c", "tool:Bash")
    at_once(sleep_until, [(conversation.answered + seconds,) for seconds in PARALLEL_TOOLS])
    conversation.tool_results(("toolu_b", "ran"), ("toolu_c", "ran"))
    conversation.ask("text", "tool:Read")
    sleep_until(conversation.answered + PAUSE)
    conversation.ask("Agent toolu_s1, Agent toolu_s2", "agent")
    children: list[dict] = []
    at_once(sub_agent, [(agent, seconds, conversation.answered, children) for agent, seconds in CHILDREN.items()])
    reports = [(f"toolu_s{number}", f"Done.\nagentId: {agent} (ran)") for number, agent in enumerate(CHILDREN, 1)]
    conversation.tool_results(*reports)
    conversation.ask("text", "sub_agents")
    with open(os.environ[LOG], "w") as log:
        log.writelines(json.dumps(line) + "\n" for line in conversation.log + children)
    print("timed agent done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
