"""The docs stay true offline: every relative link resolves, and the pages that copy code agree with it.

Sphinx (``nox -s docs``, warnings as errors) checks links between pages under docs/;
this test also covers README.md (outside the Sphinx tree) and runs without Sphinx or
the network: every relative link in README.md and docs/**/*.md must point to an
existing file, and a ``#fragment`` to a heading of that file.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)])

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code spans blanked."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = FENCE.match(line.lstrip())
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if line.lstrip().startswith(fence):
                fence = None
            continue
        out.append((number, CODE_SPAN.sub("``", line)))
    return out


def slugify(title: str) -> str:
    """A heading's anchor, as GitHub and MyST (``myst_heading_anchors``) make it."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link in a heading keeps its text
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower().replace(" ", "-"))


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (repeated titles get -1, -2, ... as on GitHub)."""
    found: set[str] = set()
    fence: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        opened = FENCE.match(line.lstrip())
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if line.lstrip().startswith(fence):
                fence = None
            continue
        match = HEADING.match(line)
        if match:
            slug = base = slugify(match.group(2))
            n = 0
            while slug in found:
                n += 1
                slug = f"{base}-{n}"
            found.add(slug)
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of one page (paths shown relative to ``root``)."""
    problems = []
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            target = match.group("target")
            if target.startswith(EXTERNAL):
                continue
            where = f"{page.relative_to(root)}:{number}: [{match.group('text')}]({target})"
            file_part, _, fragment = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                problems.append(f"{where}: {file_part} does not exist")
            elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                problems.append(f"{where}: no heading with anchor #{fragment} in {dest.relative_to(root)}")
            elif fragment and dest.suffix != ".md":
                problems.append(f"{where}: #{fragment} in a file that is not Markdown cannot be checked")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = broken_links(page)
    assert not problems, "\n".join(problems)


def test_the_link_check_catches_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading: yes\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-code-heading-yes) [gone](missing.md) [bad](other.md#nope) "
        "`[in code](missing.md)` [web](https://example.com/x)\n"
        "```\n[in a fence](missing.md)\n```\n",
        encoding="utf-8",
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 2, problems
    assert "missing.md does not exist" in problems[0]
    assert "#nope" in problems[1]


def test_docs_has_the_pages_the_readme_promises() -> None:
    readme_targets = {
        (ROOT / m.group("target").partition("#")[0]).resolve()
        for _, line in prose_lines((ROOT / "README.md").read_text(encoding="utf-8"))
        for m in LINK.finditer(line)
        if m.group("target").startswith("docs/")
    }
    pages = {p.resolve() for p in PAGES if p.parent != ROOT}
    unlinked = sorted(str(p.relative_to(ROOT)) for p in pages - readme_targets)
    assert not unlinked, f"README.md links no docs page for: {unlinked}"


# --- pages that copy something from the code ------------------------------------------------------


def _architecture_test() -> ModuleType:
    path = ROOT / "tests" / "unit" / "core" / "test_architecture.py"
    spec = importlib.util.spec_from_file_location("_architecture_for_docs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def documented_allowed_imports(text: str) -> dict[str, set[str]]:
    """The "may import" table of docs/explanation/architecture.md, with "core" spelled out."""
    arch = _architecture_test()
    table: dict[str, set[str]] = {}
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| module or subpackage | may import"))
    for row in lines[start + 2 :]:  # past the header and its |---| line
        if not row.startswith("|"):
            break
        left, right = (cell.strip() for cell in row.strip().strip("|").split("|"))
        if left.startswith("core"):
            names = set(re.findall(r"`([^`]+)`", left))
            assert names == arch.CORE, f"architecture.md lists core as {names}, the test as {arch.CORE}"
        else:
            names = set(re.findall(r"`([^`]+)`", left))
        allowed = set(re.findall(r"`([^`]+)`", right))
        if re.search(r"(^|, )core(,|$)", right):
            allowed |= arch.CORE
        for name in names:
            table[name] = allowed
    return table


def test_the_architecture_page_copies_the_enforced_table() -> None:
    arch = _architecture_test()
    text = (DOCS / "explanation" / "architecture.md").read_text(encoding="utf-8")
    assert documented_allowed_imports(text) == {k: set(v) for k, v in arch.ALLOWED.items()}


def test_the_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert "python3 -m venv .venv && .venv/bin/pip install nox uv && .venv/bin/nox -s integration" in readme
    assert ".venv/bin/nox" in readme
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert any("-m venv .venv" in line for line in ci)
    assert any(" install " in line and "nox" in line and "uv" in line for line in ci)
    assert ci[-1] == ".venv/bin/nox"
