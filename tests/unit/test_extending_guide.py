"""docs/extending.md shows the repository's real code, so following it builds what the tests test.

Two kinds of marked code blocks:

- ``<!-- include: path -->`` or ``<!-- include: path::Name -->`` before a block: the block is the
  whole file, or the top-level class, function or assignment `Name` in it, to the character.
- ``<!-- excerpt: path -->`` before a block: every line of the block is a line of the file (for
  one or two lines out of a long file, like a page registration).

After changing an included file, rewrite the guide's blocks with
``.venv/bin/python -m tests.unit.test_extending_guide``; then read the prose around them again.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "extending.md"
MARKED_BLOCK = re.compile(r"<!-- (include|excerpt): ([^ ]+) -->\n```[a-z]*\n(.*?)```", re.S)
MAX_DECLARATION_LINES = 15


def source_of(reference: str) -> str:
    """The text an include names: a file, or one top-level definition in it."""
    path, _, name = reference.partition("::")
    text = (ROOT / path).read_text()
    if not name:
        return text
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        names = ([node.name] if isinstance(node, ast.ClassDef | ast.FunctionDef) else
                 [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)])
        if name in names:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            return "".join(lines[first - 1:node.end_lineno])
    raise LookupError(f"{name} is not defined at the top level of {path}")


def blocks() -> list[tuple[str, str, str]]:
    return [(kind, reference, body) for kind, reference, body in
            MARKED_BLOCK.findall(GUIDE.read_text())]


def test_the_guide_includes_the_repositorys_code_as_it_is():
    included = [(reference, body) for kind, reference, body in blocks() if kind == "include"]
    assert len(included) >= 8
    stale = [reference for reference, body in included if body != source_of(reference)]
    assert stale == [], ("the guide's copy differs from the file: run "
                         "`.venv/bin/python -m tests.unit.test_extending_guide`")


def test_every_excerpt_line_is_in_its_file():
    for kind, reference, body in blocks():
        if kind == "excerpt":
            lines = set((ROOT / reference).read_text().splitlines())
            missing = [line for line in body.splitlines() if line.strip() and line not in lines]
            assert missing == [], f"{reference} no longer has: {missing}"


def test_the_study_group_page_is_declared_in_at_most_fifteen_lines():
    declaration = source_of("academy_app/admin/study_groups.py::study_groups")
    assert len(declaration.splitlines()) <= MAX_DECLARATION_LINES
    assert ("include", "academy_app/admin/study_groups.py::study_groups", declaration) in blocks()


@pytest.mark.parametrize("path", re.findall(r"`((?:academy_app|tests|bench|alembic)/[\w/.]+\.py)`",
                                            GUIDE.read_text()))
def test_every_file_the_guide_names_exists(path):
    assert (ROOT / path).is_file()


def rewrite() -> None:
    def fill(match: re.Match) -> str:
        kind, reference, _body = match.groups()
        if kind == "excerpt":
            return match.group(0)
        fence = match.group(0).split("\n", 2)[1]
        return f"<!-- include: {reference} -->\n{fence}\n{source_of(reference)}```"
    GUIDE.write_text(MARKED_BLOCK.sub(fill, GUIDE.read_text()))


if __name__ == "__main__":
    rewrite()
    sys.exit(0)
