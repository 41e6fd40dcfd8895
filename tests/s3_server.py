"""A pytest plugin: an S3-compatible server for the team lake's data on an object store, moto's server mode started on
a free loopback port once per test process, when a test first asks for it, then stopped. Its credentials are made up
here; the environment a test hands to the code names this server as the endpoint and turns off every other way
the AWS libraries look for credentials or regions, so nothing reaches the network."""

import contextlib
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import HOST, free_loopback_port, shut_down_with_the_tests

READY_WITHIN = 30  # seconds
REGION = "us-east-1"


class S3Server:
    """A started server: its endpoint, the environment that reaches it, and a client of its own (boto3)."""

    def __init__(self, port: int, process: subprocess.Popen, log: Path):
        self.port, self.process, self.log = port, process, log
        self.endpoint = f"http://{HOST}:{port}"
        # Made up for this process: long enough to be found by a scanner, and found nowhere else.
        self.key_id = "AKIA" + secrets.token_hex(8).upper()
        self.secret = secrets.token_urlsafe(30)

    def environment(self) -> dict[str, str]:
        """The variables that point the code at this server, and keep botocore and DuckDB from looking further."""
        return {
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.key_id,
                            aws_secret_access_key=self.secret, region_name=REGION)  # fmt: skip

    def bucket(self, name: str) -> str:
        """A new, empty bucket of this name; its s3:// URL."""
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}"

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object's key under `prefix` in `bucket`, as the server lists them."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_s3(folder: Path) -> Iterator[S3Server]:
    """moto's server on 127.0.0.1, its log in `folder`, stopped on leaving."""
    port = free_loopback_port()
    log = folder / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=shut_down_with_the_tests)  # fmt: skip
    server = S3Server(port, process, log)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto's S3 server on {HOST}:{port} did not start: {log.read_text()[-2000:]}")
            try:
                server.client().list_buckets()
                break
            except Exception:
                time.sleep(0.1)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """One S3-compatible server per test process, started when a test first asks for it."""
    with running_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_environment(s3_server, monkeypatch) -> dict[str, str]:
    """The test's environment pointed at the server (and at nothing else: no AWS variable of the user's stays)."""
    import os

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    return s3_server.environment()
