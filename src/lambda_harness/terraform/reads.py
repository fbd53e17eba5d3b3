"""The repo files a Terraform configuration may read while it plans, beyond its own ``.tf``.

``for_each = { for d in fileset(local.src, "*/main.py") : dirname(d) => jsondecode(file(...)) }``,
``templatefile(...)``, ``yamldecode(file(...))``, ``data "archive_file"`` over a ``source_dir``:
a plan then depends on files no ``.tf`` names literally, and on which files exist. Whatever
is keyed by the configuration (the discovery plan's cache) must also change with those.

The rule (``uses_files`` then ``repo_files``): when any ``.tf`` of the module tree calls a
file-reading function (``file``, ``fileset``, ``fileexists``, ``filebase64``, ``templatefile``;
not the hash functions, see ``_READS``) or declares a ``data "archive_file"``, or a module
comes from outside the repo (its code is not read here), every file under the project counts:
its relative path, and the sha256 of its content, except

* Python source (``*.py``, ``*.pyc``): its path only. A handler edit then keeps the plan (the
  warm loop's hot path) while a new ``main.py`` (what ``fileset`` finds) does not;
* files over ``CONTENT_LIMIT`` bytes: path, size and modification time;
* what is never a Terraform input: hidden folders (``.git``, ``.harness``, ``.venv``,
  ``.terraform``, ``.nox``, ...), ``venv``, ``node_modules``, ``__pycache__``, the harness's
  cache and event-case folders, the zips and manifests builds write (``*.zip``,
  ``*.zip.json``), Terraform state and plans.

Files Terraform reads from outside the project are not seen. Listing 300 files (100 function
folders) takes 2-15 ms, 740 files 17-28 ms, on a loaded 2-core machine.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from lambda_harness.settings import Settings
from lambda_harness.terraform.hcl import config_files
from lambda_harness.terraform.sources import ModuleSource, is_local_source, module_tree, shown

#: A call to a function whose result is (or depends on) what files exist or hold, or an archive
#: built from a folder. Not the hash functions (``filemd5``, ``filesha256``, ``filebase64sha256``,
#: ...): what they hash is a zip (never listed) or a value the discovery override nulls, and a
#: hash changes no function, handler or file name the build reads from the plan.
_READS = re.compile(
    r"\b(?P<fn>file|fileset|fileexists|filebase64|templatefile)\s*\("
    r'|(?P<archive>\bdata\s+"archive_file"|"archive_file"\s*:)'
)
#: Bigger files count by size and modification time, not content (a dataset, a vendored binary).
CONTENT_LIMIT = 1 << 20
_PATH_ONLY = (".py", ".pyc")
_SKIP_DIRS = frozenset({"venv", "node_modules", "__pycache__"})
_SKIP_SUFFIXES = (".zip", ".zip.json", ".lambda-harness-new", ".tfstate", ".tfstate.backup", ".tfplan")


def read_files(settings: Settings) -> dict[str, str]:
    """The project's files the configuration may read (``repo_files``), or none when no ``.tf``
    of the root module, its local modules or the world reads files (``uses_files``)."""
    folders = module_tree(settings.terraform_dir)
    world = settings.world_dir
    if world is not None and world.is_dir():
        folders += module_tree(world)
    if uses_files(folders, settings.project_dir) is None:
        return {}
    skip = [settings.harness_dir, settings.cache_dir, settings.cases_dir]
    return repo_files(settings.project_dir, [*skip, *([settings.dist] if settings.dist else [])])


def uses_files(folders: Iterable[Path], project_dir: Path | None = None) -> str | None:
    """Why the configuration in ``folders`` may read repo files while planning (None: it does not)."""
    for folder in folders:
        for call in ModuleSource(folder).module_calls():
            source = str(call.body.get("source", ""))
            if not is_local_source(source):
                return f'module "{call.labels[0]}" comes from {source}'
        for path in config_files(folder):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found = _READS.search(text)
            if found:
                what = f"{found.group('fn')}()" if found.group("fn") else 'data "archive_file"'
                return f"{shown(path, project_dir)} uses {what}"
    return None


def repo_files(project_dir: Path, skip: Iterable[Path] = ()) -> dict[str, str]:
    """Relative path -> what stands for its content (see the module docstring), sorted by path.

    ``skip``: folders and files never listed (the harness's cache, the event cases, ``dist``).
    Strings, not ``Path``: on Python 3.11 pathlib's parsing made this 5x slower (measured).
    """
    top = os.path.normpath(project_dir)
    skipped = {os.path.normpath(p) for p in skip}
    cut = len(top) + 1
    found = {path[cut:].replace(os.sep, "/"): path for path in _walk(top, skipped)}
    return {rel: _stands_for(found[rel]) for rel in sorted(found)}


def _walk(top: str, skipped: set[str]) -> Iterator[str]:
    for folder, dirs, files in os.walk(top):
        dirs[:] = [
            d for d in dirs if not (d.startswith(".") or d in _SKIP_DIRS or f"{folder}{os.sep}{d}" in skipped)
        ]
        for name in files:
            path = f"{folder}{os.sep}{name}"
            if not name.endswith(_SKIP_SUFFIXES) and path not in skipped:
                yield path


def _stands_for(path: str) -> str:
    if path.endswith(_PATH_ONLY):
        return "python"
    try:
        st = os.stat(path)  # noqa: PTH116 - see repo_files
        if st.st_size > CONTENT_LIMIT:
            return f"size {st.st_size} mtime {st.st_mtime_ns}"
        with open(path, "rb") as fh:  # noqa: PTH123 - see repo_files
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:  # a dangling link, a file that vanished or is unreadable: still listed
        return "unreadable"
