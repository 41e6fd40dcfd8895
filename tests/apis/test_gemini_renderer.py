"""The Gemini API renderer: what a reader sees for gemini-cli's requests and streamed answers."""

from conftest import Rendering

from probe.analyse.run_totals import without_carried
from probe.apis.gemini import report as renderer
from probe.mock import gemini_api
from probe.mock.wording import final_answer_text
from probe.read.sse import Event

STREAM_PATH = "/v1beta/models/gemini-3-flash:streamGenerateContent?alt=sse"
PNG_DATA = "iVBORw0KGgo" * 500
SIGNATURE = "c2lnbmF0dXJl" * 20  # opaque: the report shows its size, never its value
SESSION = "<session_context>\nThis is the Gemini CLI.\n</session_context>"
PROMPT = {"role": "user", "parts": [{"text": SESSION}, {"text": "write a hello world function"}]}
SHELL = {
    "name": "run_shell_command",
    "description": "This tool executes a given shell command as `bash -c <command>`.",
    "parametersJsonSchema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}
FIRST = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": SESSION},
                {"inlineData": {"mimeType": "image/png", "data": PNG_DATA}},
                {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/files/abc"}},
                {"text": "write a hello world function"},
            ],
        }
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "You are Gemini CLI.\nBe brief."}]},
    "tools": [
        {
            "functionDeclarations": [
                SHELL,
                {"name": "list_directory", "description": "Lists a directory.", "parameters": {"type": "OBJECT"}},
            ]
        },
        {"googleSearch": {}},
    ],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "generationConfig": {
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"},
    },
}
CALL = {"name": "run_shell_command", "args": {"command": "ls -la"}, "id": "call_01"}
# gemini-cli re-sends its model turn without the thought, its text pieces joined, the signature kept.
MODEL_TURN = {
    "role": "model",
    "parts": [{"text": "Let me look."}, {"functionCall": CALL, "thoughtSignature": SIGNATURE}],
}
RESULT = {
    "role": "user",
    "parts": [{"functionResponse": {"name": "run_shell_command", "id": "call_01", "response": {"output": "a.py"}}}],
}
SECOND = dict(FIRST, contents=[*FIRST["contents"], MODEL_TURN, RESULT])
USAGE = {
    "promptTokenCount": 1200,
    "cachedContentTokenCount": 800,
    "candidatesTokenCount": 30,
    "thoughtsTokenCount": 50,
    "totalTokenCount": 1280,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1200}],
}


def chunk(*parts: dict, **fields) -> Event:
    """One SSE event of a streamed answer: `data:` only, as the API sends it."""
    candidate = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    candidate |= {key: value for key, value in fields.items() if key == "finishReason"}
    data = {"candidates": [candidate], "modelVersion": "gemini-3-flash-001", "responseId": "resp_01"}
    return Event(None, data | {key: value for key, value in fields.items() if key != "finishReason"})


def answer_events() -> list[Event]:
    """Thought and text arrive in pieces; the function call whole, signed, on the last chunk."""
    return [
        chunk({"text": "**Looking** at the ", "thought": True}),
        chunk({"text": "folder first.", "thought": True}),
        chunk({"text": "Let "}),
        chunk({"text": "me look."}),
        chunk({"functionCall": CALL, "thoughtSignature": SIGNATURE}, finishReason="STOP", usageMetadata=USAGE),
    ]


def text(rendered) -> str:
    return "\n".join(rendered.lines)


def rendering_at(path: str = STREAM_PATH) -> Rendering:
    """A rendering whose exchanges have a real Gemini path: the model is named there, not in the body."""
    rendering = Rendering(renderer)
    for label in ("#1", "#2", "#3"):
        rendering.turn(label).path = path
    return rendering


def test_first_request_shows_config_system_instruction_tools_and_contents():
    rendered = rendering_at().request(FIRST, "#1")
    shown = text(rendered)
    assert '- **model**: `"gemini-3-flash"`' in shown  # from the path
    assert "- **generationConfig.temperature**: `1`" in shown and "- **generationConfig.topK**: `64`" in shown
    assert '- **generationConfig.thinkingConfig**: `{"includeThoughts": true, "thinkingLevel": "HIGH"}`' in shown
    assert '- **toolConfig**: `{"functionCallingConfig": {"mode": "AUTO"}}`' in shown
    assert 'Block 1: text, 29 chars, role `"user"`' in shown and "You are Gemini CLI.\nBe brief." in shown
    assert "**Tools declared (3)**: run_shell_command, list_directory, googleSearch (googleSearch)" in shown
    # Both schema fields are read: JSON Schema (gemini-cli) and the older OpenAPI subset.
    assert '"required": [\n        "command"\n      ]' in shown and '"type": "OBJECT"' in shown
    assert "**Contents**: + 1 new content" in shown
    assert (
        "| 1 | message | user | text, inlineData, fileData, text | &lt;session_context&gt; (+3 more parts) |" in shown
    )
    assert (
        f"[inlineData image/png, {len(PNG_DATA):,} chars of base64 (about {len(PNG_DATA) * 3 // 4:,} bytes)]" in shown
    )
    assert "[fileData application/pdf https://example.com/files/abc]" in shown
    assert PNG_DATA not in shown
    assert rendered.unrecognised == set()


