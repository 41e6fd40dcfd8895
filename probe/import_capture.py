"""Import a recording made elsewhere (a HAR, a mitmproxy flow file, a cassette, a trace) into a new run folder, masked
as a capture is, and analyse it as `analyze` does.

The file's format is told from its content, never its name (probe.capture.imports.formats lists them)."""

import hashlib
import sys
from pathlib import Path

from probe import __version__
from probe.analysis.report import refresh
from probe.capture.imports import TASK_HELP
from probe.capture.imports.expansion import Expansion, bounded
from probe.capture.imports.formats import Lost, Noted, Skipped, detect
from probe.capture.recorder.line import line as line_bytes
from probe.capture.session import mitmproxy_version, now_iso, traffic_summary
from probe.common import cli
from probe.common.counting import counted
from probe.common.errors import RunError, TargetError, UsageError, run_main, warn
from probe.common.lines import MAX_LINE_BYTES
from probe.common.paths import TARGET_NAME, display
from probe.redact.masking import RULES_VERSION
from probe.redact.secrets import mask_tokens_and_urls
from probe.runs.folders import create_run, write_manifest
from probe.runs.labels import IMPORTER, LABELS_FIELD, manifest_labels
from probe.runs.targets import load_target, named_by_data
from probe.write.report_paths import viewer_path

FOLDER = "imported"  # the data folder's subfolder for runs imported without --target
WARNINGS_SHOWN = 20  # skipped entries warned of one by one; the rest are counted
RAW_SECRETS = (
    "the source held {} unmasked (now masked as at capture, each as a fingerprint): treat the source "
    "file itself as secret"
)

ACCOUNT_SECRETS = "the account file held {} (now masked, each as a fingerprint): treat the file itself as secret"


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m probe.import_capture", description=__doc__)
    parser.add_argument("file", metavar="FILE", help="the recording to import")
    parser.add_argument(
        "--target",
        metavar="NAME",
        help=f"the name the run is filed under (default: {FOLDER}); each exchange is still read by its own API's "
        "reader",
    )
    parser.add_argument("--label", default="", help="added to the run folder's name")
    parser.add_argument("--account", metavar="FILE", help=TASK_HELP["account"].split(": ", 1)[1])
    args = parser.parse_args(argv)
    if args.target is not None and not TARGET_NAME.match(args.target):
        raise UsageError(f"--target {args.target!r}: expected lowercase letters, digits, '.', '_' or '-'")
    source = Path(args.file)
    if not source.is_file():
        raise RunError(f"{display(source)}: {'not a file' if source.exists() else 'no such file'}")
    account = Path(args.account) if args.account else None
    if account is not None and not account.is_file():
        raise RunError(f"--account {display(account)}: {'not a file' if account.exists() else 'no such file'}")
    run = import_file(source, args.target, args.label, account)
    print(f"run: {display(run)}")
    # The usual analysis, as `analyze --run RUN` runs it (probe.analysis.analyze).
    refreshed = refresh(run)
    for warning in refreshed.warnings:
        warn(warning)
    print(f"report: {display(refreshed.report)}")
    print(f"viewer: {display(viewer_path(refreshed.report))}")
    return 0


