"""What this project lets reach npm's command line: a package's name and a plain version, checked by the target
files' schema, the command line and the installer alike."""

import re

# npm's rule for package names (lowercase, optionally @scope/): no name can climb out of the folder it names.
PACKAGE_NAME = re.compile(r"(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*", re.ASCII)
# A plain version, nothing npm would read as a range, a tag, a URL or a path (`latest`, `^1`, `file:..`, `git+…`).
PLAIN_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?", re.ASCII)


def is_plain_version(text: str) -> bool:
    return PLAIN_VERSION.fullmatch(text) is not None
