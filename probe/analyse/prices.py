"""Where a model's price comes from: a price file's entry (negotiated rates, private models) before the maintained
price database, genai-prices, which is bundled and works offline; and how each was made, for the report to name."""

import contextlib
import fnmatch
import functools
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from probe.common.bounded_read import read_at_most
from probe.common.errors import UsageError, one_line

# The environment variable that names a price file when no --prices does: the pipeline's steps each read it.
PRICES_ENV = "PROBE_PRICES"
PRICE_FILE_LIMIT = 1 << 20  # bytes: a price file is a few lines, and is read whole
# A price file's fields per model, in US dollars per million tokens.
PRICE_FIELDS = ("input", "cache_read", "cache_write", "cache_write_1h", "output")
# And beside them, not a price: the model's context window in tokens, read as the database's (probe.analyse.window).
WINDOW_FIELD = "context_window"
MODEL_NAME_LIMIT = 200  # characters: a longer model name is no model's, and is not looked up
# OpenTelemetry's provider names (a Turn's `provider`) as the price database names them.
DATABASE_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "gcp.gemini": "google", "gcp.vertex_ai": "google"}


@dataclass(frozen=True)
class FilePrice:
    """One model's prices from a price file, per million tokens; a missing cache price is the input price."""

    pattern: str  # the model's name as the API reports it, or a glob (`my-model-*`)
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    context_window: int | None = None  # tokens


@dataclass
class PriceBook:
    """The prices a run is costed with: a price file's models first, then (unless the file says not to) the
    database's."""

    file: Path | None = None
    file_prices: list[FilePrice] = field(default_factory=list)
    file_sha256: str | None = None
    use_database: bool = True

    def from_file(self, model: str) -> FilePrice | None:
        for price in self.file_prices:
            if price.pattern == model or (
                any(c in price.pattern for c in "*?[") and fnmatch.fnmatchcase(model, price.pattern)
            ):
                return price
        return None

    @property
    def database(self) -> str:
        """The price database and its version, as the report names it."""
        return f"genai-prices {database_version()}"

    def provenance(self) -> str:
        """One line naming every source of prices, with versions: what the report's stamp says it was made with."""
        sources = []
        if self.file is not None:
            sources.append(f"{self.file.name} (sha256 {self.file_sha256})")
        if self.use_database:
            sources.append(self.database)
        return " then ".join(sources) if sources else "none"


@functools.cache  # the installed version does not change while we run, and looking it up takes 1.5 ms
def database_version() -> str:
    try:
        return version("genai-prices")
    except PackageNotFoundError:  # an install without it: every price is unknown, and the report says why
        return "(not installed)"


def price_book(path: Path | str | None = None) -> PriceBook:
    """The price book for `path` (a YAML price file), else for $PROBE_PRICES, else the database alone. A file that
    cannot be read or makes no sense is a one-line error: costs from half a price file would mislead."""
    chosen = path if path is not None else os.environ.get(PRICES_ENV) or None
    if chosen is None:
        return PriceBook()
    file = Path(chosen)
    try:
        raw = read_at_most(file, PRICE_FILE_LIMIT)
    except OSError as error:
        raise UsageError(f"price file {one_line(str(file))}: {error.strerror or error}") from None
    if raw is None:
        raise UsageError(f"price file {one_line(str(file))}: larger than {PRICE_FILE_LIMIT:,} bytes")
    prices, use_database = file_prices(raw, file)
    return PriceBook(file, list(prices), hashlib.sha256(raw).hexdigest()[:12], use_database)


# Remembered by the bytes read: a run against the mock is priced with the mock's file, read twice for each run, and
# parsing it was most of what checking that a run is up to date costs (`analyze --run all`).
@functools.lru_cache(maxsize=16)
def file_prices(raw: bytes, file: Path) -> tuple[tuple[FilePrice, ...], bool]:
    """A price file's prices, and whether the database comes after them."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise UsageError(f"price file {one_line(str(file))}: not YAML ({one_line(str(error))[:200]})") from None
    prices, use_database = read_price_file(data, file)
    return tuple(prices), use_database


def read_price_file(data: Any, file: Path) -> tuple[list[FilePrice], bool]:
    """`models:` maps a model name (or glob) to its prices per million tokens; `use_database: false` leaves the
    database out, so that a report's costs depend on the file alone."""
    where = f"price file {one_line(str(file))}"
    if not isinstance(data, dict) or not isinstance(data.get("models", {}), dict):
        raise UsageError(f"{where}: expected a mapping with `models:` (model name: prices per million tokens)")
    unknown = set(data) - {"models", "use_database"}
    if unknown:
        raise UsageError(
            f"{where}: unknown key {one_line(sorted(map(str, unknown))[0])!r} (expected models, use_database)"
        )
    use_database = data.get("use_database", True)
    if not isinstance(use_database, bool):
        raise UsageError(f"{where}: use_database must be true or false")
    prices = []
    for name, entry in (data.get("models") or {}).items():
        model = one_line(str(name))
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: model {model!r}: expected its prices ({', '.join(PRICE_FIELDS)})")
        wrong = set(entry) - {*PRICE_FIELDS, WINDOW_FIELD}
        if wrong:
            raise UsageError(f"{where}: model {model!r}: unknown price {one_line(str(sorted(map(str, wrong))[0]))!r}")
        if "input" not in entry or "output" not in entry:
            raise UsageError(f"{where}: model {model!r}: needs both input and output (US dollars per million tokens)")
        values = {key: amount(entry[key], f"{where}: model {model!r}: {key}") for key in entry if key != WINDOW_FIELD}
        window = tokens(entry.get(WINDOW_FIELD), f"{where}: model {model!r}: {WINDOW_FIELD}")
        prices.append(FilePrice(str(name), **values, context_window=window))
    return prices, use_database


def amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UsageError(f"{where}: expected a number of US dollars per million tokens")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"{where}: {one_line(str(value))[:40]!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise UsageError(f"{where}: expected a price of 0 or more")
    return number


def tokens(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{where}: expected a whole number of tokens above 0")
    return value


# The prices a run against the bundled mock is costed with unless others are asked for (see the file's own
# comment): named by path here, so that pricing never imports the mock.
MOCK_PRICES = Path(__file__).with_name("mock_prices.yaml")

PRICES_HELP = (
    "a YAML price file (models: {name or glob: {input, output, cache_read, cache_write, cache_write_1h}} in US "
    "dollars per million tokens, and context_window in tokens) whose models are priced before the bundled price "
    "database's; default: "
    f"${PRICES_ENV}"
)


@contextlib.contextmanager
def prices_from(path: Path | str | None) -> Iterator[None]:
    """Price what is analysed inside the block with the file at `path` (None: as before), then as before."""
    if path is None:
        yield
        return
    price_book(path)  # read now, so that a bad file is a one-line error before any work
    before = os.environ.get(PRICES_ENV)
    # In the environment, so that the steps the block starts price with it too.
    os.environ[PRICES_ENV] = str(Path(path).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PRICES_ENV, None)
        else:
            os.environ[PRICES_ENV] = before