def import_file(source: Path, target: str | None, label: str, account: Path | None = None) -> Path:
    """Write the run folder of `source`: its masked traffic.jsonl (and, given `account`, the agent's own telemetry
    as telemetry.jsonl) and a manifest saying where it came from."""
    reader = detect(source)
    # Here, not at the top: `invoke` imports this module for every task's help.
    from probe.capture.imports import account_file

    shape = account_file.sniff(account) if account is not None else None  # both told apart before a folder is made
    labels = manifest_labels(IMPORTER)  # (whoever recorded the file is not known: the run is credited to its importer)
    digest = sha256_of(source)
    label = mask_tokens_and_urls(label)
    run = create_run(target or FOLDER, label)
    manifest = {
        "target": target,
        "label": label,
        "prompt": None,
        "upstream_override": None,
        "keep_secrets": False,
        "redaction": RULES_VERSION,
        "agent": {"argv": None, "version": None},
        "versions": {"probe": __version__, "mitmproxy": mitmproxy_version(), "python": sys.version.split()[0]},
        "started_at": now_iso(),
        "ended_at": None,
        "status": "importing",
        "agent_exit_code": None,
        LABELS_FIELD: labels,
    }
    write_manifest(run, manifest)
    with bounded(source.stat().st_size) as expansion:
        entries, skipped, secrets, lost, notes = write_traffic(reader.read(source), run / "traffic.jsonl", expansion)
    summary = traffic_summary(run / "traffic.jsonl", logins_of(target))
    manifest.update(status="imported", ended_at=now_iso(), **summary)
    manifest["imported"] = {
        "source": mask_tokens_and_urls(source.name),
        "format": reader.NAME,
        "sha256": digest,
        "lost": [*reader.LOST, *lost],
        "entries": entries,
        "skipped": skipped,
    }
    if notes:
        manifest["imported"]["notes"] = notes
    said = []
    if account is not None:
        read = account_file.write_telemetry(account, shape, run / "telemetry.jsonl")
        manifest["account"] = {"telemetry": read.telemetry}
        if "stopped" in read.telemetry:
            said.append(f"--account {read.telemetry['source']}: {read.telemetry['stopped']}")
            warn(said[-1])
        if read.masked:
            said.append(ACCOUNT_SECRETS.format(counted(read.masked, "secret")))
            warn(said[-1])
    if expansion.stopped:
        manifest["imported"]["stopped"] = expansion.stopped
        said.append(expansion.stopped)  # (warned when it stopped)
    if secrets:
        said.append(RAW_SECRETS.format(counted(len(secrets), "secret")))
        warn(said[-1])
    if said:
        manifest["note"] = "; ".join(said)
    write_manifest(run, manifest)
    return run


def logins_of(target: str | None) -> tuple:
    """The logins of the target a run is filed under, when it is one of targets/: the manifest's login_seen names
    those its requests carried."""
    try:
        return load_target(named_by_data(target)).logins if target and named_by_data(target) else ()
    except TargetError:
        return ()


def write_traffic(items, traffic: Path, expansion: Expansion) -> tuple[int, int, set[str], list[str], list[str]]:
    """Mask each line and append it, one at a time, until the lines would pass the file's bound (`expansion`: the
    rest is left out, in one warning); warn of each skipped entry (the first WARNINGS_SHOWN, then a count) and of
    each note on the file. Return the lines written, the entries skipped, the fingerprints of the
    secrets found unmasked, what entries did not keep (each once, in the order first seen) and the notes."""
    # Here, not at the top: it brings mitmproxy, and `invoke` imports this module for every task's help.
    from probe.capture.imports.masking import mask_line

    entries = skipped = 0
    secrets: set[str] = set()
    lost: dict[str, None] = {}
    notes: list[str] = []
    with traffic.open("wb") as out:
        traffic.chmod(0o600)
        for item in items:
            if isinstance(item, Skipped) and item.ends:
                expansion.stopped = expansion.reached(item.where, entries)
                break
            if isinstance(item, Lost):
                lost[item.what] = None
                continue
            if isinstance(item, Noted):
                notes.append(f"{item.where}: {item.what}")
                warn(notes[-1])
                continue
            if isinstance(item, Skipped):
                skipped += 1
                if skipped <= WARNINGS_SHOWN:
                    warn(item.said())
                continue
            masked, fresh = mask_line(item)
            data = line_bytes(masked)
            del masked, item
            if len(data) > MAX_LINE_BYTES:  # a line no reader would take
                skipped += 1
                warn(f"entry {entries + skipped:,}: skipped: {len(data):,} bytes written out, over the "
                     f"{MAX_LINE_BYTES:,} one exchange may take")  # fmt: skip
                continue
            if not expansion.takes(len(data)):
                expansion.stopped = expansion.reached(f"entry {entries + skipped + 1:,}", entries)
                break
            secrets |= fresh
            out.write(data)
            entries += 1
    items.close()  # (a file left at the bound is read no further)
    if expansion.stopped:
        warn(expansion.stopped)
    if skipped > WARNINGS_SHOWN:
        warn(f"{counted(skipped - WARNINGS_SHOWN, 'more entry', 'more entries')} skipped")
    return entries, skipped, secrets, list(lost), notes


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(run_main(main))
