"""Which filesystem functions see: AWS's layout (a mount namespace per worker) or host paths.

The setting ``filesystem`` (``[tool.lambda-harness]``, ``LAMBDA_HARNESS_FILESYSTEM``,
``--filesystem``) is ``auto`` (AWS's layout where the kernel allows it, else host paths
and one line saying why), ``aws`` (AWS's layout or an error) or ``host`` (today's host
paths, no probe). ``probe`` asks the kernel once, by running ``bootstrap.py`` in probe
mode on empty scratch folders: it works as root and with unprivileged user namespaces;
it fails on macOS, under Docker's default seccomp profile, with user namespaces off
(``user.max_user_namespaces=0``, Debian's ``kernel.unprivileged_userns_clone=0``), under
Ubuntu's AppArmor restriction (``kernel.apparmor_restrict_unprivileged_userns=1``), on
kernels before 5.11 for unprivileged overlay mounts, and where there is no ``/opt``.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint.runtime.bootstrap import CONFIG_VAR
from lambda_harness.endpoint.runtime.env import View
from lambda_harness.errors import CommandFailed, EndpointError
from lambda_harness.settings import FILESYSTEMS

SOURCE = Path(__file__).with_name("bootstrap.py")


def probe(python: str = sys.executable) -> str | None:
    """None when a worker can have AWS's layout here, else what failed.

    E.g. ``unshare: Operation not permitted``: the failed step and the system's reason.
    """
    with tempfile.TemporaryDirectory(prefix="lh-fs-probe-") as tmp:
        spec: dict[str, object] = {key: str(Path(tmp, key)) for key in ("task", "runtime", "lang", "opt")}
        for folder in list(spec.values()):
            Path(str(folder)).mkdir()
        spec["tmp_mb"] = 1
        env = {CONFIG_VAR: json.dumps({"probe": True, "sandbox": spec}), "PATH": "/usr/bin:/bin"}
        try:
            done = proc.run([python, "-s", "-S", SOURCE], env=env, check=False, timeout=30)
        except (OSError, CommandFailed, subprocess.TimeoutExpired) as exc:
            return f"the probe did not run: {exc}"
    if done.returncode == 0:
        return None
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return said[-1] if said else f"the probe exited with status {done.returncode}"


@functools.cache
def _probe_once() -> str | None:
    return probe()


#: Something that says whether AWS's layout works here: None, or why not.
Probe = Callable[[], str | None]


def choose(setting: str, *, check: Probe | None = None) -> tuple[View, str | None]:
    """The layout workers get for ``setting``, and the one line ``up`` prints when it falls back.

    ``check`` replaces the (once per process) probe in tests.
    """
    if setting not in FILESYSTEMS:
        raise EndpointError(f"filesystem {setting!r} is not one of {', '.join(FILESYSTEMS)}")
    if setting == "host":
        return "host", None
    reason = (check or _probe_once)()
    if reason is None:
        return "aws", None
    if setting == "aws":
        raise EndpointError(
            f'filesystem = "aws": functions cannot get AWS\'s layout (/var/task, /opt, a private /tmp) '
            f'on this machine: {reason}. Set filesystem = "auto" (host paths, with a notice) or "host"'
        )
    return "host", (
        f'functions see host paths, not /var/task and /opt: {reason} (set filesystem = "host" to silence)'
    )
