"""Install Debian packages without letting them start services.

``docker.io`` would start a system dockerd from its maintainer scripts; the
proof wants its own throw-away daemon instead. ``invoke-rc.d`` asks
``/usr/sbin/policy-rc.d`` first, and exit code 101 means "action forbidden",
so every package's service start is skipped while our policy is in place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lambda_harness import proc
from lambda_harness.errors import ToolNotFound
from lambda_harness.ui import UI

POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
POLICY_FORBID = "#!/bin/sh\n# lambda-harness: no service starts during package installs\nexit 101\n"


@dataclass(frozen=True)
class Need:
    """A program the harness needs and the Debian package that ships it."""

    program: str
    package: str
    path: str | None = None  # a fixed path when PATH lookup would find another build


# The proof's tools: Debian's own docker CLI and daemon (20.10), compose v1, debootstrap.
DOCKER_NEEDS: tuple[Need, ...] = (
    Need("dockerd", "docker.io", "/usr/sbin/dockerd"),
    Need("docker", "docker.io", "/usr/bin/docker"),
    Need("docker-compose", "docker-compose", "/usr/bin/docker-compose"),
    Need("debootstrap", "debootstrap", "/usr/sbin/debootstrap"),
)


def missing_packages(needs: Sequence[Need], exists: Callable[[str], bool] = os.path.exists) -> list[str]:
    """Debian packages to install so every ``need`` is present (deduplicated, in order)."""
    out: list[str] = []
    for need in needs:
        present = exists(need.path) if need.path else shutil.which(need.program) is not None
        if not present and need.package not in out:
            out.append(need.package)
    return out


@contextmanager
def services_forbidden(policy: Path = POLICY_RC_D) -> Iterator[None]:
    """Keep a ``policy-rc.d`` that exits 101 in place; restore what was there after."""
    previous = policy.read_bytes() if policy.exists() else None
    if previous is not None and _forbids(previous):
        yield  # the machine already forbids service starts (Docker-built hosts do)
        return
    policy.write_text(POLICY_FORBID, encoding="utf-8")
    policy.chmod(0o755)
    try:
        yield
    finally:
        if previous is None:
            policy.unlink(missing_ok=True)
        else:
            policy.write_bytes(previous)


def _forbids(script: bytes) -> bool:
    """True when a policy-rc.d script plainly ends in ``exit 101``."""
    lines = [ln.strip() for ln in script.decode("utf-8", "replace").splitlines() if ln.strip()]
    return bool(lines) and lines[-1] == "exit 101" and all(ln.startswith("#") for ln in lines[:-1])


def apt_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment apt-get runs in: never ask questions."""
    env = dict(environ)
    env["DEBIAN_FRONTEND"] = "noninteractive"
    env.setdefault("APT_LISTCHANGES_FRONTEND", "none")
    return env


def install(packages: Sequence[str], ui: UI, environ: Mapping[str, str] | None = None) -> None:
    """``apt-get update`` once, then install ``packages`` with no recommends and no service starts."""
    if not packages:
        return
    if os.geteuid() != 0:
        raise ToolNotFound(
            f"{', '.join(packages)} not installed and not running as root; "
            f"install them: sudo apt-get install {' '.join(packages)}"
        )
    apt_get = proc.which("apt-get", hint="this needs a Debian or Ubuntu host")
    env = apt_env(os.environ if environ is None else environ)
    with services_forbidden():
        with ui.step("apt-get update"):
            proc.run([apt_get, "update", "-q"], env=env, timeout=300)
        with ui.step(f"apt-get install {' '.join(packages)}"):
            proc.run(
                [apt_get, "install", "-y", "-q", "--no-install-recommends", *packages],
                env=env,
                timeout=600,
            )


def ensure(needs: Sequence[Need], ui: UI) -> list[str]:
    """Install what is missing of ``needs``; returns the packages installed."""
    packages = missing_packages(needs)
    install(packages, ui)
    return packages
