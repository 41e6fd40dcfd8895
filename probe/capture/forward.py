"""The forward channel of --all-hosts: the run's own certificate authority, in a private folder outside the run
folder, and the variables that send the agent's other traffic through the forward listener trusting it.

The CA is made by mitmdump at its start in a new folder of the run's own (mode 0700, in the temp folder, named like
the agent's private home so that a later run removes it should this one be killed). Its key signs a certificate for
any host, so it never goes into the run folder, which is shared; every file in its folder is made 0600, and the
folder is removed when the run ends: a CA lives exactly as long as the one run that trusts it.

The forward proxy serves only the holder of a user:password made for the run: the agent gets them in its proxy URL,
mitmdump in its environment, and the user of `proxies` in a file of the CA's folder; they are never printed, and
never written into the run folder.
"""

import os
import secrets
from pathlib import Path

from probe.capture import agent_home
from probe.runs.targets import Target, fill_placeholders

CA_CERTIFICATE = "mitmproxy-ca-cert.pem"  # the CA's certificate (no key) in its folder, as mitmproxy names it
LOOPBACK = "127.0.0.1,localhost,::1"  # the reverse proxies' addresses, which the agent reaches directly
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
# Node (NODE_EXTRA_CA_CERTS adds to its bundled roots), Python's ssl and requests, and codex.
CA_VARIABLES = ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CODEX_CA_CERTIFICATE")
FORWARD_AUTH_VARIABLE = "PROBE_FORWARD_AUTH"  # read by the capture addon
PROXY_USER = "agent-probe"
PROXY_URL_FILE = "forward-proxy-url"  # the forward proxy's URL with its credentials, in the CA's folder


def new_credentials() -> str:
    """A user:password for one run's forward proxy (URL-safe, so that it goes into the proxy URL as it is)."""
    return f"{PROXY_USER}:{secrets.token_urlsafe(24)}"


def with_credentials(url: str, credentials: str) -> str:
    """http://user:password@127.0.0.1:PORT for http://127.0.0.1:PORT."""
    return url.replace("://", f"://{credentials}@", 1)


def write_proxy_url(folder: Path, url: str) -> Path:
    """The URL with its credentials, for `proxies`' user to hand a client: readable by its owner only."""
    path = folder / PROXY_URL_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(url + "\n")
    return path


def make_ca_folder() -> Path:
    """A new, empty, private (0700) folder for the run's CA, which mitmdump fills at its start."""
    return agent_home.create(agent_home.CA_PREFIX)


def seal(folder: Path) -> Path:
    """Make every file of the CA folder readable by its owner only (mitmproxy writes its certificates with the
    usual umask, its keys 0600), and return the CA certificate's path."""
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o600)
    return folder / CA_CERTIFICATE


def forward_environment(target: Target, ca: Path | None, forward: str | None, values: dict[str, str]) -> dict[str, str]:
    """What the agent is handed with --all-hosts (none without, `forward` None): the forward proxy for every host but
    the loopback reverse proxies, the CA in every variable a runtime reads it from, then the target's (and its
    login's) `all_hosts_env`, with `{ca}`, `{forward}` and the run's other `values` filled."""
    if forward is None or ca is None:
        return {}
    env = {name: forward for name in PROXY_VARIABLES}
    env |= {"NO_PROXY": LOOPBACK, "no_proxy": LOOPBACK}
    env |= {name: str(ca) for name in CA_VARIABLES}
    values = values | {"ca": str(ca), "forward": forward}
    env |= {name: fill_placeholders(value, values) for name, value in target.all_hosts_env.items()}
    return env


def remove_ca_folder(folder: Path | None) -> None:
    if folder is not None:
        agent_home.remove(folder)