def test_stream_assembles_thought_text_and_function_call():
    rendering = rendering_at()
    rendering.request(FIRST, "#1")
    rendered = rendering.response(answer_events(), None, "#1")
    shown = text(rendered)
    assert "**Events (5)**: chunk ×5" in shown
    assert "**Thinking**\n\n```text\n**Looking** at the folder first.\n```" in shown
    assert "**Output text**\n\n```text\nLet me look.\n```" in shown
    assert '**Tool call** `run_shell_command` (call_id `call_01`)\n\n```json\n{\n  "command": "ls -la"\n}\n```' in shown
    assert f"Part 3 (functionCall) also carries: thoughtSignature ({len(SIGNATURE):,} chars, opaque)" in shown
    assert SIGNATURE not in shown
    assert "**Candidate**: finishReason `STOP`, responseId `resp_01`, modelVersion `gemini-3-flash-001`" in shown
    assert "| 1,200 | 800 | 30 | 50 | — | 1,280 |" in shown and '"modality": "TEXT"' in shown
    assert rendered.tokens == {
        "prompt": 1200,
        "cached": 800,
        "candidates": 30,
        "thoughts": 50,
        "tool_use_prompt": None,  # not sent: absent, not 0
        "total": 1280,
    }
    turn = rendering.turns["#1"]
    usage = turn.usage
    assert (usage.input, usage.output, usage.cache_read, usage.reasoning) == (1200, 80, 800, 50)
    assert [part.kind for part in turn.output[0].parts] == ["reasoning", "text", "tool_call"]
    assert turn.output[0].parts[2].arguments == {"command": "ls -la"}
    assert turn.model == "gemini-3-flash" and turn.stop_reason == "STOP"
    assert "No finish reason" not in shown and rendered.unrecognised == set()


def test_follow_up_carries_the_answer_over_and_shows_the_function_response():
    rendering = rendering_at()
    rendering.request(FIRST, "#1")
    rendering.response(answer_events(), None, "#1")
    shown = text(rendering.request(SECOND, "#2"))
    assert "**Model and config**: as in #1" in shown
    assert "**System instruction** (" in shown and "the same as request #1" in shown
    assert "**Tools declared (3)**: the same set as request #1" in shown
    # The re-sent model turn lacks its thought part: still the answer of #1, not a new content.
    assert "**Contents**: + 1 new content; 2 carried over from #1" in shown
    assert "| 3 | message | user | functionResponse | output of run_shell_command: a.py |" in shown
    assert "**functionResponse**: of run_shell_command (call_id `call_01`)\n\n```text\na.py\n```" in shown
    assert without_carried(SECOND, rendering.turns["#2"], renderer)["contents"] == [RESULT]


def test_epilogue_rebuilds_the_last_conversation_without_signature_values():
    rendering = rendering_at()
    rendering.request(SECOND, "#1")
    rendering.response([chunk({"text": "Done."}, finishReason="STOP")], None, "#1")
    shown = text(rendering.epilogue())
    assert "## Full conversation of the last request (#1)" in shown
    assert "All 3 contents of #1, then its answer" in shown
    assert "| 2 | message | model | text, functionCall | Let me look. (+1 more part) |" in shown
    assert "| 4 | message | model | text | Done. |" in shown
    assert f'thoughtSignature `"({len(SIGNATURE):,} chars, opaque)"`' in shown and SIGNATURE not in shown


