"""lambda-harness's worker bootstrap: what AWS's ``/var/runtime/bootstrap`` does, then awslambdaric.

This file is copied into every runtime folder (Lambda's ``/var/runtime``) and started by
the worker as ``<python> -s <runtime>/bootstrap.py``. It runs under the *function's*
interpreter (CPython 3.9 and up), so it uses the standard library only. In order:

1. ``AWS_LAMBDA_EXEC_WRAPPER``, as AWS's bash bootstrap: a missing wrapper prints
   ``<wrapper>: does not exist`` and exits 127, one that is not executable prints
   ``<wrapper>: is not an executable`` and exits 126; otherwise the wrapper is exec'd with
   AWS's two arguments, ``<python> <runtime>/bootstrap.py``, and this file runs again
   under it (``"wrapped"`` in the config says so).
2. AWS's ``sys.path`` and ``PYTHONPATH`` rules (its runtime's ``bootstrap.py``): the task
   root first, ``/opt/python/lib/pythonX.Y/site-packages`` and ``/opt/python`` next unless
   the function set its own ``PYTHONPATH``, ``.pth`` files of the task root processed, and
   ``PYTHONPATH`` left as ``/var/runtime`` (or the function's own value).
3. ``awslambdaric``'s main loop, with ``_HANDLER``.

Its inputs come in one private variable, ``_LAMBDA_HARNESS`` (JSON, see ``boot.config``),
removed from ``os.environ`` before the handler's module is imported, the way awslambdaric
removes ``_LAMBDA_TELEMETRY_LOG_FD``.
"""

from __future__ import annotations

import json
import os
import site
import sys
from typing import Any

CONFIG_VAR = "_LAMBDA_HARNESS"


def translate(path: str, mapping: dict[str, str]) -> str:
    """A path as the function names it (``/opt/wrapper``) -> where it is on this machine.

    ``mapping`` is empty when the function sees AWS's layout itself (the mount namespace).
    """
    for seen, real in mapping.items():
        if path == seen or path.startswith(seen.rstrip("/") + "/"):
            return real + path[len(seen.rstrip("/")) :]
    return path


def exec_wrapper(cfg: dict[str, Any]) -> None:
    """Run ``AWS_LAMBDA_EXEC_WRAPPER`` like AWS's bootstrap (returns only when there is none)."""
    wrapper = os.environ.get("AWS_LAMBDA_EXEC_WRAPPER")
    if not wrapper or cfg.get("wrapped"):
        return
    path = translate(wrapper, cfg.get("translate") or {})
    if not os.path.isfile(path):
        print(f"{wrapper}: does not exist", flush=True)
        os._exit(127)
    if not os.access(path, os.X_OK):
        print(f"{wrapper}: is not an executable", flush=True)
        os._exit(126)
    os.environ[CONFIG_VAR] = json.dumps(dict(cfg, wrapped=True))
    # The wrapper starts the second interpreter without -s: the runtime folder stays on
    # PYTHONPATH so its sitecustomize hides the host's site-packages there too.
    runtime = os.environ["LAMBDA_RUNTIME_DIR"]
    os.environ["PYTHONPATH"] = ":".join(p for p in (cfg.get("pythonpath"), runtime) if p)
    try:
        os.execv(path, [path, cfg["python"], f"{runtime}/bootstrap.py"])
    except OSError as exc:  # e.g. a script without a #! line: bash's exec fails the same way
        print(f"{wrapper}: cannot execute: {exc.strerror}", flush=True)
        os._exit(126)


def lambda_sys_path(
    path: list[str], *, task: str, runtime: str, real: set[str], opt: str | None, user: str | None
) -> list[str]:
    """``sys.path`` as AWS's python bootstrap leaves it.

    The task root first, then (unless the function set its own PYTHONPATH) ``/opt``'s two
    python folders; the runtime folder's real paths (``real``) are named as the function
    sees the runtime folder.
    """
    front = [task]
    if not user and opt:
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        front += [f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]
    return front + [runtime if p in real else p for p in path]


def aws_sys_path(cfg: dict[str, Any]) -> None:
    """Put ``sys.path`` and ``PYTHONPATH`` in the order AWS's python bootstrap leaves them."""
    task, runtime = os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DIR"]
    user = cfg.get("pythonpath")
    # The runtime folder may appear under its real path (this script's folder, PYTHONPATH).
    real = {os.path.dirname(os.path.abspath(__file__)), cfg.get("runtime") or runtime}
    user_site = site.getusersitepackages()  # Lambda has none (what -s does; a wrapper may omit it)
    path = [p for p in sys.path if p != user_site]
    sys.path[:] = lambda_sys_path(path, task=task, runtime=runtime, real=real, opt=cfg.get("opt"), user=user)
    site.addsitedir(task)  # AWS processes the task root's .pth files
    os.environ["PYTHONPATH"] = user or runtime


def main() -> None:
    cfg: dict[str, Any] = json.loads(os.environ.get(CONFIG_VAR) or "{}")
    exec_wrapper(cfg)
    os.environ.pop(CONFIG_VAR, None)
    aws_sys_path(cfg)
    import importlib

    ric = importlib.import_module("awslambdaric.__main__")
    ric.main([os.environ["LAMBDA_TASK_ROOT"], os.environ["_HANDLER"]])


if __name__ == "__main__":
    main()
