"""The bookkeeping of one recording: its run folder and an honest manifest.json from start to end."""

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from probe import __version__
from probe.common.errors import RunError
from probe.common.forward import ALL_HOSTS
from probe.common.lines import MAX_LINE_BYTES, BoundedLines
from probe.common.paths import display
from probe.redact.masking import RULES_VERSION, fingerprint
from probe.redact.secret_names import is_secret_variable
from probe.redact.secrets import mask_argv, mask_tokens_and_urls
from probe.runs import provenance
from probe.runs.folders import create_run, hold_while_recording, read_manifest, write_manifest
from probe.runs.labels import LABELS_FIELD, manifest_labels
from probe.runs.login_marks import LoginsSeen
from probe.runs.targets import Target

UNTRUSTED = (
    "the agent exited {code}, its code for stopping at its folder-trust check: it does not trust the folder it ran "
    'in (see docs/capture.md, "A run with no exchange")'
)
NO_EXCHANGE = (
    "the agent made no request through the model API's proxies; it may be using its own login or host: see "
    "docs/capture.md, "
    '"A run with no exchange"'
)


@dataclass
class Recording:
    run: Path
    manifest: dict
    lock: int | None = (
        None  # the run folder's lock, held while the run is `running` (probe.runs.folders.being_recorded)
    )
    # Whether its end is signed as recorded here (probe.runs.provenance): not when the capture went on from traffic
    # it found in the folder, nor when the watchdog closes a run whose capture was killed.
    signed: bool = True
    trust_exit_code: int | None = None  # the target's (Target.trust_exit_code): the note names the real cause
    logins: tuple = ()  # the target's (Target.logins): the manifest's login_seen names those its requests carried

    def save(self) -> None:
        try:
            write_manifest(self.run, self.manifest)
        except OSError as error:  # a full disk, or the run folder deleted under us
            raise RunError(f"cannot write {display(self.run / 'manifest.json')}: {error.strerror}") from None

    def started(self, proxies) -> None:
        self.manifest["proxies"] = [
            {"name": name, "url": url, "upstream": proxies.upstreams[name]} for name, url in proxies.urls.items()
        ]
        self.manifest["upstream_proxy"] = proxies.upstream_proxy.describe()
        self.save()

    def set_agent(
        self,
        argv: list[str],
        version: str | None,
        env: dict[str, str] | None = None,
        masked: bool = False,
        cwd: Path | None = None,
    ) -> None:
        """Record the agent's argv (masked here unless the caller `masked` it already: masked twice, every
        secret would get the fingerprint of a fingerprint), its version, and the environment variables the
        target set for it (secret-shaped values masked), and the folder it runs in (`cwd`, else this process's: a
        replay compares the paths the agent saw there as one)."""
        self.manifest["agent"].update(
            argv=argv if masked else mask_argv(argv),
            version=version,
            cwd=str(cwd or os.getcwd()),
            env={name: masked_variable(name, value) for name, value in (env or {}).items()},
        )
        self.save()

    def set_session(self, session: str, home: str, agent_args: tuple[str, ...]) -> None:
        """What kind of run this is (prompt, command or interactive), whose home the agent ran with, and the
        arguments given after `--` (masked like the argv they join)."""
        self.manifest.update(session=session, home=home, agent_args=mask_argv(list(agent_args)))

    def finish(self, status: str, exit_code: int | None, note: str | None = None, recording_errors: int = 0) -> None:
        """Close the manifest: how the run ended, and what the capture holds (`recording_errors` counts the
        exchanges the proxies failed to record; proxies.log says why)."""
        self.manifest.update(
            status=status,
            agent_exit_code=exit_code,
            ended_at=now_iso(),
            recording_errors=recording_errors,
            **traffic_summary(self.run / "traffic.jsonl", self.logins),
            **mcp_summary(self.run / "mcp.jsonl"),
        )
        if not note and self.manifest.get("session") and status in ("complete", "agent-failed"):
            # An agent that ran to its end without a single request went elsewhere: a run of nothing says why it
            # may be (Cline falls back to its own login and host when its provider settings lack a field).
            # (What it sent to other hosts through the forward proxy of --all-hosts is no model request.)
            model_side = self.manifest["exchanges"] - self.manifest.get("other_host_exchanges", 0)
            note = NO_EXCHANGE if model_side == 0 else None
            if self.trust_exit_code is not None and exit_code == self.trust_exit_code:
                note = UNTRUSTED.format(code=exit_code)
        if note:
            self.manifest["note"] = note
        self.manifest.pop(provenance.FIELD, None)
        signature = provenance.sign(self.manifest) if self.signed else None
        if signature is not None:
            self.manifest[provenance.FIELD] = signature
        self.save()
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def kind(interactive: bool, command: str | None) -> str:
    """What the manifest calls the run: a prompt given to the agent, a --command, or an interactive session."""
    if interactive:
        return "interactive"
    return "command" if command is not None else "prompt"


