"""The README a newcomer opens: what the tool is, one picture, the two commands, then the questions it answers, each
with a command that exists as shown and a link that leads somewhere. Every relative link of the README and the docs
resolves, to a file and to a heading of it."""

import itertools
import re
import shlex
from pathlib import Path

from conftest import PROJECT_ROOT
from markdown_it import MarkdownIt

from probe.program import ns

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
MOST_LINES_BEFORE_THE_QUESTIONS = 30  # the title, what it is, the picture and the quick start
LARGEST_PICTURE = 200_000  # bytes: every clone carries it
PARSER = MarkdownIt("commonmark").enable("table")


def tokens_of(page: Path) -> list:
    """The page's tokens, the inline ones' children after their parent, in reading order."""
    flat = []
    for token in PARSER.parse(page.read_text()):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    tokens = PARSER.parse(page.read_text())
    found, seen = set(), {}
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            text = "".join(child.content for child in inline.children if child.type in ("text", "code_inline"))
            slug = anchor(text)
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")  # GitHub numbers a repeated heading
            seen[slug] = seen.get(slug, 0) + 1
    return found


def targets(page: Path) -> list[str]:
    """Where the page's links and images point."""
    tokens = tokens_of(page)
    return [token.attrs["href"] for token in tokens if token.type == "link_open"] + [
        token.attrs["src"] for token in tokens if token.type == "image"
    ]


def broken_links(page: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """The page's links that lead to no file under `root`, or to no heading of the page they name."""
    broken = []
    for target in targets(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not this checkout's to check
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(root) or not file.exists():
            broken.append(f"{page.name}: {target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{page.name}: {target}: no such heading in {file.name}")
    return broken


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    assert [problem for page in PAGES for problem in broken_links(page)] == []


def test_a_link_to_a_missing_heading_or_file_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## Going on with a session: `--resume RUN`\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#going-on-with-a-session---resume-run) [gone](other.md#going-on) [none](missing.md)\n"
        "[self](#a-title) ![picture](other.md)\n\n# A title\n"
    )
    broken = [line.split(": ", 1)[1] for line in broken_links(page, tmp_path)]
    assert broken == ["other.md#going-on: no such heading in other.md", "missing.md: no such file"]


def questions() -> list[list[str]]:
    """The rows of the README's table under `## What it answers`, cell by cell, as Markdown."""
    section = README.read_text().split("\n## What it answers\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def test_the_readme_says_what_it_is_shows_a_picture_and_two_commands_then_the_questions():
    text = README.read_text()
    opening = text.split("\n## What it answers\n", 1)[0]
    assert len(opening.splitlines()) <= MOST_LINES_BEFORE_THE_QUESTIONS
    assert "|" not in opening  # no table before the questions
    [picture] = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", opening)
    assert (PROJECT_ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (PROJECT_ROOT / picture).stat().st_size < LARGEST_PICTURE
    [commands] = re.findall(r"\n```\n(.*?)\n```\n", opening, re.S)
    assert commands.splitlines() == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"',
        'invoke pipeline --target claude-code --upstream mock --prompt "spawn a sub-agent to list the files"',
    ]
    rows = questions()
    assert len(rows) >= 10
    for question, command, explained in rows:
        assert question.endswith("?"), question
        assert re.fullmatch(r"`(invoke|agent-probe) [^`]+`", command), question
        assert re.search(r"\]\(docs/[\w-]+\.md(#[\w-]+)?\)", explained), question
    # CI runs the README's test command (.ci/run): it stays in the README, as a user types it.
    assert '\n```\npython3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" && nox\n```\n' in text


def commands(page: Path) -> list[str]:
    """Every `invoke …` and `agent-probe …` command the page shows, in code spans and code blocks alike."""
    code = [token.content for token in tokens_of(page) if token.type in ("code_inline", "fence", "code_block")]
    shown = []
    for block in code:
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.split("  #", 1)[0].strip()
                if part.startswith(("invoke ", "agent-probe ")):
                    shown.append(part)
    return shown


def wrong_options(command: str) -> list[str]:
    """What in a command its task does not take: an unknown task or option, or a positional argument too many."""
    words = shlex.split(command)[1:]
    if not words or words[0].startswith("-"):  # invoke's own options (--list, --help TASK)
        return []
    name, words = words[0], words[1:]
    if name not in ns.task_names:
        return [f"{command}: no task {name}"]
    task = ns[name]
    arguments = {alias: argument for argument in task.get_arguments() for alias in argument.names}
    wrong, positional, words = [], 0, iter(words)
    for word in words:
        if word == "--":  # the rest goes to the agent
            break
        if word in ("--help", "-h"):  # invoke's own: the task's help
            continue
        if word.startswith("-"):
            option, equals, _ = word.lstrip("-").partition("=")
            if option not in arguments:
                wrong.append(f"{command}: {name} has no option {word}")
            elif arguments[option].kind is not bool and not equals:
                next(words, None)  # its value
        else:
            positional += 1
    if positional > len(task.positional):
        wrong.append(f"{command}: {name} takes {len(task.positional)} positional arguments, not {positional}")
    return wrong


def test_every_command_the_readme_shows_is_a_task_with_those_options():
    shown = commands(README)
    assert len(shown) >= 15
    assert [problem for command in shown for problem in wrong_options(command)] == []


def test_a_command_with_an_option_its_task_lacks_is_found():
    assert wrong_options('invoke sql "select 1" --format csv') == []
    assert wrong_options("invoke pipeline -t codex -p hi -- --model m") == []
    assert wrong_options("agent-probe pipeline --help") == []
    assert wrong_options("invoke export --no-such-option --format har") == [
        "invoke export --no-such-option --format har: export has no option --no-such-option"
    ]
    assert wrong_options("invoke targets codex") == [
        "invoke targets codex: targets takes 0 positional arguments, not 1"
    ]
    assert wrong_options("invoke nothing") == ["invoke nothing: no task nothing"]
