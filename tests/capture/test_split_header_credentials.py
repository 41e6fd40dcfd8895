"""A credential written as a header line (`Cookie:`, `Set-Cookie:`, `Authorization: Bearer`, `X-Api-Key:`,
`Proxy-Authorization:`…) and streamed with its name in one event and its value in the next is masked as
`DB_PASSWORD=` is: through the real mitmdump, from a scripted model's streamed answers, in the answer's text and in a
tool call's streamed (JSON-escaped) arguments, wherever the stream cuts the line between the name's first byte and
the value's eighth; and so it is in every file the run and its report write."""

import hashlib
import itertools
import json
import re
import urllib.request

from scripted_model import ScriptedModel

from probe.analysis.report import analyze_run
from probe.capture.proxies import start_proxies
from probe.redact.masking import mask_body
from probe.runs.targets import load_target

# Each header line, its value standing for `{}`.
LINES = [
    "Cookie: sessionid={}",
    "cookie: theme=dark; sessionid={}; lang=en",
    "Set-Cookie: sessionid={}; Path=/; HttpOnly",
    "Authorization: Bearer {}",
    "Proxy-Authorization: Basic {}",
    "X-Api-Key: {}",
    "api-key: {}",
    "X-Auth-Token: {}",
    "DB_PASSWORD={}",
]


def value(line: str, cut: int, where: str) -> str:
    """A value of its own for each line, cut and place: a piece of one found anywhere says which leaked."""
    return hashlib.sha256(f"{line}{cut}{where}".encode()).hexdigest()[:32]


def cuts(line: str) -> range:
    """Every cut from the name's first byte to the value's eighth."""
    return range(0, line.index("{}") + 9)


def streamed_lines(line: str, where: str, before: str, after: str) -> tuple[str, list[int]]:
    """The line written once for each cut, between `before` and `after`; and where each cut falls in the text."""
    text, positions = "", []
    for cut in cuts(line):
        positions.append(len(text) + len(before) + cut)
        text += before + line.format(value(line, cut, where)) + after
    return text, positions


def pieces_at(text: str, positions: list[int]) -> list[str]:
    bounds = [0, *positions, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds) if end > start]


def answer(body: dict) -> tuple[list[str], list[str]]:
    """The stream of one request: the lines in the answer's text, and in a `shell` call's command (JSON-escaped in
    its arguments: `\\n` between lines, `\\"` around each header), each cut at its own place."""
    line = LINES[int(body["messages"][-1]["content"])]
    text, positions = streamed_lines(line, "text", "run: ", "\n")
    command, places = streamed_lines(line, "call", 'curl -H "', '" https://example.test/\n')
    arguments = json.dumps({"command": command})
    start = arguments.index("curl")  # (each cut where the command's text before it ends, written as JSON)
    return pieces_at(text, positions), pieces_at(arguments, [start + len(json.dumps(command[:place])) - 2
                                                             for place in places])  # fmt: skip


def leaked(data: bytes) -> list[str]:
    """The values of which any 8 characters show in `data` (each run of hex digits in it read 8 at a time)."""
    pieces = {}
    for line in LINES:
        for where in ("text", "call"):
            for cut in cuts(line):
                secret = value(line, cut, where)
                pieces.update({secret[start : start + 8]: f"{line} cut at {cut} in the {where}"
                               for start in range(len(secret) - 7)})  # fmt: skip
    found = set()
    for run in re.findall(rb"[0-9a-f]{8,}", data):
        found.update(
            pieces[piece] for start in range(len(run) - 7) if (piece := run[start : start + 8].decode()) in pieces
        )
    return sorted(found)


def test_the_stream_cuts_each_line_where_it_says():
    content, arguments = answer({"messages": [{"content": "0"}]})
    first, second, last = (value(LINES[0], cut, "text") for cut in (0, 1, 26))
    assert content[:3] == ["run: ", f"Cookie: sessionid={first}\nrun: C", f"ookie: sessionid={second}\nrun: Co"]
    assert content[-1] == last[8:] + "\n" and content[-2].endswith(f"sessionid={last[:8]}")
    assert arguments[1].endswith('\\" https://example.test/\\ncurl -H \\"C')
    assert arguments[-1].startswith(value(LINES[0], 26, "call")[8:] + '\\" https://')
    assert json.loads("".join(arguments))["command"].count('curl -H "Cookie: sessionid=') == len(cuts(LINES[0]))


def test_masking_a_stream_cut_anywhere_leaves_no_piece_of_a_value():
    for number in range(len(LINES)):
        content, arguments = answer({"messages": [{"content": str(number)}]})
        events = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in content]
        events += [{"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": piece}}]}}]}
                   for piece in arguments]  # fmt: skip
        body = b"".join(b"data: %s\n\n" % json.dumps(event).encode() for event in events)
        masked = mask_body(body, "text/event-stream")
        assert leaked(masked.data) == [] and masked.data.count(b"\ndata: ") == len(events) - 1
        assert mask_body(masked.data, "text/event-stream").data == masked.data  # masking again changes nothing


def test_through_mitmdump_a_header_line_cut_anywhere_reaches_no_file_of_the_run(tmp_path):
    target = load_target("openai-compatible")
    run = tmp_path / "run"
    run.mkdir()
    with ScriptedModel(streamed=answer) as model:
        proxies = start_proxies(target, run, model.url + "/", mock_transport="http")
        try:
            for number in range(len(LINES)):
                request = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": str(number)}]}
                sent = urllib.request.Request(
                    f"{proxies.urls['api']}/v1/chat/completions",
                    json.dumps(request).encode(),
                    {"content-type": "application/json"},
                )
                with urllib.request.urlopen(sent, timeout=60) as reply:
                    assert leaked(reply.read()) != []  # (the agent gets its answer as it was sent)
        finally:
            proxies.stop()
    report, _ = analyze_run(run, target)
    outputs = {name: (run / name).read_bytes() for name in ("traffic.jsonl", "report.md", "report.html", "turns.jsonl")}
    assert report == run / "report.md"
    for name, data in outputs.items():
        assert leaked(data) == [], name
    for path in run.rglob("*"):
        assert path.is_dir() or leaked(path.read_bytes()) == [], path
    shown = outputs["report.md"].decode()
    # The report still reads: each header's name, and its value's fingerprint.
    assert (
        all(re.split("[:=]", line)[0] + line[len(re.split("[:=]", line)[0])] in shown for line in LINES)
        and "[REDACTED sha256:" in shown
    )
    assert len(outputs["traffic.jsonl"].splitlines()) == len(LINES)
