"""The text scan of secret_shapes as it was before its needle scan: one regular expression per probe, searched
over the whole text. Kept only as the reference the needle scan must agree with, span for span."""

import re

from probe.redact import escapes, maintained, replacing
from probe.redact import shapes as secret_shapes

PROBES = [
    (
        rule,
        re.compile(rule.probe),
        re.compile(rule.probe.encode()),
        re.compile(rule.pattern),
        re.compile(rule.pattern.encode()),
    )
    for rule in secret_shapes.RULES
]


def apply_rules(text, is_bytes: bool):
    matches = []
    lowered = None
    for rule, probe_text, probe_bytes, pattern_text, pattern_bytes in PROBES:
        if rule.lowercase:
            lowered = lowered if lowered is not None else text.lower()
            haystack = lowered
        else:
            haystack = text
        probe = probe_bytes if is_bytes else probe_text
        pattern = pattern_bytes if is_bytes else pattern_text
        hit = probe.search(haystack)
        while hit is not None:
            match = anchored_match(pattern, text, hit.start(), rule.before)
            if match is not None and rule.check and not secret_shapes.checked(rule, match, text, is_bytes):
                match = None
            hit = probe.search(haystack, match.end() if match is not None else hit.start() + 1)
            if match is not None:
                keep_end = match.end("keep") if "keep" in match.re.groupindex else match.start()
                matches.append((keep_end, match.end()))
    matches += maintained.secret_spans(escapes.spaced(text))
    # What only decoding shows is looked for as the masking does (its views use the needle scan too).
    matches += secret_shapes.escaped_spans(text, is_bytes, 1)
    matches = secret_shapes.without_escape_ends(text, matches)
    if not matches:
        return text, 0
    return replacing.replace_spans(text, matches, is_bytes)


def anchored_match(pattern: re.Pattern, text, position: int, before: int):
    for start in range(max(position - before, 0), position + 1):
        match = pattern.match(text, start)
        if match is not None and match.end() > position:
            return match
    return None
