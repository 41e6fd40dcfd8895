"""The maintained rule set of secret shapes: the rules that the `kingfisher-bin` package ships (Betterleaks's, which
descend from gitleaks's, and Veles's), read from its binary once per version and found in one pass of an RE2 set.

Hundreds of provider shapes (webhook URLs, Databricks, Telegram, Azure …) that nobody here keeps by hand: a new
release of the package brings new rules. Without the package or RE2 (a capture under some other mitmdump) the
project's own rules in probe.redact.shape_rules still mask, and `available()` says so. Where Hyperscan is installed,
a prefilter of them all rules out most texts before RE2 is asked (compiled once a machine, kept in the cache).
"""

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

try:
    import re2
except ImportError:  # the capture addon loads this under any mitmdump: its rules then mask alone
    re2 = None
try:
    import hyperscan
except ImportError:  # RE2's set is then asked of every text
    hyperscan = None

# A rule's secret is the first of these named groups that matched, else its first group, else the whole match.
SECRET_GROUPS = ("password", "secret", "token", "key", "apikey", "api_key", "credential")
RE2_MEMORY = 128 << 20  # for the set's automaton: past it, RE2 answers from a slower engine, never wrongly


@dataclass(frozen=True)
class RuleSet:
    version: str  # the package's version: what a report names as the source of its shapes
    ids: tuple[str, ...]
    sources: tuple[str, ...]  # each rule's pattern
    unbuilt: object  # an RE2 set of them all, each added but the whole not compiled: `scan` compiles it
    prefilter: object = None  # a PatternSet of them all, where Hyperscan is installed
    compiled: dict = field(default_factory=dict)  # a rule's pattern, compiled the first time the set finds it
    built: list = field(default_factory=list)  # the RE2 set once compiled
    building: threading.Lock = field(default_factory=threading.Lock)

    @property
    def scan(self):
        """The RE2 set, compiled the first time a text needs it: compiling takes half a second, and where the
        prefilter rules out every text a process masks (a target file, a prompt), it is never needed."""
        if not self.built:
            with self.building:  # the capture addon's threads may both ask at once: compiled once
                if not self.built:
                    self.unbuilt.Compile()
                    self.built.append(self.unbuilt)
        return self.built[0]

    def pattern(self, index: int):
        found = self.compiled.get(index)
        if found is None:
            found = self.compiled[index] = re2.compile(self.sources[index])
        return found


def binary() -> Path | None:
    spec = importlib.util.find_spec("kingfisher")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "bin" / "kingfisher"
    return found if found.is_file() else None


def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("kingfisher-bin")
    except metadata.PackageNotFoundError:
        return ""


def cache_file(version: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "agent-probe" / f"secret-rules-kingfisher-{version}.json"


def listed_rules(program: Path, version: str) -> list[dict]:
    """The package's rules as its binary lists them, kept in the user's cache for the next process."""
    cached = cache_file(version)
    try:
        return json.loads(cached.read_bytes())
    except (OSError, ValueError):
        pass
    listing = subprocess.run(
        # Without --no-update-check the binary asks GitHub for a newer release of itself (through the user's
        # proxy, if any): a tool for seeing what agents send must send nothing it was not asked to.
        [str(program), "rules", "list", "--format", "json", "--quiet", "--no-update-check"],
        capture_output=True,
        timeout=60,
        check=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C meant for the run is ours to handle, not a reason to list no rules
    )
    rules = json.loads(listing.stdout)
    try:  # written whole or not at all: another process may be reading it
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cached.parent, delete=False) as out:
            out.write(listing.stdout)
        os.replace(out.name, cached)
    except OSError:
        pass  # a read-only home: listed again next time
    return rules


LOADED: list[RuleSet | None] = []  # the rule set once loaded (or known to be missing): loaded once a process


def rule_set() -> RuleSet | None:
    """The rules, compiled; None without the package or RE2, or if its binary cannot list them (then tried again
    at the next call: a listing cut short must not leave a whole run with fewer rules)."""
    if not LOADED:
        program = binary()
        if re2 is None or program is None:
            LOADED.append(None)
            return None
        try:
            rules = listed_rules(program, package_version())
        except (OSError, ValueError, subprocess.SubprocessError):
            return None
        LOADED.append(compiled(rules))
    return LOADED[0]


