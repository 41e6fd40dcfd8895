"""The machine facts every benchmark prints beside its figures."""

import os
import platform


def describe_machine() -> str:
    try:
        from mitmproxy.version import VERSION as mitmproxy_version
    except ImportError:
        mitmproxy_version = "not installed"
    return (
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"mitmproxy {mitmproxy_version}; load average {os.getloadavg()[0]:.1f} as it starts (other work on the "
        "same cores makes figures noisy)"
    )
