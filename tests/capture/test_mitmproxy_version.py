"""Each Python runs the mitmproxy release line it is tested with: 11.0.x on 3.11, 12.x on 3.12 (the noxfile's
`tests` sessions pin them). The whole suite runs under each, so every hook the capture relies on is exercised
under both; this checks that a session really has the release it is meant to test."""

import re
import subprocess
import sys

from mitmproxy.version import VERSION

from probe.capture.proxies import find_mitmdump

MITMPROXY_FOR_PYTHON = {(3, 11): 11, (3, 12): 12}


def test_this_python_has_the_mitmproxy_it_is_tested_with():
    python = sys.version_info[:2]
    assert python in MITMPROXY_FOR_PYTHON, f"Python {python[0]}.{python[1]} is not one of the tested pairs"
    assert int(VERSION.split(".")[0]) == MITMPROXY_FOR_PYTHON[python]


def test_the_proxies_run_the_same_mitmproxy_as_the_tests():
    output = subprocess.run([find_mitmdump(), "--version"], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"Mitmproxy:\s*(\S+)", output).group(1) == VERSION
