"""The one docker-compose wrapper: a compose file's services driven through the compose CLI.

The user-facing LocalStack backend (``localstack``) starts and stops its service with it;
the CI-only compose proof (``tools/compose_proof``) builds, starts and tears down the
repo's whole compose project with it. Every command goes through ``proc``; a command that
fails or times out is a ``ContainerError`` naming the command and the compose file.
``find_program`` picks ``docker compose`` (the CLI plugin) when it answers, else
``docker-compose`` (v1).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambda_harness import proc
from lambda_harness.errors import CommandFailed, ContainerError, ToolNotFound

COMPOSE_FILE = "docker-compose.yml"


@dataclass(frozen=True)
class Compose:
    """One compose project: ``<project_dir>/docker-compose.yml`` run by ``program`` with ``env``.

    ``project_name`` and ``profiles`` are passed only when set (compose's defaults otherwise:
    the folder's name, no profile). ``stream``/``on_line`` pass compose's output on as it comes.
    """

    project_dir: Path
    env: Mapping[str, str]
    project_name: str | None = None
    profiles: tuple[str, ...] = ()
    program: tuple[str, ...] = ("docker", "compose")
    timeout_s: float = 120.0
    # The first `up` may pull images (LocalStack's is over 1 GB); later calls take seconds.
    up_timeout_s: float = 1800.0
    stream: bool = False
    on_line: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def compose_file(self) -> Path:
        return self.project_dir / COMPOSE_FILE

    def argv(self, *args: str) -> list[str]:
        """The full command line for a compose subcommand."""
        head = [*self.program, "--file", str(self.compose_file)]
        if self.project_name:
            head += ["--project-name", self.project_name]
        for profile in self.profiles:
            head += ["--profile", profile]
        return [*head, *args]

    def describe(self) -> str:
        """The command prefix as a user would type it (for messages)."""
        return shlex.join(self.argv())

    def run(self, *args: str, check: bool = True, timeout: float | None = None) -> proc.Completed:
        """``<compose> <args>`` in the project folder; ContainerError when it fails or hangs."""
        argv = self.argv(*args)
        try:
            return proc.run(
                argv,
                cwd=self.project_dir,
                env=self.env,
                timeout=timeout or self.timeout_s,
                check=check,
                stream=self.stream,
                on_line=self.on_line,
                hint=f"compose file: {self.compose_file}",
            )
        except CommandFailed as exc:
            raise ContainerError(str(exc)) from exc
        except subprocess.TimeoutExpired as exc:
            raise ContainerError(f"{shlex.join(argv)} did not finish within {exc.timeout:.0f}s") from exc

    def services(self) -> list[str]:
        """Every service the file declares (profiled ones too)."""
        return self.run("config", "--services").stdout.split()

    def build(self, services: Sequence[str]) -> None:
        self.run("build", *services, timeout=self.up_timeout_s)

    def up(self, services: Sequence[str], *, build: bool = True) -> None:
        """``up --detach``; ``build=False`` adds ``--no-build`` (images must exist)."""
        self.run("up", "--detach", *([] if build else ["--no-build"]), *services, timeout=self.up_timeout_s)

    def stop(self, services: Sequence[str]) -> None:
        self.run("stop", *services)

    def down(self, *, volumes: bool = True, timeout_s: int = 10) -> None:
        """Stop and remove the project's containers (and its volumes)."""
        self.run("down", "--timeout", str(timeout_s), *(["--volumes"] if volumes else []))

    def logs_tail(self, service: str, lines: int) -> str:
        """The last ``lines`` lines of a service's log (whatever compose printed, even on failure)."""
        return self.run("logs", "--no-color", "--tail", str(lines), service, check=False).output


def find_program(env: Mapping[str, str], *, why: str = "") -> tuple[str, ...]:
    """``(docker, "compose")`` when ``docker compose version`` works, else ``(docker-compose,)``,
    looked up on ``env``'s PATH; ToolNotFound (prefixed with ``why``) when neither is there."""
    search = env.get("PATH", os.defpath)
    try:
        docker = proc.which("docker", path=search)
    except ToolNotFound:
        docker = None
    if docker is not None:
        try:
            probe = proc.run([docker, "compose", "version"], env=env, check=False, timeout=30)
        except subprocess.TimeoutExpired:
            probe = None
        if probe is not None and probe.returncode == 0:
            return (docker, "compose")
    try:
        return (proc.which("docker-compose", path=search),)
    except ToolNotFound as exc:
        missing = "neither `docker compose` nor `docker-compose` is on PATH"
        raise ToolNotFound(f"{why}: {missing}" if why else missing) from exc
