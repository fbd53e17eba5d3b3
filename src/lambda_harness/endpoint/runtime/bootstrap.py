"""lambda-harness's worker bootstrap: what AWS's ``/var/runtime/bootstrap`` does, then awslambdaric.

This file is copied into every runtime folder (Lambda's ``/var/runtime``) as
``bootstrap-<hash>.py`` (``boot.install``: one per harness version, the folder is shared)
and started by the worker as ``<python> -s <runtime>/bootstrap-<hash>.py``; with AWS's
layout it is also bound over ``/var/runtime/bootstrap.py``. It runs under the *function's*
interpreter (CPython 3.9 and up), so it uses the standard library only. In order:

0. With ``filesystem = aws`` (``"sandbox"`` in the config): a private mount namespace in
   which the function sees AWS's layout: its code read-only at ``/var/task``, its layers
   at ``/opt``, the runtime folder at ``/var/runtime``, the interpreter's prefix at
   ``/var/lang`` and a private ``/tmp`` of ``EphemeralStorage`` MB (``enter_sandbox``). Set
   up in this very process (a second exec costs 10-20 ms more), through ``mount(2)`` by
   ctypes: root, or an unprivileged user namespace. ``"probe"`` only tries it and says
   what failed (``boot.probe``).
1. ``AWS_LAMBDA_EXEC_WRAPPER``, as AWS's bash bootstrap: a missing wrapper prints
   ``<wrapper>: does not exist`` and exits 127, one that is not executable prints
   ``<wrapper>: is not an executable`` and exits 126; otherwise the wrapper is exec'd with
   AWS's two arguments, ``<python> /var/runtime/bootstrap.py`` (with host paths: this
   file's own path), and this file runs again under it (``"wrapped"`` in the config says so).
2. AWS's ``sys.path`` and ``PYTHONPATH`` rules (its runtime's ``bootstrap.py``): the task
   root first, ``/opt/python/lib/pythonX.Y/site-packages`` and ``/opt/python`` next unless
   the function set its own ``PYTHONPATH``, ``.pth`` files of the task root processed, and
   ``PYTHONPATH`` left as ``/var/runtime`` (or the function's own value).
3. With ``--coverage`` (``"coverage"`` in the config): the coverage folder goes on
   ``sys.path`` and its boot module starts measuring (``endpoint/runtime/coverage.py``),
   before the handler's module is imported.
4. ``awslambdaric``'s main loop, with ``_HANDLER``.

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


# mount(2) and unshare(2) flags (linux/mount.h, linux/sched.h)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
#: statvfs flags -> the mount flags a bind remount must keep (the kernel refuses to drop
#: locked ones inside a user namespace, e.g. a host /tmp mounted noexec).
_KEEP = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME, 4096: MS_RELATIME}
#: Where AWS's layout goes; an interpreter installed under these is hidden once they are covered.
COVERED = ("/tmp", "/opt")


class SandboxError(Exception):
    """A step of the mount namespace failed: ``step`` and the system's reason."""


class _Mounter:
    def __init__(self) -> None:
        if not sys.platform.startswith("linux"):
            raise SandboxError(f"{sys.platform} has no mount namespaces (Linux only)")
        import ctypes

        try:  # by name: ctypes.util.find_library forks ldconfig (~40 ms)
            self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        except OSError as exc:
            raise SandboxError(f"libc.so.6: {exc}") from None
        self.ctypes = ctypes

    def check(self, rc: int, step: str) -> None:
        if rc != 0:
            err = self.ctypes.get_errno()
            raise SandboxError(f"{step}: {os.strerror(err)}")

    def mount(
        self, src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None
    ) -> None:
        enc = [x.encode() if x is not None else None for x in (src, dst, fstype, data)]
        rc = self.libc.mount(enc[0], enc[1], enc[2], self.ctypes.c_ulong(flags), enc[3])
        self.check(rc, f"mount {fstype or ('bind' if flags & MS_BIND else 'flags')} on {dst}")

    def bind_read_only(self, src: str, dst: str) -> None:
        self.mount(src, dst, None, MS_BIND | MS_REC)
        kept = sum(flag for bit, flag in _KEEP.items() if os.statvfs(dst).f_flag & bit)
        self.mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as fh:
            fh.write(text)
    except OSError as exc:
        raise SandboxError(f"write {path}: {exc.strerror}") from None