def agent_fields(chosen) -> dict:
    """Where the agent's program came from (a probe.capture.agents.Agent, or None), for the manifest (its path
    masked like the argv that starts it)."""
    return {
        "binary": mask_argv([chosen.program])[0] if chosen else None,
        "npm_package": chosen.package if chosen and chosen.registry == "npm" else None,
        "pypi_package": chosen.package if chosen and chosen.registry == "pypi" else None,
        "requested_version": chosen.requested if chosen else None,
    }


def masked_variable(name: str, value: str) -> str:
    return fingerprint(value) if is_secret_variable(name, value) else mask_tokens_and_urls(value)


def mitmproxy_version() -> str:
    try:
        return importlib.metadata.version("mitmproxy")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def open_run(
    target: Target,
    run: Path | None,
    label: str,
    prompt: str | None,
    argv: list[str] | None,
    upstream: str | None,
    keep_secrets: bool = False,
    agent: dict | None = None,
) -> Recording:
    """Create (or adopt) the run folder and write a `running` manifest before anything starts. `agent` says
    where the agent's program came from (`binary`, `npm_package` or `pypi_package`, `requested_version`)."""
    if not keep_secrets:
        label = mask_tokens_and_urls(label)
    # Everything the manifest says is worked out before the folder exists (masking loads its rules, the versions
    # import mitmproxy): a Ctrl-C meanwhile leaves no folder without a manifest behind.
    fields = {
        "target": target.name,
        "target_file": stored_target_file(target, keep_secrets),  # to re-analyse a run made with any target file
        "label": label,
        "prompt": prompt if keep_secrets or prompt is None else mask_tokens_and_urls(prompt),
        "upstream_override": upstream,
        "keep_secrets": keep_secrets,
        "redaction": None if keep_secrets else RULES_VERSION,  # the masking rules the capture was written with
        "agent": {"argv": mask_argv(argv) if argv else None, "version": None, **(agent or {})},
        "versions": {"probe": __version__, "mitmproxy": mitmproxy_version(), "python": platform.python_version()},
        "started_at": now_iso(),
        "ended_at": None,
        "status": "running",
        "agent_exit_code": None,
        LABELS_FIELD: manifest_labels(),  # whose run it is, which a team lake credits (probe.runs.labels)
    }
    # The folder's name is masked even with --keep-secrets: a key pasted into a label must not name a folder that
    # every listing, path and shared archive shows.
    folder_label = mask_tokens_and_urls(label)
    if run is None:
        run = create_run(target.name, folder_label)
    else:
        run.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An empty capture from the start: a run stopped before its first exchange still has one to report.
    traffic = os.open(run / "traffic.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    found = os.fstat(traffic).st_size  # in a folder given with --run: what was there is not ours to sign
    os.close(traffic)
    recording = Recording(run, fields, signed=found == 0, trust_exit_code=target.trust_exit_code, logins=target.logins)
    recording.lock = hold_while_recording(run)
    recording.save()
    if keep_secrets:
        print(f"warning: --keep-secrets is on: secret headers are stored unredacted in {run}", file=sys.stderr)
    return recording


def traffic_summary(traffic: Path, logins: tuple = ()) -> dict:
    """Counts of exchanges and WebSocket messages, the file's sha256 and, for a target whose `logins` say how they
    show, the logins its requests carried (`login_seen`), read as a stream (an over-long line is hashed, and counted
    as damaged, but never held)."""
    digest = hashlib.sha256()
    seen = LoginsSeen(logins)
    exchanges = websocket_messages = damaged = other_hosts = 0
    if traffic.is_file():
        with traffic.open("rb") as file:
            for _, line, _ in BoundedLines(file, MAX_LINE_BYTES, seen=digest.update):
                if line is None:
                    damaged += 1
                    continue
                try:
                    entry = json.loads(line)
                except (ValueError, RecursionError):
                    damaged += 1
                    continue
                exchanges += 1
                other_hosts += isinstance(entry, dict) and entry.get("proxy") == ALL_HOSTS
                if isinstance(entry, dict) and isinstance(entry.get("messages"), list):
                    websocket_messages += len(entry["messages"])
                if (
                    isinstance(entry, dict)
                    and entry.get("proxy") != ALL_HOSTS
                    and isinstance(entry.get("request"), dict)
                ):
                    request = entry["request"]
                    headers = request.get("headers") if isinstance(request.get("headers"), list) else []
                    seen.add(str(entry.get("proxy", "")), str(request.get("url", "")), header_pairs(headers))
    summary = {"exchanges": exchanges, "websocket_messages": websocket_messages, "traffic_sha256": digest.hexdigest()}
    if other_hosts:  # (only in a run with --all-hosts: other runs' manifests stay as they were)
        summary["other_host_exchanges"] = other_hosts
    if damaged:
        summary["damaged_lines"] = damaged
    if seen.declared:
        summary["login_seen"] = seen.recorded()
    return summary


def mcp_summary(record: Path) -> dict:
    """The sha256 of the run's MCP record, which a replay serves the servers' answers from (signed with the traffic's):
    nothing when the run has none."""
    if not record.is_file():
        return {}
    digest = hashlib.sha256()
    with record.open("rb") as file:
        while piece := file.read(1 << 20):
            digest.update(piece)
    return {provenance.MCP_DIGEST: digest.hexdigest()}


def header_pairs(headers: list) -> list:
    """A line's request headers as (name, value) pairs, those of another shape left out (a capture may hold any)."""
    return [pair for pair in headers if isinstance(pair, list) and len(pair) == 2]


RECORDING_ERROR = re.compile(rb"probe: recording error: ")


def close_abandoned(run: Path, note: str) -> None:
    """Mark a run whose capture process died while recording as interrupted, with what it holds.

    Without the capture, the count of recording errors comes from the proxies' log. It is not signed as recorded
    here: nothing watched what went into the folder after the capture died.
    """
    manifest = read_manifest(run)
    if manifest is None or manifest.get("status") != "running":
        return
    try:
        errors = len(RECORDING_ERROR.findall((run / "proxies.log").read_bytes()))
    except OSError:
        errors = 0
    Recording(run, manifest, signed=False).finish("interrupted", manifest.get("agent_exit_code"), note, errors)


def stored_target_file(target: Target, keep_secrets: bool) -> dict | None:
    """The manifest's `target_file`: the file's name, the sha256 of its bytes, and its text with the values of
    secret-named variables fingerprinted and every other secret masked as in the rest of the manifest."""
    if target.text is None:
        return None
    text = target.text
    if not keep_secrets:
        values = {
            value
            for holder in (target, *target.logins)
            for group in (holder.env, holder.mock_env, holder.quiet_env, holder.private_env)
            for name, value in group.items()
            if is_secret_variable(name, value)
        }
        for value in sorted(values, key=len, reverse=True):  # a longer secret may hold a shorter one
            text = text.replace(value, fingerprint(value))
        text = mask_tokens_and_urls(text)
    return {
        "name": target.path.name if target.path else f"{target.name}.yaml",
        "sha256": hashlib.sha256(target.text.encode("utf-8")).hexdigest(),
        "content": text,
    }
