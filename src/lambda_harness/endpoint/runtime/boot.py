"""The harness's side of ``bootstrap.py``: install it, start it, and tell it what to do.

A worker runs ``<python> -s <runtime folder>/bootstrap-<hash>.py`` (not ``-m awslambdaric``),
so that ``AWS_LAMBDA_EXEC_WRAPPER`` and AWS's ``sys.path`` rules happen in the worker, as in
Lambda's own bootstrap. ``config`` is the JSON the bootstrap reads from ``_LAMBDA_HARNESS``.

The runtime folders live in a cache shared by every checkout and version of the harness, so
each version's bootstrap gets its own name (its content's hash) and is never rewritten: a
``bootstrap.py`` there belongs to whichever version wrote it last. With AWS's layout the
worker's own copy is bind-mounted at ``/var/runtime/bootstrap.py`` (what a wrapper is given).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.runtime.bootstrap import CONFIG_VAR
from lambda_harness.endpoint.runtime.coverage import BOOT_MODULE
from lambda_harness.endpoint.runtime.env import Paths
from lambda_harness.errors import EndpointError
from lambda_harness.fsutil import atomic_file

#: The bootstrap as shipped in this package; copied into each runtime folder.
SOURCE = Path(__file__).with_name("bootstrap.py")
#: AWS's name for it (``/var/runtime/bootstrap.py``); a coverage folder's copy has this name too.
NAME = "bootstrap.py"


@functools.cache
def versioned_name() -> str:
    """``bootstrap-<hash>.py``: this version's bootstrap in a shared runtime folder."""
    return f"bootstrap-{hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]}.py"


_installed: set[Path] = set()
_lock = threading.Lock()

__all__ = ["CONFIG_VAR", "NAME", "command", "config", "install", "versioned_name"]


def install(runtime_dir: Path) -> Path:
    """Put this version's ``bootstrap-<hash>.py`` in ``runtime_dir`` (once per process) and return it.

    A ``bootstrap.py`` is written only when there is none: it is the mount point for the
    worker's own copy under AWS's layout, and another harness version may own it.
    """
    target = runtime_dir / versioned_name()
    with _lock:
        if runtime_dir in _installed:
            return target
        wanted = SOURCE.read_bytes()
        for path in (target, runtime_dir / NAME):
            if path.is_file() and (path.name == NAME or path.read_bytes() == wanted):
                continue
            _write_atomically(path, wanted)
        _installed.add(runtime_dir)
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    # A sibling renamed into place: a worker starting now reads the old file or the new one.
    try:
        with atomic_file(target) as tmp:  # 0600, as mkstemp made it before
            tmp.write_bytes(data)
    except OSError as exc:
        raise EndpointError(
            f"{target}: cannot install lambda-harness's worker bootstrap ({exc.strerror}); "
            f"make {target.parent} writable, or point cache-dir (LAMBDA_HARNESS_CACHE_DIR) elsewhere"
        ) from exc


def command(paths: Paths) -> list[str | Path]:
    """The worker's argv: the function's interpreter running the bootstrap (``-s``: no user site).

    A measuring worker runs the copy in its coverage folder (``runtime/coverage.py``): that
    folder belongs to this version of the harness, the runtime folder to whichever ran last.
    """
    if paths.coverage_dir is not None:
        return [paths.interpreter, "-s", paths.coverage_dir / NAME]
    return [paths.interpreter, "-s", paths.runtime_dir / versioned_name()]


def config(paths: Paths, pythonpath: str | None, tmp_mb: int) -> str:
    """The ``_LAMBDA_HARNESS`` JSON: what the bootstrap needs that the function must not see.

    ``python``/``opt``: the interpreter and ``/opt`` as the function names them (the
    wrapper's first argument, the ``/opt/python`` entries); ``runtime``: the runtime
    folder's real path; ``pythonpath``: the function's own ``PYTHONPATH`` (None when it
    set none); ``translate``: AWS paths -> real paths, for a wrapper named by its AWS path
    (host view); ``sandbox``: the real folders to lay out as AWS's, and ``/tmp``'s size in
    MB (aws view); ``coverage``: the coverage folder, its boot module and what to measure
    (``runtime/coverage.py``), when the environment measures coverage.
    """
    seen = paths.seen
    data: dict[str, Any] = {
        "python": str(seen.python),
        "runtime": str(paths.runtime_dir),
        "opt": str(seen.opt) if seen.opt is not None else None,
        "pythonpath": pythonpath or None,
        "translate": paths.translation(),
    }
    if paths.view == "aws":
        data["sandbox"] = {
            "task": str(paths.task_root),
            "runtime": str(paths.runtime_dir),
            "lang": str(paths.lang),
            "opt": str(paths.opt_dir) if paths.opt_dir is not None else None,
            "tmp_mb": tmp_mb,
            # This version's copy, bound over /var/runtime/bootstrap.py (the runtime folder's own
            # may be another version's): the wrapper gets AWS's path and this file behind it.
            "bootstrap": str(paths.runtime_dir / versioned_name()),
        }
    if paths.coverage_dir is not None and paths.coverage_spec is not None:
        data["coverage"] = {
            "dir": str(paths.coverage_dir),
            "module": BOOT_MODULE,
            "spec": str(paths.coverage_spec),
        }
    return json.dumps(data, separators=(",", ":"))
