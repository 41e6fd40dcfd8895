"""A copy of a bundled Claude Code sample made to hold the secret corpus raw, as a capture made with --keep-secrets,
by an older version or by hand may: in its manifest (prompt, label, login, agent version), in a tool call's
arguments (streamed in pieces of JSON within JSON, and in the next request's history) and as a tool's name (in the
tool calls, the spans and the time records' maps of tools); or in what its last analysis wrote, where no analysis can
write it again."""

import json
from pathlib import Path

from secret_corpus import CORPUS

# A token masking knows by its shape alone, with no words around it: what a tool's name can be.
TOOL_NAME_TOKEN = "ghp_" + "1a2B3c4D5e6F7g8H9i" + "0J1k2L3m4N5o6P7q8R"
MARKER_COMMAND = "echo agent-probe tool call"  # the sample's one tool call runs this


def plant_secrets(run: Path) -> list[str]:
    """Write the corpus into the run (a copy of data/claude-code/*-sample-mock); the secrets that must appear nowhere
    it is published or exported."""
    manifest = json.loads((run / "manifest.json").read_text())
    manifest |= {"prompt": "\n".join(text for _, text, _ in CORPUS), "label": CORPUS[0][1], "login": CORPUS[3][1],
                 "agent": manifest["agent"] | {"version": CORPUS[5][1]}}  # fmt: skip
    (run / "manifest.json").write_text(json.dumps(manifest))
    # Texts that hold no quote, backslash or line break stay valid at every depth of JSON escaping in the capture.
    plain = [(text, secret) for _, text, secret in CORPUS if not set(text) & set('"\\\n')]
    traffic = (run / "traffic.jsonl").read_text()
    assert MARKER_COMMAND in traffic and '"Bash"' in traffic
    traffic = traffic.replace(MARKER_COMMAND, " ; ".join(text for text, _ in plain))
    (run / "traffic.jsonl").write_text(traffic.replace("Bash", TOOL_NAME_TOKEN))
    return [secret for _, _, secret in CORPUS] + [TOOL_NAME_TOKEN]


def plant_in_outputs(run: Path) -> list[str]:
    """Write a token as the tool's name into what the run's last analysis wrote (turns.jsonl, insight.jsonl), and
    take its capture away, so that no analysis can write them again: the outputs are read as they are, as a run
    folder from elsewhere may hold them. The secrets that must appear nowhere it is published or exported."""
    for name in ("turns.jsonl", "insight.jsonl"):
        text = (run / name).read_text()
        assert '"Bash"' in text or name == "turns.jsonl"
        (run / name).write_text(text.replace("Bash", TOOL_NAME_TOKEN))
    (run / "traffic.jsonl").unlink()
    return [TOOL_NAME_TOKEN]
