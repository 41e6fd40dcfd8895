"""Numbers no API or recorder sends, through `analyze` for every API: a token count that is negative, fractional,
true, text or past 2**53 is "not reported" with a one-line warning, never summed, priced or written as a count, in
report.md, insight.jsonl, turns.jsonl, the viewer's data and SQL; a price that makes a cost overflow is an unknown
cost with its reason; a time past any date, a status of 10**20 or a size of -5 stop nothing."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, captured_exchange, run_manifest

from probe.analysis import sql
from probe.read.conversation import MOST_TOKENS, integer, read_usage
from probe.read.whole_turns import whole_turns

DATA = re.compile(r'<script type="application/json" id="probe-data">\n(.*?)\n</script>', re.S)
# Each as a JSON text, as a capture holds it (2**64 stops orjson; 2**53 + 1 is past what a double holds exactly).
HOSTILE = ["-1700000000000", str(2**64), "1.5", "true", '"12"', str(2**53 + 1), "[1]", '{"n": 1}']


def sse(events: list[str]) -> str:
    return "".join(f"data: {event}\n\n" for event in events)


def filled(template: str, **counts: str) -> str:
    """A JSON text with each COUNT_NAME in it replaced by the text of a count, whatever JSON it is."""
    for name, count in counts.items():
        template = template.replace(name.upper(), count)
    return template


RESPONSES = (
    '{"type": "response.completed", "response": {"id": "r", "model": "gpt-5", "output": [{"type": "message", '
    '"role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}], "usage": {"input_tokens": INPUT, '
    '"output_tokens": OUTPUT}}}'
)
MESSAGES = [
    '{"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": '
    '"claude-sonnet-4-5", "content": [], "usage": {"input_tokens": INPUT, "output_tokens": 1}}}',
    '{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "hi"}}',
    '{"type": "content_block_stop", "index": 0}',
    '{"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": OUTPUT}}',
    '{"type": "message_stop"}',
]
CHAT = (
    '{"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"role": '
    '"assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": INPUT, '
    '"completion_tokens": OUTPUT}}'
)
GEMINI = (
    '{"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}], '
    '"usageMetadata": {"promptTokenCount": INPUT, "candidatesTokenCount": OUTPUT}, "modelVersion": "gemini-2.5-pro"}'
)


def responses(input_count: str, output_count: str = "10") -> dict:
    done = filled(RESPONSES, input=input_count, output=output_count)
    return captured_exchange("/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True}, sse([done]))


def messages(input_count: str, output_count: str = "10") -> dict:
    events = [filled(event, input=input_count, output=output_count) for event in MESSAGES]
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return captured_exchange("/v1/messages", body, sse(events), host="https://api.anthropic.com")


def chat(input_count: str, output_count: str = "10") -> dict:
    chunk = filled(CHAT, input=input_count, output=output_count)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return captured_exchange("/v1/chat/completions", body, sse([chunk, "[DONE]"]))


def gemini(input_count: str, output_count: str = "10") -> dict:
    chunk = filled(GEMINI, input=input_count, output=output_count)
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    return captured_exchange(path, body, sse([chunk]), host="https://generativelanguage.googleapis.com")


# For each API: how its exchanges are made, the fields of its input and output counts, and a target reading it.
APIS = {
    "responses": (responses, "input_tokens", "output_tokens", "codex"),
    "messages": (messages, "input_tokens", "output_tokens", "claude-code"),
    "chat": (chat, "prompt_tokens", "completion_tokens", "opencode"),
    "gemini": (gemini, "promptTokenCount", "candidatesTokenCount", "gemini"),
}


def run_of(data_dir: Path, target: str, exchanges: list[dict]) -> Path:
    run = data_dir / target / "20260101-000000-numbers"
    run.mkdir(parents=True)
    lines = []
    for number, exchange in enumerate(exchanges, 1):
        exchange |= {"id": f"f{number}", "timing": {"start": 1e9 + number, "first_byte": 1e9 + number + 0.005,
                                                      "end": 1e9 + number + 0.25}}  # fmt: skip
        # The hostile numbers stay as written: json.dumps of the record keeps the SSE text as it is.
        lines.append(json.dumps(exchange))
    (run / "traffic.jsonl").write_text("".join(line + "\n" for line in lines))
    (run / "manifest.json").write_text(json.dumps(run_manifest(target)))
    return run


def analyze(run: Path, *options: str) -> list[str]:
    """Run `analyze` as the user does; its warnings. It must neither fail nor print a traceback."""
    result = subprocess.run([sys.executable, "-m", "probe.analysis.analyze", "--run", str(run), *options],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return [line.strip().removeprefix("warning: ") for line in result.stderr.splitlines() if "warning: " in line]


def viewer_data(run: Path) -> dict:
    return json.loads(DATA.search((run / "report.html").read_text()).group(1))


@pytest.mark.parametrize("api", APIS)
def test_counts_no_api_sends_are_not_reported_in_any_output(private_data_dir, api):
    make, input_field, output_field, target = APIS[api]
    exchanges = [make("100"), *(make(value) for value in HOSTILE), make("100", "-5")]
    run = run_of(private_data_dir, target, exchanges)
    warnings = analyze(run)
    bad = [
        *((index, input_field, value) for index, value in enumerate(HOSTILE, 2)),
        (len(exchanges), output_field, "-5"),
    ]
    for number, field, value in bad:
        shown = json.dumps(json.loads(value)) if value != "1.5" else value  # as JSON writes it back
        assert f"exchange #{number}: usage {field} {shown}: not a token count an API sends; not reported" in warnings
    report = (run / "report.md").read_text()
    turns = list(whole_turns(run / "turns.jsonl"))
    insight = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()]
    data = viewer_data(run)
    # Only the good turn's input is summed, and only the good outputs; the report names each warning in one line.
    outputs = 10 * (len(exchanges) - 1)
    turns_with_usage = len(exchanges)
    assert (
        f"- Tokens: {turns_with_usage} turns with usage: input 200 (2 of the {turns_with_usage}), output {outputs:,} "
        f"({turns_with_usage - 1} of the {turns_with_usage});" in report
    )
    for number, _field, _value in bad:
        assert (
            sum(f"exchange #{number}: usage" in line for line in report.splitlines() if line.startswith("- Warning: "))
            == 1
        )
    numbers = re.compile(r"-1,?700,?000|18,?446,?744|9,?007,?199,?254,?740,?993|\$-|-\$")
    assert not [line for line in report.splitlines() if numbers.search(line) and not line.startswith("- Warning: ")]
    for turn, record in zip(turns, (r for r in insight if r["record"] == "turn")):
        hostile = turn["number"] != 1
        usage = turn["usage"]
        assert (usage["input"] is None) == (turn["number"] not in (1, len(exchanges))), turn["number"]
        assert (usage["output"] is None) == (turn["number"] == len(exchanges))
        if hostile:
            assert record["cost"]["usd"] is None and record["cost"]["unknown"].startswith("the usage holds what no API")
        else:
            assert record["cost"]["usd"] > 0 and usage == {**usage, "input": 100, "output": 10}
        assert record["cache"]["input"] == usage["input"]
        page = next(entry for entry in data["turns"] if entry["n"] == turn["number"])
        assert {kind: page["usage"][kind] for kind in ("input", "output")} == {
            "input": usage["input"],
            "output": usage["output"],
        }
    # The raw usage keeps what was sent, exactly, beside the counts read from it.
    assert turns[2]["usage"]["raw"][input_field if api != "messages" else "input_tokens"] == 2**64
    [agent] = [record for record in insight if record["record"] == "agent"]
    assert agent["tokens"]["input"] == 200 and agent["tokens"]["output"] == outputs
    [run_record] = [record for record in insight if record["record"] == "run"]
    assert run_record["cost"]["usd"] > 0 and run_record["cost"]["unknown_turns"] == len(exchanges) - 1
    rows = sql.query([run], "SELECT sum(input_tokens), count(input_tokens), min(cost_usd) >= 0 FROM turns")[1]
    assert rows == [(200, 2, True)]


def test_a_price_that_makes_a_cost_overflow_is_unknown_with_its_reason(private_data_dir, tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  gpt-5: {input: 1e400, output: 1}\n  gpt-4o: {input: 1e999999, output: 1}\n"
                      "  claude-sonnet-4-5: {input: 1, output: 1}\n")  # fmt: skip
    costs = {}
    for api in ("responses", "chat", "messages"):
        make, _, _, target = APIS[api]
        run = run_of(private_data_dir, target, [make(str(MOST_TOKENS))])
        assert analyze(run, "--prices", str(prices)) == []
        [turn] = [json.loads(line) for line in (run / "insight.jsonl").read_text().splitlines()][:1]
        costs[api] = turn["cost"]
        assert "$-" not in (run / "report.md").read_text() and "inf" not in json.dumps(turn)
    unknown = {"usd": None, "input_usd": None, "output_usd": None, "fees_usd": None, "tool_uses_priced": {},
               "tool_uses_left_out": {}, "priced_as": "gpt-5", "source": "prices.yaml"}  # fmt: skip
    assert costs["responses"] == unknown | {"unknown": costs["responses"]["unknown"]}
    assert (
        costs["responses"]["unknown"] == "prices.yaml's price for gpt-5 times the tokens comes to 9.01e+409 US dollars"
    )
    assert costs["chat"]["usd"] is None
    assert costs["chat"]["unknown"] == "prices.yaml's price for gpt-4o times the tokens is too large to work out"
    # 2**53 tokens at a dollar per million is $9 billion: a price, if an absurd one; over $10**12 is none.
    assert costs["messages"]["usd"] == pytest.approx(MOST_TOKENS / 1e6) and costs["messages"]["unknown"] is None


def test_counts_larger_than_what_they_are_part_of_are_not_reported(private_data_dir):
    details = '"input_tokens_details": {"cached_tokens": 500}, "output_tokens_details": {"reasoning_tokens": 50}'
    done = filled(RESPONSES, input="100", output=f"10, {details}")
    exchange = captured_exchange("/v1/responses", {"model": "gpt-5", "input": "hi"}, sse([done]))
    run = run_of(private_data_dir, "codex", [exchange])
    assert analyze(run) == [
        "exchange #1: usage input_tokens_details.cached_tokens 500 (more than the 100 input tokens), "
        "output_tokens_details.reasoning_tokens 50 (more than the 10 output tokens): not a token count an API sends; "
        "not reported"
    ]
    [turn] = whole_turns(run / "turns.jsonl")
    assert {kind: turn["usage"][kind] for kind in ("input", "output", "cache_read", "reasoning")} == {
        "input": 100, "output": 10, "cache_read": None, "reasoning": None}  # fmt: skip
    assert "No turn reported how many of its input tokens were read from a cache." in (run / "report.md").read_text()


@pytest.mark.parametrize(
    "value, count",
    [(0, 0), (5, 5), (5.0, 5), (MOST_TOKENS, MOST_TOKENS), (MOST_TOKENS + 1, None), (-1, None), (1.5, None),
     (True, None), ("5", None), (float("nan"), None), (float("inf"), None), (None, None)],
)  # fmt: skip
def test_a_count_is_a_whole_number_from_0_to_2_to_the_53(value, count):
    assert integer(value) == count and type(integer(value)) is type(count)
    usage = read_usage({"n": value}, input=("n",))
    assert usage.input == count and bool(usage.refused) == (count is None and value is not None)


def test_times_statuses_sizes_and_chunks_no_recorder_writes_stop_nothing(private_data_dir):
    def exchange(**fields) -> dict:
        made = responses("100")
        made["response"] |= fields.pop("response", {})
        made["request"] |= fields.pop("request", {})
        return made | fields

    hostile = [
        exchange(timing={"start": 1e308, "first_byte": -1e308, "end": 1e308}),
        exchange(timing={"start": "x", "first_byte": None, "end": True}),
        exchange(timing=7),
        exchange(response={"status": 10**20}),
        exchange(response={"status": -1}),
        exchange(response={"status": "200"}),
        exchange(request={"body_size": -5}, response={"body_size": 2**70}),
        exchange(response={"chunks": [["x", 1], [1e300, -5], [1, 2, 3], "bad", [5.5, 10]]}),
        exchange(response={"chunks": 7}, messages=7),
    ]
    run = run_of(private_data_dir, "codex", [responses("100")])
    lines = (run / "traffic.jsonl").read_text().splitlines()
    # After run_of's own timings: these replace them, as a capture could hold them.
    lines += [json.dumps(line) for line in hostile]
    lines.append(lines[1].replace("1e+308", "NaN", 1).replace("-1e+308", "Infinity", 1))
    (run / "traffic.jsonl").write_text("\n".join(lines) + "\n")
    assert analyze(run) == []
    report = (run / "report.md").read_text()
    turns = {turn["number"]: turn for turn in whole_turns(run / "turns.jsonl")}
    assert turns[2]["timing"] == {"start": None, "ttfb_ms": None, "duration_ms": None}
    assert [turns[number]["status"] for number in (5, 6, 7)] == [None, None, None]
    assert turns[8]["request_bytes"] == len(
        json.dumps(turns[8] and hostile[6]["request"]["body"], separators=(",", ":"))
    )
    assert "1e+308" not in report and "100000000000000000000" not in report and "-5 bytes" not in report
    assert "### #5 POST `/v1/responses` → no response (model)" in report
    data = viewer_data(run)
    assert {turn["timing"]["start"] for turn in data["turns"]} == {None, 1e9 + 1, 1000.0}
    exported = subprocess.run([sys.executable, "-m", "probe.analysis.export", "--run", str(run), "--format", "har",
                               "--output", str(run.parent / "run.har")], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    assert exported.returncode == 0 and "Traceback" not in exported.stderr, exported.stderr
    assert sql.query([run], "SELECT count(*), count(status), count(ttfb_ms) FROM exchanges")[1] == [(11, 8, 7)]


def test_a_capture_of_thousands_of_such_counts_names_the_first_twenty(private_data_dir):
    run = run_of(private_data_dir, "codex", [responses("-1") for _ in range(30)])
    warnings = analyze(run)
    assert warnings[:20] == [
        f"exchange #{number}: usage input_tokens -1: not a token count an API sends; not reported"
        for number in range(1, 21)
    ]
    assert warnings[20:] == [
        "exchange #21 and later: more usages hold what is not a token count; not reported, and not named one by one"
    ]
    assert all(turn["usage"]["input"] is None for turn in whole_turns(run / "turns.jsonl"))
