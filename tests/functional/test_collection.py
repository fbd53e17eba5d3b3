"""Every test file is collected: no folder hides behind a tool's default ignore list.

pytest's default ``norecursedirs`` skips ``build``, ``dist``, ``venv``, ``*.egg``
and dot-folders silently; a test folder with such a name once hid 82 tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# pytest's default norecursedirs, plus what setuptools, ruff and mypy skip by default.
IGNORED_NAMES = {
    "build",
    "dist",
    "venv",
    "node_modules",
    "CVS",
    "_darcs",
    "{arch}",
    "site-packages",
    "_build",
}


def collected(*extra: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra, "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    match = re.search(r"(\d+) tests? collected", done.stdout)
    assert match, done.stdout[-2000:]
    return int(match.group(1))


def test_no_folder_is_named_after_a_default_ignore_list() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for top in ("src", "tests", "tools", "bench")
        for path in (ROOT / top).rglob("*")
        if path.is_dir()
        and "__pycache__" not in path.parts
        and (path.name in IGNORED_NAMES or path.name.endswith(".egg") or path.name.startswith("."))
        and not path.name.endswith(".egg-info")
    ]
    assert offenders == []


def test_collection_is_the_same_with_the_default_ignore_list_emptied() -> None:
    assert collected() == collected("-o", "norecursedirs=")
