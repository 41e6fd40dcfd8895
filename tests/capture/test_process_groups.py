"""A child's process group is signalled only while it has a member: an empty group's number is free, and the system
may already have given it to a process someone else started (pid numbers wrap, at 32,768 on many machines)."""

import os
import signal
import subprocess
import sys
import time

from probe.capture import processes


def test_a_group_that_emptied_long_ago_is_not_signalled(monkeypatch):
    child = processes.spawn([sys.executable, "-c", "pass"])
    child.wait(timeout=30)  # ended and reaped: its number is free again
    sent = []
    monkeypatch.setattr(os, "killpg", lambda pgid, signum: sent.append((pgid, signum)))
    assert processes.stop(child) == 0
    assert sent == []


def test_children_that_outlive_their_leader_are_still_ended():
    # The leader starts a child in its group and ends: the group lives on in the child, which stop() ends.
    leader = processes.spawn(["sh", "-c", "sleep 300 & echo $!"], stdout=subprocess.PIPE, text=True)
    orphan = int(leader.stdout.readline())
    leader.wait(timeout=30)
    assert processes.group_alive(leader.pid)
    processes.stop(leader)
    deadline = time.monotonic() + 10
    while processes.group_alive(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes.group_alive(leader.pid)
    try:
        os.kill(orphan, 0)
    except ProcessLookupError:
        return
    # Still listed: only as a zombie of its new parent, which no signal reaches any more.
    with open(f"/proc/{orphan}/stat", "rb") as stat:
        assert stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"


def test_a_running_group_is_stopped_with_its_first_signal():
    child = processes.spawn([sys.executable, "-c", "import time; time.sleep(300)"])
    assert processes.stop(child, signal.SIGTERM, grace=10) == -signal.SIGTERM
