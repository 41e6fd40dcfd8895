"""What this project lets reach pip's command line: a distribution's name and a plain version, checked by the target
files' schema, the command line and the installer alike."""

import re

# PEP 508's rule for a distribution's name: letters, digits and . _ -, starting and ending with a letter or digit.
DISTRIBUTION_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", re.ASCII)
# A plain public version (PEP 440's release, with a pre-, post- or dev-release): nothing pip would read as a range,
# a URL or a path.
PLAIN_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?", re.ASCII)


def is_plain_version(text: str) -> bool:
    return PLAIN_VERSION.fullmatch(text) is not None


def normalised(name: str) -> str:
    """The name as PyPI compares names (PEP 503): `Mini_SWE.agent` is `mini-swe-agent`."""
    return re.sub(r"[-_.]+", "-", name).lower()
