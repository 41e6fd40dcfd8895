"""Checks shared by the end-to-end tests of agents that speak Chat Completions to the mock: their streamed chunks,
the report's account of the mock's tool call and usage, and no key left in the run folder."""

from pathlib import Path

from conftest import tokens_line

from probe.read.sse import parse


def chunks(entry: dict) -> list[dict]:
    """The streamed chunks; the [DONE] terminator is not JSON and is left out."""
    return [event.data for event in parse(entry["response"]["body"]) if isinstance(event.data, dict)]


def assert_report_shows_the_mocks_tool_call_and_usage(
    report: str, entries: list[dict], tool: str, shown: str = '"command": "echo agent-probe tool call"'
) -> None:
    """The token line worked out from the API's own usage fields, no unrecognised or incomplete exchange, the call
    of `tool` with the mock's command (as `shown` in its arguments), both finish reasons and the mock's answer."""
    usage = [chunk["usage"] for entry in entries for chunk in chunks(entry) if chunk.get("usage")]
    assert len(usage) == 2
    turns = [
        {
            "input": item["prompt_tokens"],  # cached ones included
            "cache_read": item["prompt_tokens_details"]["cached_tokens"],
            "output": item["completion_tokens"],
            "reasoning": item["completion_tokens_details"]["reasoning_tokens"],
        }
        for item in usage
    ]
    assert tokens_line(turns) in report
    assert "- Made with: renderer `probe.apis.openai_chat.report`, captured text masked" in report
    assert "- Unrecognised: 0 kinds" in report and "- Incomplete exchanges: 0" in report
    call = report.index(f"**Tool call** `{tool}`")
    assert shown in report[call : call + 400]
    assert "finish_reason `tool_calls`" in report and "finish_reason `stop`" in report
    assert 'def hello_world() -> str:\n    return "Hello, world!"' in report


def assert_key_never_reached(run: Path, key: str) -> None:
    """No file of the run folder holds `key` in the clear."""
    for path in run.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"the key reached {path}"
