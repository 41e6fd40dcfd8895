"""The one place where captured text becomes Markdown: every helper here leaves that text inert.

A capture holds whatever an agent, a model, an upstream or an attacker put into it, and many Markdown
previewers pass HTML through. So no captured string is ever written into Markdown syntax directly; it goes
through one of these helpers, each made for one context:

- `inline(text)`: a code span, for identifiers and values (paths, URLs, names, JSON). Its content is literal
  to every Markdown renderer: no HTML, link, entity, emphasis or escape works inside it, and linkifiers skip it.
- `code(text)`: a fenced block, for long texts (bodies, model text). The fence is longer than any run of
  backticks in the text, so no line of it can close the block: a closing fence needs as many backticks, a
  `~~~` line never closes a backtick fence, and CR or CRLF line endings only make more lines of the same kind.
- `text(text)`: prose, for words inside our own sentences (methods, event types, warnings). Raw HTML and autolinks
  cannot start (`<` and `>` become entities); links, images and reference definitions need `[`, which is escaped; so
  are emphasis, code, strikethrough, table pipes and `{` (Python-Markdown's attribute lists, `{: onclick=…}`, would
  put attributes on the element). `&` becomes `&amp;`, so a captured `&lt;` shows as typed (a backslash would leave
  `&#` in the text, which makes Python-Markdown's HTML parser stop recognising HTML blocks for the rest of the
  document). What linkifiers (GFM autolinks, linkify-it) would turn into a non-http link is broken up: a `:` before a
  non-space (`mailto:`, `ftp:`, `javascript:`), every `@` (e-mail addresses become `mailto:`) and the second `/` of
  `//` (protocol-relative links); what is left can only become an http(s) link (`example.com`), which is allowed. A
  leading `#`, `-`, `+`, `=` or `1.` that would start a block is escaped too, so that prose never starts a heading,
  list or rule, wherever a template places it.
- `strong(text)`: prose in bold; blank text shows as `(blank)`, since `****` alone on a line is a rule.
- `details(summary, *body)`: the summary sits in raw HTML, so it is HTML-escaped, and a `]` that could close a link's
  text becomes an entity. Some renderers (Python-Markdown) pass a whole `<details>` block through as raw HTML, code
  included: so in code spans and blocks a zero-width space follows every `<` that could open a tag, a comment or a
  declaration (`<a`, `</`, `<!`, `<?`), and every `&#` that could start a character reference (an unfinished one,
  `&#…`, stops Python-Markdown's HTML parser, and every later `<details>` would be read as Markdown). It is invisible,
  and no HTML parser reads `<` or `&` followed by it as markup. (Prose needs nothing: its `<` is `&lt;` and its `&` is
  `&amp;`.)
- `table(headers, rows)`: cells are Markdown as given (`inline(value)` for values), numbers as written, other
  text as prose, other values as JSON in a code span; pipes are escaped in every cell.
Every one-line context (all but `code`) turns line breaks into spaces, so captured text can never end a
paragraph, a heading, a table row or the HTML block of a summary, and start a block of its own. In every context,
control characters (an escape sequence, a lone carriage return, STX), bidirectional overrides and isolates and
invisible characters are shown as their escapes (`\\x1b`, `\\u202e`, as probe.common.errors writes them), so that a
report printed on a terminal, or read in an editor, shows what was captured and does nothing else.

Captured text is masked here too, before it is escaped, by the function that `masked_by` sets for the
report being written (probe.analysis.report masks token shapes unless the capture was masked when it was recorded).
Masking the finished Markdown instead would let a masked span swallow the syntax around it (a URL parameter's
value runs to the next space, across a closing backtick), and the `[REDACTED sha256:…]` it writes would not
be escaped.

`Markdown` marks text that already is Markdown: built by these helpers, or written as a literal in our code.
`Markdown(template).format(...)` fills a template the way markupsafe's `Markup.format` does for HTML: each
argument is escaped as prose unless it is Markdown already or a number. Renderers build every line so, and
`Rendered` accepts only Markdown lines, so a line made with an f-string fails loudly instead of carrying
captured text into the report unescaped. Large blocks pay only for the fence check; no per-event work escapes.
"""

import functools
import html
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson

from probe.common.errors import inert_lines

# CommonMark ends a line at \n, \r or \r\n; the others break lines in editors and in Python's splitlines.
LINE_BREAKS = re.compile(r"\r\n?|[\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
PROSE_SPECIAL = re.compile(r"[\\`*~\[\]|<>&@{]|_+|:(?=\S)|(?<=/)/|" + LINE_BREAKS.pattern)
PROSE_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# What starts a heading, a list item, a setext underline or a rule at the start of a line (`*`, `_`, `>`, `` ` ``
# and `~` are escaped everywhere already).
BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}|[-+]|\d{1,9}[.)])(?=[ \t]|$)|[ \t]*[-=][-= \t]*$")

