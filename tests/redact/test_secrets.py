"""Secrets in command lines and headers are replaced by fingerprints."""

from probe.redact.secrets import fingerprint, mask_argv, mask_command, redact_header


def test_curl_style_command_secrets_are_masked():
    command = (
        "curl -H 'Authorization: Bearer plainsecret1' -H 'x-api-key: plainsecret2' -b 'session=plainsecret3' "
        "-u me:plainsecret4 $PROBE_PROXY_URL/v1/x?api_key=plainsecret5; curl -s -uuser:plainsecret6 "
        "https://alice:plainsecret7@127.0.0.1:1/; curl --user=bob:plainsecret8 x; grep -bn x y"
    )
    masked = mask_command(command)
    assert not [number for number in range(1, 9) if f"plainsecret{number}" in masked]
    assert "curl" in masked and "$PROBE_PROXY_URL/v1/x" in masked and "grep -bn x y" in masked
    # A flag and its value in one word, and a URL's user:password, each keep their own fingerprint.
    assert f"-u{fingerprint('user:plainsecret6')}" in masked and f"--user={fingerprint('bob:plainsecret8')}" in masked
    assert f"https://{fingerprint('alice:plainsecret7')}@127.0.0.1:1/" in masked
    assert mask_argv(["curl", "-uuser:plainsecret6", "--user=bob:plainsecret8", "-bn"]) == [
        "curl",
        f"-u{fingerprint('user:plainsecret6')}",
        f"--user={fingerprint('bob:plainsecret8')}",
        "-bn",
    ]


def test_token_shapes_and_flags_in_argv():
    masked = mask_argv(["agent", "--api-key", "abc", "sk-" + "ant-abcdefgh12345", "AIza" + "x" * 30, "hello"])
    assert masked[0] == "agent" and masked[-1] == "hello"
    assert all(part.startswith("[REDACTED sha256:") for part in masked[2:5])


def test_headers_already_redacted_are_left_alone():
    assert redact_header("Authorization", "Bearer x") == fingerprint("Bearer x")
    assert redact_header("authorization", "[REDACTED sha256:12345678]") == "[REDACTED sha256:12345678]"
    assert redact_header("x-custom", "v", frozenset({"x-custom"})) == fingerprint("v")
    assert redact_header("content-type", "text/plain") == "text/plain"


def test_a_command_line_masked_for_the_manifest_keeps_one_fingerprint_per_secret(tmp_path):
    """Masking an already masked command line again must change nothing (it once gave every secret the same
    fingerprint, that of `[REDACTED`)."""
    from probe.capture.session import open_run
    from probe.runs.targets import load_target

    command = "API_KEY=first-secret-value curl --token second-secret-value -H 'x-api-key: third4secret5value'"
    masked = mask_command(command)
    assert mask_command(masked) == masked
    recording = open_run(load_target("tests/data/itest.yaml"), tmp_path / "run", "", None, None, None)
    recording.set_agent(["/bin/sh", "-c", masked], None, {}, masked=True)
    [stored] = recording.manifest["agent"]["argv"][2:]
    prints = [fingerprint(secret) for secret in ("first-secret-value", "second-secret-value", "third4secret5value")]
    assert stored == (f"API_KEY={prints[0]} curl --token {prints[1]} -H 'x-api-key: {prints[2]}'")
    assert mask_argv(["agent", "--token", prints[1], "KEY=" + prints[0]]) == [
        "agent",
        "--token",
        prints[1],
        "KEY=" + prints[0],
    ]
