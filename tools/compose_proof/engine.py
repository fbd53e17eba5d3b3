"""A private, throw-away Docker engine: one dockerd under a temporary root.

Everything the daemon owns lives under one folder (data root, exec root,
socket, pid file, log), so the proof never touches a system Docker and can
clean up by PID and by mount point. Host networking only: the daemon starts
with no bridge and no iptables rules, so containers use ``network_mode: host``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import docker

from lambda_harness import proc
from lambda_harness.errors import ContainerError
from lambda_harness.ui import UI

logger = logging.getLogger(__name__)

DOCKERD = "/usr/sbin/dockerd"  # Debian's docker.io; PATH may hold other builds
# Flags that keep the daemon off the host's network configuration entirely.
NO_NETWORK_FLAGS = (
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
)


# A unix socket path must fit sun_path (108 bytes); containerd refuses more than 104.
MAX_SOCKET_PATH = 100
LONGEST_SOCKET = "exec/containerd/containerd-debug.sock"  # relative to the run folder


@dataclass(frozen=True)
class EngineDirs:
    """Where one private engine keeps its state: ``root``, and ``run`` for its sockets.

    ``run`` (exec root, API socket) is ``root/run`` when that path is short
    enough for unix sockets, else a short folder in the system's temp folder
    (see ``engine_dirs``); either way the engine owns it alone.
    """

    root: Path
    run: Path

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.run / "exec"

    @property
    def socket(self) -> Path:
        return self.run / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    @property
    def config_file(self) -> Path:
        return self.root / "daemon.json"

    @property
    def client_config(self) -> Path:
        return self.root / "client-config"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def run_is_separate(self) -> bool:
        return not self.run.is_relative_to(self.root)

    @property
    def mount_roots(self) -> tuple[Path, ...]:
        """The folders whose mounts are this engine's: ``root``, and ``run`` when apart from it."""
        return (self.root, self.run) if self.run_is_separate else (self.root,)


# Created with mkdir(0o700) that fails if it exists, so never a folder someone else prepared.
SHORT_BASE = Path("/tmp")  # noqa: S108


def engine_dirs(root: Path, short_base: Path = SHORT_BASE) -> EngineDirs:
    """``EngineDirs`` for ``root``; a deep ``root`` gets its sockets in ``/tmp/lhd-<hash of root>``."""
    run = root / "run"
    if len(str(run / LONGEST_SOCKET)) > MAX_SOCKET_PATH:
        run = short_base / f"lhd-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"
    return EngineDirs(root, run)


def dockerd_args(dirs: EngineDirs, dockerd: str = DOCKERD) -> list[str]:
    """The daemon's command line: private paths, no bridge, no iptables."""
    return [
        dockerd,
        *NO_NETWORK_FLAGS,
        f"--data-root={dirs.data_root}",
        f"--exec-root={dirs.exec_root}",
        f"--pidfile={dirs.pidfile}",
        f"--config-file={dirs.config_file}",  # never read the host's /etc/docker/daemon.json
        f"--host=unix://{dirs.socket}",
        "--log-level=warn",
    ]