def test_cut_off_stream_unknown_parts_and_error_chunks_are_shown():
    events = [
        chunk({"text": "Hello, "}),
        chunk({"executableCode": {"language": "PYTHON", "code": "print(1)"}}),
        chunk({"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}}),
        chunk({"hologram": {"beam": 2}}),
        Event(None, {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
    ]
    rendered = rendering_at().response(events, None, "#1")
    shown = text(rendered)
    assert "**Events (5)**: chunk ×4, error ×1" in shown
    assert "**Output text** (cut off before its end)\n\n```text\nHello, \n```" in shown
    assert '"code": "print(1)"' in shown and '"outcome": "OUTCOME_OK"' in shown and '"beam": 2' in shown
    assert "**Error event**: `UNAVAILABLE` (`503`): `The model is overloaded.`" in shown
    assert rendered.unrecognised == {"part hologram"}


def test_stream_without_finish_reason_says_so():
    shown = text(rendering_at().response([chunk({"text": "Hel"})], None, "#1"))
    assert "**No finish reason**: the stream ended before a chunk with `finishReason`." in shown


def test_json_answers_errors_count_tokens_and_blocked_prompts():
    routing = {
        "contents": [PROMPT],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": {
                "type": "OBJECT",
                "properties": {"reasoning": {"type": "STRING"}, "model_choice": {"type": "STRING", "enum": ["flash"]}},
                "required": ["reasoning", "model_choice"],
            },
        },
    }
    rendering = rendering_at("/v1beta/models/gemini-3-flash-lite:generateContent")
    request = text(rendering.request(routing, "#1"))
    assert '- **generationConfig.responseMimeType**: `"application/json"`' in request
    assert '- **generationConfig.responseJsonSchema**: `{"type": "OBJECT"' in request
    answer = gemini_api.plan_response(routing, "gemini-3-flash-lite")
    shown = text(rendering.response(None, answer, "#1"))
    assert '"model_choice": "flash"' in shown and "finishReason `STOP`" in shown
    error = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    assert "**Error**: `INVALID_ARGUMENT` (`400`): `API key not valid.`" in text(
        Rendering(renderer).response(None, error, "#2")
    )
    counted = Rendering(renderer).response(None, {"totalTokens": 4321}, "#3")
    assert text(counted).startswith("**Token count** (countTokens): 4,321 tokens") and counted.tokens == {}
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
        "usageMetadata": {"promptTokenCount": 9},
    }
    rendering = Rendering(renderer)
    shown = text(rendering.response(None, blocked, "#4"))
    assert '**Error**: prompt blocked: `{"blockReason": "SAFETY", "safetyRatings": []}`' in shown
    assert rendering.turns["#4"].stop_reason == "SAFETY"


def test_safety_ratings_and_older_clients_function_role():
    request = {
        "contents": [
            {"parts": [{"text": "hi"}]},  # older clients leave the role out of a single turn
            {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {"error": "boom"}}}]},
        ]
    }
    rendering = rendering_at()
    shown = text(rendering.request(request, "#1"))
    assert "| 2 | message | function | functionResponse | output of an earlier call: boom |" in shown
    assert 'response field `"error"`' in shown
    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]
    events = [chunk({"text": "Hi."}, finishReason="STOP"), Event(None, {"candidates": [{"safetyRatings": ratings}]})]
    shown = text(rendering.response(events, None, "#1"))
    assert "Other candidate and response fields (safetyRatings)" in shown and "HARM_CATEGORY_HARASSMENT" in shown


def test_mock_streams_are_rendered_without_unknown_kinds():
    request = dict(FIRST, tools=[{"functionDeclarations": [SHELL]}])
    events = [Event(None, data) for data in gemini_api.plan_chunks(request, "gemini-3-flash")]
    rendered = rendering_at().response(events, None, "#1")
    shown = text(rendered)
    assert rendered.unrecognised == set()
    assert "**Tool call** `run_shell_command`" in shown and '"command": "echo agent-probe tool call"' in shown
    assert "**Thinking**" in shown and "thoughtSignature (128 chars, opaque)" in shown
    assert rendered.tokens["thoughts"] > 0 and rendered.tokens["cached"] is None  # not sent: absent, not 0
    final = [Event(None, data) for data in gemini_api.plan_chunks(SECOND, "gemini-3-flash")]
    shown = text(rendering_at().response(final, None, "#2"))
    assert final_answer_text("write a hello world function") in shown


def test_a_function_call_without_an_id_shows_no_call_id():
    """The Gemini API often sends functionCall without an id (gemini-cli makes its own): nothing to show."""
    rendering = Rendering(renderer)
    rendering.request(FIRST, "#1")
    call = {"name": "run_shell_command", "args": {"command": "ls"}}
    shown = text(rendering.response([chunk({"functionCall": call}, finishReason="STOP")], None, "#1"))
    assert "**Tool call** `run_shell_command`\n" in shown and "None" not in shown


def test_an_image_the_model_makes_is_named_by_its_size_not_its_bytes():
    image = "iVBORw0KGgo" + "A" * 40_000  # an image model's answer: base64 that would fill the report
    events = [chunk({"inlineData": {"mimeType": "image/png", "data": image}}), chunk({"text": "Here it is."})]
    rendering = rendering_at()
    shown = text(rendering.response(events, None, "#1"))
    assert "**Output inlineData** (cut off before its end): `[inlineData image/png, 40,011 chars of base64" in shown
    assert image not in shown
    assert rendering.turns["#1"].output[0].parts[0].raw["inlineData"]["data"] == image  # kept whole in the model


def test_count_tokens_names_the_cached_part_and_its_other_fields():
    answer = {"totalTokens": 4109, "cachedContentTokenCount": 4096, "promptTokensDetails": [{"modality": "TEXT"}]}
    rendered = rendering_at("/v1beta/models/gemini-3-flash:countTokens").response(None, answer, "#1")
    shown = text(rendered)
    assert shown.startswith("**Token count** (countTokens): 4,109 tokens, 4,096 of them in the cached content")
    assert '"modality": "TEXT"' in shown and rendered.tokens == {}