# In code, where no escape works: `<` that could open markup, and `&#` that could start a character reference,
# get a zero-width space after them.
MARKUP_OPEN = re.compile(r"<(?=[A-Za-z/!?])|&(?=#)")
ZERO_WIDTH_SPACE = "\u200b"

# Applied to captured text before it is escaped: the report's secret masking, or nothing.
CAPTURE_MASK: ContextVar[Callable[[str], str]] = ContextVar("capture_mask", default=str)

TREE_INDENT = "\u00a0\u00a0"  # two no-break spaces a level of a tree: a table cell keeps them, so it shows its depth


@contextmanager
def masked_by(mask: Callable[[str], str]) -> Iterator[None]:
    """Within this block, every captured text these helpers receive is masked by `mask` first."""
    token = CAPTURE_MASK.set(mask)
    try:
        yield
    finally:
        CAPTURE_MASK.reset(token)


def remembered(mask: Callable[[str], str]) -> Callable[[str], str]:
    """`mask`, keeping its answers for short texts: a report passes the same names, types and values thousands of
    times, and each pass would run every masking rule again."""
    cached = functools.lru_cache(maxsize=1 << 16)(mask)
    return lambda text: cached(text) if len(text) <= 256 else mask(text)


class Markdown(str):
    """Text that is Markdown already (built by this module, or a literal in code): never escaped again."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> "Markdown":
        """This template with each argument escaped as prose, unless it is Markdown or a number."""
        return Markdown(
            str.format(self, *map(field_value, args), **{name: field_value(value) for name, value in kwargs.items()})
        )

    def join(self, pieces) -> "Markdown":
        """The pieces joined by this separator, each escaped as prose unless it is Markdown or a number."""
        return Markdown(str.join(self, (number_or_markdown(piece) for piece in pieces)))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def field_value(value: Any) -> Any:
    """What a template placeholder receives: numbers stay numbers, so that `{:,}` still works."""
    if isinstance(value, Markdown) or is_number(value):
        return value
    return text(value if isinstance(value, str) else str(value))


def number_or_markdown(value: Any) -> Markdown:
    return Markdown(value) if is_number(value) else field_value(value)


def one_line(text: str) -> str:
    return LINE_BREAKS.sub(" ", text) if LINE_BREAKS.search(text) else text


def escape_prose(match: re.Match) -> str:
    found = match.group()
    if found[0] == "_":
        # Underscores between letters or digits can neither open nor close emphasis: left as they are, so
        # `output_text` stays readable and a token such as `sk-ab_cd…` stays whole for the masking.
        before = match.string[match.start() - 1 : match.start()]
        after = match.string[match.end() : match.end() + 1]
        return found if before.isalnum() and after.isalnum() else "\\_" * len(found)
    if found in PROSE_ENTITIES:
        return PROSE_ENTITIES[found]
    if LINE_BREAKS.fullmatch(found):
        return " "
    return "\\" + found


def captured(value: str) -> str:
    """Captured text as every helper takes it in: masked, and with every character a terminal or a text display would
    obey shown as its escape, line breaks and tabs aside (probe.common.errors). Among them are STX and ETX, which
    Python-Markdown uses to mark its own placeholders: one in captured text would pair with them and turn what follows
    back into Markdown (a code span's text became an image)."""
    return inert_lines(CAPTURE_MASK.get()(value))


# Captured texts this long or shorter are written as prose once for each mask: a report passes the same names, types,
# roles and values again and again (1,200 exchanges of a growing session: 78,000 texts, 2,817 of them distinct).
SHORT_TEXT = 256


def text(value: str) -> Markdown:
    """Captured text as inert prose on one line (see the module docstring for what is escaped, and why)."""
    if len(value) <= SHORT_TEXT:
        return short_prose(CAPTURE_MASK.get(), value)
    return prose(value)


@functools.lru_cache(maxsize=1 << 16)
def short_prose(mask: Callable[[str], str], value: str) -> Markdown:
    """prose(value), kept by the mask it was written under (the one set for the report being written)."""
    return prose(value)


def prose(value: str) -> Markdown:
    value = captured(value)
    escaped = PROSE_SPECIAL.sub(escape_prose, value) if PROSE_SPECIAL.search(value) else value
    start = BLOCK_START.match(escaped)
    if start:
        first = len(escaped) - len(escaped.lstrip(" \t"))
        marker = first + len(re.match(r"\d*", escaped[first:]).group())  # the #, -, +, = or the . after digits
        escaped = escaped[:marker] + "\\" + escaped[marker:]
    return Markdown(escaped)


def strong(value: str) -> Markdown:
    """Captured text in bold; `(blank)` when there is nothing to show."""
    value = value.strip()  # "** x**" would not be bold
    return Markdown("**{}**").format(value) if value else Markdown("(blank)")


def no_markup(value: str) -> str:
    """Code text that no HTML parser can read as markup, looking the same (see the module docstring)."""
    return MARKUP_OPEN.sub(after_markup_opener, value) if "<" in value or "&#" in value else value


def after_markup_opener(match: re.Match) -> str:
    return match.group() + ZERO_WIDTH_SPACE


def inline(value: str) -> Markdown:
    """A code span on one line, delimited by more backticks than any run inside the text."""
    value = no_markup(one_line(captured(value)))
    if not value:
        return Markdown("` `")
    fence = "`"
    if "`" in value:
        fence = "`" * (max(len(run) for run in re.findall(r"`+", value)) + 1)
    # A space on each side is stripped by the renderer: needed beside a backtick, and kept when the text
    # itself starts and ends with a space.
    pad = value[0] == "`" or value[-1] == "`" or (value[0] == " " and value[-1] == " " and value.strip(" "))
    padding = " " if pad else ""
    return Markdown(f"{fence}{padding}{value}{padding}{fence}")


def code(value: str, language: str = "") -> Markdown:
    """A fenced block whose fence is longer than any run of backticks inside the text."""
    value = no_markup(captured(value))
    longest = max((len(run) for run in re.findall(r"```+", value)), default=0) if "```" in value else 0
    fence = "`" * max(3, longest + 1)
    return Markdown(f"{fence}{language}\n{value}\n{fence}")


# Built once: json.dumps with options makes a new encoder per call, which shows at thousands of calls.
PRETTY = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), default=str)