def _unescape_mountinfo(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounts_under(root: Path, mountinfo: str) -> list[Path]:
    """Mount points at or below ``root``, deepest first (the order to unmount them)."""
    root_text = str(root).rstrip("/")
    found: list[Path] = []
    for line in mountinfo.splitlines():
        parts = line.split(" ")
        if len(parts) < 5:
            continue
        point = _unescape_mountinfo(parts[4])
        if point == root_text or point.startswith(root_text + "/"):
            found.append(Path(point))
    # Stacked mounts can repeat a point; unmount it as often as it appears.
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def unmount_under(root: Path, read_mountinfo: Callable[[], str] | None = None) -> list[Path]:
    """Unmount everything below ``root`` (nsfs, overlay, shm the daemon left); returns what was."""
    reader = read_mountinfo or (lambda: Path("/proc/self/mountinfo").read_text(encoding="utf-8"))
    points = mounts_under(root, reader())
    for point in points:
        done = proc.run(["umount", str(point)], check=False, timeout=30)
        if done.returncode != 0:
            # Busy (a process still holds it): detach it so the folder can go.
            proc.run(["umount", "-l", str(point)], check=False, timeout=30)
    return points


class Engine:
    """A dockerd child process with its own root; ``start()``, ``client``, ``stop()``.

    ``tmpfs_size`` (e.g. "8g") puts the data root on a tmpfs mounted for this
    engine alone; ``stop()`` unmounts it with the rest.

    Use as a context manager so the daemon stops (by PID) and its mounts go,
    also when the body fails.
    """

    def __init__(
        self,
        root: Path,
        ui: UI,
        *,
        dockerd: str = DOCKERD,
        tmpfs_size: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dirs = engine_dirs(root)
        self.ui = ui
        self.dockerd = dockerd
        self.tmpfs_size = tmpfs_size
        self._clock = clock
        self._sleep = sleep
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        """The Docker SDK client bound to this engine's socket."""
        if self._client is None:
            raise ContainerError("internal: the engine is not started; call Engine.start() first")
        return self._client

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for docker/docker-compose CLIs: this engine, no host credentials."""
        env = dict(os.environ if environ is None else environ)
        env["DOCKER_HOST"] = self.dirs.base_url
        env["DOCKER_CONFIG"] = str(self.dirs.client_config)
        env.pop("DOCKER_CONTEXT", None)
        env.pop("DOCKER_TLS_VERIFY", None)
        env.pop("DOCKER_CERT_PATH", None)
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Start dockerd and wait until it answers a ping."""
        if not Path(self.dockerd).exists():
            raise ContainerError(f"{self.dockerd} not found; install Debian's docker.io package")
        if self.dirs.run_is_separate:
            try:
                self.dirs.run.mkdir(mode=0o700)  # must be ours alone: fail if it exists
            except FileExistsError as exc:
                raise ContainerError(
                    f"{self.dirs.run} exists: another engine for {self.dirs.root} is running, "
                    "or a killed one left it; stop it or remove the folder"
                ) from exc
        for folder in (
            self.dirs.root,
            self.dirs.run,
            self.dirs.data_root,
            self.dirs.exec_root,
            self.dirs.client_config,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        self.dirs.config_file.write_text(json.dumps({}), encoding="utf-8")
        try:
            if self.tmpfs_size:
                self._mount_tmpfs()
            with self.dirs.log.open("wb") as log:
                self._proc = proc.spawn(dockerd_args(self.dirs, self.dockerd), stdout=log.fileno())
            self._wait_ready(timeout)
        except BaseException:
            self.stop()  # never leave a half-started daemon (or its tmpfs) behind
            raise

    def _mount_tmpfs(self) -> None:
        # Images and containers in memory: removing a disk data root file by file is slow on
        # file systems mounted with `discard` (minutes for 400 MB); unmounting a tmpfs is instant.
        proc.run(
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={self.tmpfs_size},mode=0710",
                "lambda-harness-engine",
                str(self.dirs.data_root),
            ],
            timeout=30,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = self._clock() + timeout
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise ContainerError(
                    f"dockerd exited with code {self._proc.returncode} while starting; "
                    f"its log ({self.dirs.log}):\n{self.log_tail()}"
                )
            if self.dirs.socket.exists() and self._ping():
                return
            if self._clock() > deadline:
                raise ContainerError(
                    f"dockerd did not answer on {self.dirs.socket} within {timeout:.0f}s; "
                    f"its log:\n{self.log_tail()}"
                )
            self._sleep(0.1)

    def _ping(self) -> bool:
        try:
            if self._client is None:
                # The SDK asks the daemon for its API version on construction.
                self._client = docker.DockerClient(base_url=self.dirs.base_url, timeout=300)
            return bool(self._client.ping())
        except Exception:  # any failure means "not yet"
            return False

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the daemon's log (for error messages)."""
        try:
            text = self.dirs.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> list[Path]:
        """Stop the daemon by PID, then unmount what it left under its root. Idempotent."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._proc is not None:
            # SIGINT/SIGTERM make dockerd stop its containers and its containerd.
            proc.stop(self._proc, grace=20.0)
            self._proc = None
        leftovers = [point for folder in self.dirs.mount_roots for point in unmount_under(folder)]
        if self.dirs.run_is_separate and not self.remaining_mounts():
            shutil.rmtree(self.dirs.run, ignore_errors=True)  # our own short folder in /tmp
        if leftovers:
            logger.debug("unmounted %s", ", ".join(map(str, leftovers)))
        return leftovers

    def remaining_mounts(self) -> list[Path]:
        """Mounts still under the engine's folders (empty after a clean ``stop``)."""
        text = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        return [point for folder in self.dirs.mount_roots for point in mounts_under(folder, text)]

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
