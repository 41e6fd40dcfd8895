"""How each of a target's logins shows in a request (`seen_as`), and which logins a run's requests carried."""

from collections import Counter
from dataclasses import InitVar, dataclass, field
from urllib.parse import parse_qsl, urlsplit

MARK_KEYS = {
    # Where the credential goes: a request header, or a URL query parameter (one of them). A masked credential
    # keeps no trace of its kind, so only its place, the headers around it and the proxy tell logins apart.
    "header": ("string", False),
    "query": ("string", False),
    "with": ("string mapping", False),  # other headers, each with a text its value holds ("": only present)
    "without": ("list of strings", False),  # headers the request does not carry
    "proxy": ("string", False),  # the target's proxy the request went through
}


@dataclass(frozen=True)
class Mark:
    """One way a login shows in a request; every condition it states must hold."""

    header: str = ""
    query: str = ""
    present: tuple[tuple[str, str], ...] = ()  # (lowercase header name, lowercase text its value holds)
    absent: tuple[str, ...] = ()
    proxy: str = ""

    @property
    def conditions(self) -> int:
        """How much it asks: of two logins whose marks both hold, the one that asks more is the one seen."""
        return 1 + len(self.present) + len(self.absent) + bool(self.proxy)

    def holds(self, proxy: str, url: str, headers: dict[str, str]) -> bool:
        if self.proxy and proxy != self.proxy:
            return False
        if self.header and self.header not in headers:
            return False
        if self.query and self.query not in {name for name, _ in parse_qsl(urlsplit(url).query, True)}:
            return False
        if any(name in headers for name in self.absent):
            return False
        return all(name in headers and text in headers[name] for name, text in self.present)


def parse_marks(declared: object, proxy_names: list[str], check, where: str) -> tuple[Mark, ...]:
    """`seen_as`: a list of the ways the login shows in a request, any one of which says it was used."""
    if not isinstance(declared, list) or not declared:
        raise check.fail(where, "expected a list of the ways the login shows in a request (header or query)")
    marks = []
    for index, entry in enumerate(declared):
        place = f"{where}[{index}]"
        spec = check.mapping(entry, MARK_KEYS, place)
        if bool(spec.get("header")) == bool(spec.get("query")):
            raise check.fail(place, "expected header or query: where the credential goes (one of them)")
        if spec.get("proxy") and spec["proxy"] not in proxy_names:
            raise check.fail(f"{place}.proxy", f"{spec['proxy']!r} names no proxy of this target")
        marks.append(
            Mark(
                header=spec.get("header", "").lower(),
                query=spec.get("query", ""),
                present=tuple((name.lower(), text.lower()) for name, text in spec.get("with", {}).items()),
                absent=tuple(name.lower() for name in spec.get("without", [])),
                proxy=spec.get("proxy", ""),
            )
        )
    return tuple(marks)


def login_in(marks: tuple[tuple[str, tuple[Mark, ...]], ...], proxy: str, url: str, headers) -> str | None:
    """The login (of `marks`: each login's name and its `seen_as`) a request through `proxy` carried, None if none
    shows."""
    by_name = {}
    for name, value in headers:  # (a repeated header's values are read together)
        if isinstance(name, str) and isinstance(value, str):
            key = name.lower()
            by_name[key] = f"{by_name[key]}, {value.lower()}" if key in by_name else value.lower()
    found, asked = None, 0
    for name, ways in marks:
        for mark in ways:
            if mark.conditions > asked and mark.holds(proxy, url, by_name):
                found, asked = name, mark.conditions
    return found


@dataclass
class LoginsSeen:
    """The logins a run's requests through its target's proxies carried, counted as the requests stream past. The
    callers leave out requests through the forward proxy of --all-hosts: they go to other hosts (an agent's profile
    or telemetry calls), not to the model."""

    logins: InitVar[tuple] = ()  # the target's (probe.runs.logins.Login)
    counts: Counter = field(default_factory=Counter)
    # Each login's name and seen_as, and nothing else of it: an analysis's saved reading keeps this object, and a
    # login's variables and files may hold stand-in credentials.
    marks: tuple = field(init=False, default=())

    def __post_init__(self, logins: tuple) -> None:
        self.marks = tuple((login.name, login.seen_as) for login in logins if login.seen_as)

    @property
    def declared(self) -> bool:
        """Whether any of the logins says how it shows: without that, nothing is looked for."""
        return bool(self.marks)

    def add(self, proxy: str, url: str, headers) -> None:
        if not self.declared:
            return
        name = login_in(self.marks, proxy, url, headers)
        if name is not None:
            self.counts[name] += 1

    def recorded(self) -> dict[str, int]:
        """The manifest's `login_seen`: each login seen, with its count of requests, most used first; empty when no
        request carried one."""
        return dict(self.counts.most_common())
