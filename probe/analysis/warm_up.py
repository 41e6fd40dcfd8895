"""Imported by the forkserver that starts `analyze --run all --jobs N`'s workers (probe.analysis.side_by_side), once:
sets up what every worker's first run would otherwise set up in each worker, which they then share through fork."""

import contextlib

from probe.analyse import token_count
from probe.analyse.prices import price_book
from probe.analysis import report
from probe.redact import maintained
from probe.runs.code_files import source_files

# The masking rules' RE2 set (about 0.4 s of CPU), the tokenizer, the price database and the analyzer's source
# files, which the ledger reads the imports of.
for step in (
    maintained.warm,
    lambda: token_count.rust_counter(token_count.ENCODING),
    price_book,
    lambda: source_files(report.__name__),
):
    with contextlib.suppress(Exception):  # (only a head start: a worker sets up whatever failed here itself)
        step()
