"""The harness's side of ``bootstrap.py``: install it, start it, and tell it what to do.

A worker runs ``<python> -s <runtime folder>/bootstrap.py`` (not ``-m awslambdaric``), so
that ``AWS_LAMBDA_EXEC_WRAPPER`` and AWS's ``sys.path`` rules happen in the worker, as in
Lambda's own bootstrap. ``config`` is the JSON the bootstrap reads from ``_LAMBDA_HARNESS``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.runtime.bootstrap import CONFIG_VAR
from lambda_harness.endpoint.runtime.coverage import BOOT_MODULE
from lambda_harness.endpoint.runtime.env import Paths
from lambda_harness.errors import EndpointError

#: The bootstrap as shipped in this package; copied into each runtime folder.
SOURCE = Path(__file__).with_name("bootstrap.py")
NAME = "bootstrap.py"

_installed: set[Path] = set()
_lock = threading.Lock()

__all__ = ["CONFIG_VAR", "NAME", "command", "config", "install"]


def install(runtime_dir: Path) -> Path:
    """Make ``<runtime_dir>/bootstrap.py`` this package's bootstrap (atomically; once per process)."""
    target = runtime_dir / NAME
    with _lock:
        if runtime_dir in _installed:
            return target
        wanted = SOURCE.read_bytes()
        try:
            current = target.read_bytes()
        except OSError:
            current = None
        if current != wanted:
            # Write a sibling and rename it: a worker starting now reads the old file or the new one.
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{NAME}.", dir=runtime_dir)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(wanted)
                Path(tmp).replace(target)
            except OSError as exc:
                raise EndpointError(
                    f"{target}: cannot install lambda-harness's worker bootstrap ({exc.strerror}); "
                    f"make {runtime_dir} writable, or point cache-dir (LAMBDA_HARNESS_CACHE_DIR) elsewhere"
                ) from exc
        _installed.add(runtime_dir)
    return target


def command(paths: Paths) -> list[str | Path]:
    """The worker's argv: the function's interpreter running the bootstrap (``-s``: no user site).

    A measuring worker runs the copy in its coverage folder (``runtime/coverage.py``): that
    folder belongs to this version of the harness, the runtime folder to whichever ran last.
    """
    folder = paths.coverage_dir if paths.coverage_dir is not None else paths.runtime_dir
    return [paths.interpreter, "-s", folder / NAME]


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
        }
    if paths.coverage_dir is not None and paths.coverage_spec is not None:
        data["coverage"] = {
            "dir": str(paths.coverage_dir),
            "module": BOOT_MODULE,
            "spec": str(paths.coverage_spec),
        }
    return json.dumps(data, separators=(",", ":"))