def enter_sandbox(spec: dict[str, Any]) -> None:
    """Enter a private mount namespace laid out like Lambda's (see the module docstring).

    ``spec``: real paths ``task``, ``runtime``, ``lang``, ``opt`` (None: an empty /opt) and
    ``tmp_mb``. Nothing is created on the host: scratch space is a tmpfs on /tmp, itself
    covered by the function's /tmp. Raises ``SandboxError`` naming the failed step.
    """
    m = _Mounter()
    if not os.path.isdir("/opt"):
        raise SandboxError("/opt does not exist on this machine (create it: sudo mkdir /opt)")
    uid, gid = os.getuid(), os.getgid()
    # Not root: a user namespace that maps our own ids (we stay who we are, not a fake root).
    m.check(m.libc.unshare(CLONE_NEWNS | (CLONE_NEWUSER if uid != 0 else 0)), "unshare")
    if uid != 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    m.mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Opened inside the namespace (a bind from another namespace's path is EINVAL) and
    # before /tmp is covered (they may live there).
    fds = {}
    for key in ("task", "runtime", "lang", "opt", "bootstrap"):
        if spec.get(key):
            kind = os.O_PATH | (0 if key == "bootstrap" else os.O_DIRECTORY)
            try:
                fds[key] = f"/proc/self/fd/{os.open(spec[key], kind)}"
            except OSError as exc:
                raise SandboxError(f"open {spec[key]}: {exc.strerror}") from None
    m.mount("lh-scratch", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700")
    os.mkdir("/tmp/upper")
    os.mkdir("/tmp/work")
    # /var stays the host's, with /var/task, /var/runtime and /var/lang added on top.
    m.mount("overlay", "/var", "overlay", 0, "lowerdir=/var,upperdir=/tmp/upper,workdir=/tmp/work")
    for key, target in (("task", "/var/task"), ("runtime", "/var/runtime"), ("lang", "/var/lang")):
        os.makedirs(target, exist_ok=True)
        m.bind_read_only(fds[key], target)
    if "bootstrap" in fds and os.path.isfile("/var/runtime/bootstrap.py"):
        # This harness version's bootstrap where AWS has its own (the shared runtime folder's
        # bootstrap.py may be another version's): a wrapper is given /var/runtime/bootstrap.py.
        m.bind_read_only(fds["bootstrap"], "/var/runtime/bootstrap.py")
    if "opt" in fds:
        m.bind_read_only(fds["opt"], "/opt")
    else:
        m.mount("lh-opt", "/opt", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")
    m.mount("lh-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(spec['tmp_mb'])}m,mode=1777")
    for fd in fds.values():
        os.close(int(fd.rsplit("/", 1)[1]))
    os.chdir("/var/task")


def _hidden(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in COVERED)


def settle_in_sandbox(cfg: dict[str, Any]) -> None:
    """After ``enter_sandbox``: go on in this interpreter, or exec the one at /var/lang.

    An interpreter (or runtime folder) installed under /tmp or /opt is covered now, and
    its standard library with it: then run again as ``/var/lang/bin/python3.X``.
    """
    if any(_hidden(p) for p in (sys.base_prefix, sys.base_exec_prefix, cfg.get("runtime") or "")):
        os.environ[CONFIG_VAR] = json.dumps(dict(cfg, sandboxed=True))
        os.environ["PYTHONPATH"] = ":".join(p for p in (cfg.get("pythonpath"), "/var/runtime") if p)
        os.execv(cfg["python"], [cfg["python"], "-s", "/var/runtime/bootstrap.py"])
    import importlib

    # The import system cached what it saw before the mounts; the interpreter is /var/lang's.
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    sys.executable = cfg["python"]


def probe(cfg: dict[str, Any]) -> None:
    """Try the namespace with scratch folders; exit 0, or print what failed and exit 1."""
    try:
        enter_sandbox(cfg["sandbox"])
        os.listdir("/var/task")
        with open("/tmp/probe", "w") as fh:
            fh.write("ok")
    except (SandboxError, OSError) as exc:
        print(exc, flush=True)
        os._exit(1)
    os._exit(0)


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
    # AWS's /var/runtime/bootstrap.py is this file under AWS's layout (bound over it); with host
    # paths the shared folder's bootstrap.py may be another version's, so this file's own name.
    script = f"{runtime}/bootstrap.py" if cfg.get("sandbox") else os.path.abspath(__file__)
    try:
        os.execv(path, [path, cfg["python"], script])
    except OSError as exc:  # e.g. a script without a #! line: bash's exec fails the same way
        print(f"{wrapper}: cannot execute: {exc.strerror}", flush=True)
        os._exit(126)


def lambda_sys_path(
    path: list[str],
    *,
    task: str,
    runtime: str,
    real: set[str],
    opt: str | None,
    user: str | None,
    lang: tuple[set[str], str] | None = None,
) -> list[str]:
    """``sys.path`` as AWS's python bootstrap leaves it.

    The task root first, then (unless the function set its own PYTHONPATH) ``/opt``'s two
    python folders; the runtime folder's real paths (``real``) are named as the function
    sees the runtime folder, and so are the interpreter's (``lang``: its real prefixes and
    ``/var/lang``, under AWS's layout). Each entry once (the runtime folder is both the
    script's folder and ``PYTHONPATH``).
    """
    front = [task]
    if not user and opt:
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        front += [f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]
    out: list[str] = []
    for entry in front + [runtime if p in real else _renamed(p, lang) for p in path]:
        if entry not in out:
            out.append(entry)
    return out


def _renamed(path: str, lang: tuple[set[str], str] | None) -> str:
    if lang is None:
        return path
    prefixes, seen = lang
    for prefix in prefixes:
        if path == prefix or path.startswith(prefix + "/"):
            return seen + path[len(prefix) :]
    return path


def aws_sys_path(cfg: dict[str, Any]) -> None:
    """Put ``sys.path`` and ``PYTHONPATH`` in the order AWS's python bootstrap leaves them."""
    task, runtime = os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DIR"]
    user = cfg.get("pythonpath")
    # The runtime folder may appear under its real path (this script's folder, PYTHONPATH).
    real = {os.path.dirname(os.path.abspath(__file__)), cfg.get("runtime") or runtime}
    user_site = site.getusersitepackages()  # Lambda has none (what -s does; a wrapper may omit it)
    path = [p for p in sys.path if p != user_site]
    lang = None
    sandbox = cfg.get("sandbox") or {}
    if sandbox.get("lang"):  # AWS's layout: the interpreter's real prefix is /var/lang here too
        lang = ({sandbox["lang"], os.path.realpath(sandbox["lang"])}, "/var/lang")
    sys.path[:] = lambda_sys_path(
        path, task=task, runtime=runtime, real=real, opt=cfg.get("opt"), user=user, lang=lang
    )
    site.addsitedir(task)  # AWS processes the task root's .pth files
    os.environ["PYTHONPATH"] = user or runtime


def start_coverage(spec: dict[str, Any]) -> None:
    """Start measuring (``--coverage``): the coverage folder last on ``sys.path``, then its boot
    module's ``start`` with the spec file's path."""
    import importlib

    sys.path.append(spec["dir"])
    importlib.import_module(spec["module"]).start(spec["spec"])


def main() -> None:
    cfg: dict[str, Any] = json.loads(os.environ.get(CONFIG_VAR) or "{}")
    if cfg.get("probe"):
        probe(cfg)
    if cfg.get("sandbox") and not (cfg.get("wrapped") or cfg.get("sandboxed")):
        try:
            enter_sandbox(cfg["sandbox"])
        except SandboxError as exc:  # the probe at `up` said it works: say why it did not
            print(f"lambda-harness: the function's filesystem (filesystem = aws): {exc}", flush=True)
            os._exit(1)
        settle_in_sandbox(cfg)
    exec_wrapper(cfg)
    os.environ.pop(CONFIG_VAR, None)
    aws_sys_path(cfg)
    import importlib

    if cfg.get("coverage"):
        start_coverage(cfg["coverage"])
    ric = importlib.import_module("awslambdaric.__main__")
    ric.main([os.environ["LAMBDA_TASK_ROOT"], os.environ["_HANDLER"]])


if __name__ == "__main__":
    main()
