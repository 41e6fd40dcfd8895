"""Hand-written `span` and `time` records of insight.jsonl (docs/formats.md), with known figures: a main agent and two
sub-agents, a critical path of a chosen length, and names that can carry hostile text."""

START = 1_764_000_000.0
KEY = "sk-ant-api03-" + "A" * 93 + "AA"  # a token shape the report masks


def span(number: int, agent: str, kind: str, name: str, start: float, seconds: float, exchanges: list[int],
         **more) -> dict:  # fmt: skip
    model = kind == "model"
    return {"record": "span", "schema": 1, "id": number, "agent": agent, "kind": kind, "name": name,
            "start": START + start, "end": START + start + seconds, "duration_ms": seconds * 1000,
            "first_byte": START + start + seconds / 3 if model else None, "exchanges": exchanges,
            "call_id": f"toolu_{number}" if kind in ("tool", "sub_agent") else None,
            "child": more.pop("child", None), "tokens": {"input": 10, "output": 2, "cache_read": 0, "cache_write": 0}
            if model else None, "cost_usd": "0.0010" if model else None, "cache_break": more.pop("cache_break", False),
            "compaction": False, "open": more.pop("open", False), "critical": True, **more}  # fmt: skip


def time_record(agent: str | None, name: str, parent: str | None, depth: int, wall: float, parts: dict,
                tools: dict | None = None, **more) -> dict:  # fmt: skip
    every = {"model_waiting": 0.0, "model_streaming": 0.0, "tools": 0.0, "sub_agents": 0.0, "user": 0.0, "agent": 0.0}
    return {"record": "time", "schema": 1, "agent": agent, "name": name, "parent": parent, "depth": depth,
            "start": START, "end": START + wall, "wall_s": wall, "parts": every | parts, "tools": tools or {},
            "spans": 4, "critical_path": None, "critical_s": None, **more}  # fmt: skip


def records(path_length: int = 3, tool: str = "Bash", sub_agent: str = "explore the repo") -> list[dict]:
    """A run of 41.2 s: the main agent's model calls and `tool` calls along a critical path of `path_length` intervals
    (model, tool, model…, each 1.0 s, the last one a tool never answered), a sub-agent named `sub_agent` and one named
    `plan` whose three parts are a third of 5.0 s each."""
    spans = [span(1, "a-main", "sub_agent", sub_agent, 0.5, 6.0, [1, 9], child="a-explore")]
    for step in range(path_length):
        kind = "model" if step % 2 == 0 else "tool"
        name = "claude-x" if kind == "model" else tool
        last = step == path_length - 1
        spans.append(span(step + 2, "a-main", kind, name, 7.0 + step, 1.0, [step + 10] if kind == "model"
                          else [step + 9, step + 10], open=kind == "tool" and last, cache_break=step == 2))  # fmt: skip
    spans.append(span(len(spans) + 1, "a-explore", "model", "claude-y", 1.0, 2.0, [2]))
    models = (path_length + 1) // 2
    critical_s = {"model_waiting": models / 3, "model_streaming": models * 2 / 3, "tools": path_length - models,
                  "sub_agents": 0.0, "user": 0.0, "agent": 0.0}  # fmt: skip
    run = time_record(None, "run", None, 0, 41.2,
                      {"model_waiting": 6.0, "model_streaming": 10.0, "tools": 20.1, "sub_agents": 4.0, "agent": 1.1},
                      {tool: 18.0, "Read": 2.1}, critical_path=[span["id"] for span in spans[1:path_length + 1]],
                      critical_s=critical_s)  # fmt: skip
    explore = time_record(
        "a-explore",
        sub_agent,
        "a-main",
        1,
        6.0,
        {"model_waiting": 0.6, "model_streaming": 1.2, "tools": 3.1, "agent": 1.1},
        {"Grep": 3.1},
    )
    main = time_record("a-main", "main", None, 0, 41.2,
                       {"model_waiting": 5.0, "model_streaming": 8.0, "tools": 20.1, "sub_agents": 7.0, "agent": 1.1},
                       {tool: 18.0, "Read": 2.1})  # fmt: skip
    third = 5.0 / 3
    plan = time_record(
        "a-plan", "plan", "a-main", 1, 5.0, {"model_waiting": third, "model_streaming": third, "agent": third}
    )
    # Not in tree order: the report puts each parent before its children.
    return [*spans, explore, main, plan, run]
