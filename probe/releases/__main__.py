"""`python -m probe.releases`: see probe.releases.job."""

import sys

from probe.common.errors import run_main
from probe.releases.job import main

if __name__ == "__main__":
    sys.exit(run_main(main))
