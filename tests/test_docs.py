"""The README and docs/ stay short and true: every relative link and heading anchor resolves (as GitHub renders
them), and every module and test they name exists."""
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks: a '# comment' in a shell example is not a heading."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lowercased, punctuation dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "").lower()
    kept = (c for c in text if c.isalnum() or c in " -_" or unicodedata.category(c).startswith("M"))
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor a page's headings give, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    """Targets of the page's Markdown links and images, outside code."""
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        targets += LINK.findall(INLINE_CODE.sub("", line))
    return targets


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check offline
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            problems.append(f"{target}: no file {destination}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{target}: no heading with anchor #{anchor} in {destination.name}")
    return problems


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Cells in parallel (`--jobs`)", "cells-in-parallel---jobs"),
    ("Remedies: what works instead, verified", "remedies-what-works-instead-verified"),
    ("The reference suite (`models/`)", "the-reference-suite-models"),
    ("2026-11-30: results size, matrix.json and the page", "2026-11-30-results-size-matrixjson-and-the-page"),
    ("Test the environment you already have (and add a GPU row)",
     "test-the-environment-you-already-have-and-add-a-gpu-row"),
    ("S5. `fail: RuntimeError`", "s5-fail-runtimeerror"),
    ("Ünïcode ✅ and_underscores", "ünïcode--and_underscores"),
])
def test_anchors_follow_githubs_rules(heading, anchor):
    assert slug(heading) == anchor


def test_repeated_headings_get_numbered_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Notes\n\n```\n# not a heading\n```\n\n## Notes\n\n### Notes\n", encoding="utf-8")
    assert anchors(page) == {"notes", "notes-1", "notes-2"}


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Present\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#present) [gone](missing.md) [bad](other.md#absent) `[code](missing.md)`\n",
                    encoding="utf-8")
    problems = broken_links(page)
    assert len(problems) == 2
    assert problems[0].startswith("missing.md: no file")
    assert problems[1].startswith("other.md#absent: no heading")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_the_readme_links_to_every_docs_page_through_the_index():
    index = ROOT / "docs" / "index.md"
    assert "docs/index.md" in links(README)
    listed = {target.partition("#")[0] for target in links(index)}
    pages = {page.name for page in (ROOT / "docs").glob("*.md") if page != index}
    assert pages - listed == set()


def test_the_readme_stays_under_8_kb():
    assert len(README.read_bytes()) <= 8 * 1024


def test_the_readme_and_ci_show_the_same_set_up():
    readme = README.read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("pip install nox uv", "nox -s tests", "nox -s matrix"):
        assert command in readme
    assert "pip install --upgrade nox uv" in ci
    assert re.search(r"^nox -s tests$", ci, re.MULTILINE)


CODE_PATH = re.compile(r"(?<![\w/.])((?:harness|tests|models)/[\w/]+\.py)\b")
TEST_NAME = re.compile(r"(?<![\w/])(test_\w+\.py)::(test_\w+)")


def stale_names(text: str) -> list[str]:
    """The modules (harness/, tests/, models/) and tests (test_x.py::test_y) a text names that do not exist."""
    missing = [path for path in CODE_PATH.findall(text) if not (ROOT / path).exists()]
    for module, name in TEST_NAME.findall(text):
        source = ROOT / "tests" / module
        if not source.exists() or not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.MULTILINE):
            missing.append(f"{module}::{name}")
    return missing


def test_a_stale_module_or_test_name_is_found():
    text = ("`harness/cell/worker.py`, `harness/cell/gone.py`, `test_docs.py::test_a_broken_link_or_anchor_is_found`,"
            " `test_docs.py::test_gone`, `test_gone.py::test_x`")
    assert stale_names(text) == ["harness/cell/gone.py", "test_docs.py::test_gone", "test_gone.py::test_x"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_code_and_tests_the_docs_name_exist(page):
    """A renamed module or test leaves no stale name in the docs (the fault table names its tests)."""
    assert stale_names(page.read_text(encoding="utf-8")) == []