def json_block(value: Any) -> Markdown:
    return code(pretty_json(value), "json")


def pretty_json(value: Any) -> str:
    """JSON indented by two spaces, as json.dumps(indent=2) writes it, by orjson wherever it writes the same values
    (the standard library's indenting encoder is pure Python: a report's blocks took a quarter of its time)."""
    if isinstance(value, (dict, list)):
        try:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except (orjson.JSONEncodeError, TypeError):
            pass  # what orjson refuses (an integer past 64 bits, a lone surrogate): the standard library writes it
        else:
            # orjson writes NaN and Infinity (which the standard library keeps) as null. (A float in exponent form
            # comes out as `1e16` where json.dumps writes `1e+16`: the same number.)
            if "null" not in text:
                return text
            flat = COMPACT.encode(value)  # (the C encoder: fast)
            if "NaN" not in flat and "Infinity" not in flat:
                return text
    return PRETTY.encode(value)


LINK_CLOSE = re.compile(r"\](?=[(\[:])")


def details(summary: str, *body: Markdown) -> Markdown:
    """A collapsed section. The summary is plain text (ours and captured alike), HTML-escaped on one line; the
    section ends with a blank line, so no line after it can be taken into its HTML block."""
    inner = "\n\n".join(part for part in body if part)
    summary = one_line(captured(summary))
    # Should a previewer ever read the summary as Markdown, no link can form: a `]` that would close a link's
    # text or start a reference (`](`, `][`, `]:`) becomes an entity.
    summary = LINK_CLOSE.sub("&#93;", html.escape(summary, quote=False))
    return Markdown(f"<details><summary>{summary}</summary>\n\n{inner}\n\n</details>\n")


def cell(value: Any) -> str:
    """One table cell: Markdown as given, a number as written, text as prose, anything else as compact JSON in
    a code span (values that read better as code are passed as `inline(...)`); pipes escaped."""
    if is_number(value):
        return str(value)
    if isinstance(value, str) and not isinstance(value, Markdown):
        return text(value)  # which escapes pipes itself
    shown = one_line(value) if isinstance(value, Markdown) else inline(COMPACT.encode(value))
    # Tables split rows at pipes before anything else, even inside code spans: `\|` keeps one in its cell.
    return shown.replace("|", "\\|")


def table(headers: list[str], rows: list[list[Any]]) -> Markdown:
    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return Markdown("\n".join(lines))


@dataclass
class Rendered:
    """What a renderer returns for one request or response."""

    lines: list[Markdown] = field(default_factory=list)  # blank lines may be plain ""
    # The counts of its usage table, by the renderer's kinds (input, output…); None where the API sent none.
    tokens: dict[str, int | None] = field(default_factory=dict)
    unrecognised: set[str] = field(default_factory=set)  # kinds of items or events the renderer does not know
    # The part of a request worth counting in the structure tables (history already shown is left out);
    # None means the whole body.
    payload: Any = None

    def __post_init__(self) -> None:
        only_markdown(self.lines)

    def add(self, *lines: Markdown) -> None:
        only_markdown(lines)
        self.lines.extend(lines)


def only_markdown(lines) -> None:
    for line in lines:
        if line != "" and not isinstance(line, Markdown):
            raise TypeError("a rendered line must be Markdown built by probe.common.markdown, never a plain string")


def tally(counts: dict[str, int]) -> Markdown:
    """Counted kinds (event types, say) as `kind ×count, …`."""
    return Markdown(", ").join(Markdown("{} ×{}").format(kind, count) for kind, count in counts.items())


def first_line(value: str, limit: int = 80) -> str:
    # Found without splitting the whole text: system prompts run to tens of kilobytes.
    stripped = value.lstrip()
    end = stripped.find("\n")
    line = (stripped if end < 0 else stripped[:end]).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def compact(value: Any) -> str:
    return COMPACT.encode(value)
