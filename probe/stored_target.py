"""The run's copy of its target file: what the manifest keeps of it."""

import hashlib

from probe.redaction import fingerprint, is_secret_variable
from probe.secrets import mask_tokens_and_urls
from probe.targets import Target


def record(target: Target, keep_secrets: bool) -> dict | None:
    """The manifest's `target_file`: the file's name, the sha256 of its bytes, and its text with the values of
    secret-named variables fingerprinted and every other secret masked as in the rest of the manifest."""
    if target.text is None:
        return None
    text = target.text
    if not keep_secrets:
        values = {value for group in (target.env, target.mock_env, target.quiet_env)
                  for name, value in group.items() if is_secret_variable(name, value)}
        for value in sorted(values, key=len, reverse=True):  # a longer secret may hold a shorter one
            text = text.replace(value, fingerprint(value))
        text = mask_tokens_and_urls(text)
    return {"name": target.path.name if target.path else f"{target.name}.yaml",
            "sha256": hashlib.sha256(target.text.encode("utf-8")).hexdigest(), "content": text}