def compiled(rules: list) -> RuleSet:
    """The listed rules as RE2 patterns and one RE2 set of them all."""
    options = re2.Options()
    options.max_mem = RE2_MEMORY
    scan = re2.Set.SearchSet(options)
    ids, sources = [], []
    for rule in rules:
        pattern = rule.get("pattern") if isinstance(rule, dict) else None
        # RE2 has no verbose mode (`(?x)`). The one such rule (AWS session tokens after their variable's name) is
        # a free-text assignment that probe.redact.shape_rules masks as well.
        if not isinstance(pattern, str) or "(?x" in pattern:
            continue
        try:
            scan.Add(pattern)
        except Exception:  # a rule in syntax RE2 lacks: the others still mask
            continue
        ids.append(str(rule.get("id", "")))
        sources.append(pattern)
    version = package_version()
    digest = hashlib.sha256("\n".join(sources).encode()).hexdigest()[:16]
    prefilter = pattern_set(sources, cache_file(version).with_name(f"secret-rules-{version}-{digest}"))
    return RuleSet(version, tuple(ids), tuple(sources), scan, prefilter=prefilter)


def available() -> bool:
    return rule_set() is not None


def warm() -> None:
    """Load the rules and compile their RE2 set now, ahead of the first text (the capture addon, at its start)."""
    rules = rule_set()
    if rules is not None:
        rules.scan  # noqa: B018 -- the property compiles the set


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scannable(text):
    """`text` as RE2 can take it: a str with a lone surrogate (JSON's `\\ud800`) cannot be written as UTF-8, so
    each becomes U+FFFD, which keeps every other character where it was."""
    if isinstance(text, str) and not text.isascii() and LONE_SURROGATE.search(text):
        return LONE_SURROGATE.sub("\ufffd", text)
    return text


def ruled_out(rules: RuleSet, text) -> bool:
    """Whether Hyperscan's prefilter shows that no rule matches `text`: in one pass, about three times as fast as
    RE2's set. Only ASCII text is ruled out, where PCRE (as Hyperscan reads a rule) and RE2 agree on what a
    character is and how its case folds; other text goes to RE2."""
    if rules.prefilter is None or not text.isascii():
        return False
    return not rules.prefilter.may_match(text.encode("ascii") if isinstance(text, str) else text)


def found_in(text) -> bool:
    """Whether any maintained rule matches somewhere in `text` (str or bytes)."""
    rules = rule_set()
    return rules is not None and not ruled_out(rules, text) and bool(rules.scan.Match(scannable(text)))


def secret_spans(text) -> list[tuple[int, int]]:
    """Where the secrets are that the maintained rules find in `text` (str or bytes), as (start, end)."""
    rules = rule_set()
    if rules is None or not text or ruled_out(rules, text):
        return []
    spans = []
    text = scannable(text)
    for index in rules.scan.Match(text) or ():
        pattern = rules.pattern(index)
        for match in pattern.finditer(text):
            spans.append(secret_span(match, pattern))
    return [span for span in spans if span[1] > span[0]]


def secret_span(match, pattern) -> tuple[int, int]:
    names = pattern.groupindex
    for name in SECRET_GROUPS:
        if name in names and match.start(names[name]) >= 0:
            return match.span(names[name])
    for group in range(1, pattern.groups + 1):
        if match.start(group) >= 0:
            return match.span(group)
    return match.span()


class PatternSet:
    """Whether any of a set of regular expressions may match a text, in one pass: compiled in Hyperscan's prefilter
    mode, which may say yes where none matches, but never no where one does (reading them as PCRE does)."""

    def __init__(self, database) -> None:
        self.database = database
        self.local = threading.local()

    def may_match(self, text: bytes) -> bool:
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = hyperscan.Scratch(self.database)
        seen = []

        def first(index: int, start: int, end: int, flags: int, context) -> bool:
            seen.append(index)
            return True  # stop here

        with contextlib.suppress(hyperscan.ScanTerminated):
            self.database.scan(bytes(text), match_event_handler=first, scratch=scratch)
        return bool(seen)


PREFILTER = (
    (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY) if hyperscan else 0
)


def pattern_set(patterns: list[str], cache: Path) -> PatternSet | None:
    """The patterns compiled (seconds for hundreds), or loaded from `cache` where an earlier process left them
    compiled; None without Hyperscan, or if any pattern cannot be compiled (a prefilter must cover them all)."""
    if hyperscan is None or not patterns:
        return None
    cache = cache.with_name(f"{cache.name}-hyperscan-{hyperscan.__version__}.db")
    with contextlib.suppress(Exception):  # missing, from another machine or version: compiled again
        return PatternSet(hyperscan.loadb(cache.read_bytes(), hyperscan.HS_MODE_BLOCK))
    try:
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[pattern.encode() for pattern in patterns],
            ids=list(range(len(patterns))),
            flags=[PREFILTER] * len(patterns),
        )
    except Exception:
        return None
    with contextlib.suppress(OSError, hyperscan.HyperscanError):  # written whole or not at all; else compiled next time
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache.parent, delete=False) as out:
            out.write(hyperscan.dumpb(database))
        os.replace(out.name, cache)
    return PatternSet(database)
