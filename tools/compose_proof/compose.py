"""docker-compose v1 (Debian's ``/usr/bin/docker-compose``) driven through ``proc``.

The compose flow is what a user types, so the proof runs the compose CLI
itself rather than re-creating services through the SDK; the SDK is used to
*observe* (exit codes, health) where the CLI has no wait command (v1 has no
``docker compose wait``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_harness import proc
from lambda_harness.errors import ContainerError

if TYPE_CHECKING:
    import docker

DOCKER_COMPOSE = "/usr/bin/docker-compose"
COMPOSE_FILE = "docker-compose.yml"
# The services of docker-compose.yml (tests read the file to keep these in step).
BUILDER = "builder"
ENDPOINT = "endpoint"
LOCALSTACK = "localstack"
EMBEDDED_PROFILE = "embedded"


@dataclass(frozen=True)
class Compose:
    """One compose project: a folder with docker-compose.yml, a name, an environment."""

    project_dir: Path
    env: Mapping[str, str]
    project_name: str
    profiles: tuple[str, ...] = ()
    executable: str = DOCKER_COMPOSE
    timeout: float = 900.0
    stream: bool = False
    on_line: Callable[[str], None] | None = field(default=None, compare=False)

    def argv(self, *args: str) -> list[str]:
        """The full command line for a compose subcommand."""
        head = [
            self.executable,
            "--project-directory",
            str(self.project_dir),
            "--file",
            str(self.project_dir / COMPOSE_FILE),
            "--project-name",
            self.project_name,
        ]
        for profile in self.profiles:
            head += ["--profile", profile]
        return [*head, *args]

    def run(self, *args: str, check: bool = True) -> proc.Completed:
        """Run ``docker-compose <args>`` in the project's folder."""
        return proc.run(
            self.argv(*args),
            cwd=self.project_dir,
            env=self.env,
            timeout=self.timeout,
            check=check,
            stream=self.stream,
            on_line=self.on_line,
            hint=f"compose project {self.project_name} in {self.project_dir}",
        )

    def build(self, services: Sequence[str]) -> None:
        self.run("build", *services)

    def up(self, services: Sequence[str]) -> None:
        """``up -d`` without building (``build`` ran first, timed on its own)."""
        self.run("up", "--detach", "--no-build", *services)

    def down(self, *, volumes: bool = True, timeout_s: int = 10) -> None:
        """Stop and remove the project's containers (and its volumes)."""
        args = ["down", "--timeout", str(timeout_s)]
        if volumes:
            args.append("--volumes")
        self.run(*args)

    def container(self, client: docker.DockerClient, service: str) -> Any:
        """The (single) container of ``service`` in this project, found by compose's labels."""
        found = client.containers.list(
            all=True,
            filters={
                "label": [
                    f"com.docker.compose.project={self.project_name}",
                    f"com.docker.compose.service={service}",
                ]
            },
        )
        if not found:
            raise ContainerError(
                f"no container for service {service!r} in compose project {self.project_name}; "
                f"was it started? ({self.project_dir / COMPOSE_FILE})"
            )
        return found[0]


def wait_exit(container: Any, timeout: float) -> int:
    """Wait for a one-shot service's container to exit; its exit code."""
    try:
        result = container.wait(timeout=timeout)
    except Exception as exc:  # requests' ReadTimeout and friends
        raise ContainerError(f"container {container.name} still running after {timeout:.0f}s") from exc
    return int(result.get("StatusCode", -1))


def wait_healthy(
    container: Any,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait until the container's healthcheck says healthy; fail fast if it exits or turns unhealthy."""
    deadline = clock() + timeout
    while True:
        container.reload()
        state = container.attrs.get("State", {})
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy":
            return
        if state.get("Status") in ("exited", "dead") or health == "unhealthy":
            logs = container.logs(tail=30).decode("utf-8", "replace")
            raise ContainerError(
                f"container {container.name} is {health or state.get('Status')} "
                f"(exit code {state.get('ExitCode')}); its last log lines:\n{logs}"
            )
        if clock() > deadline:
            raise ContainerError(f"container {container.name} not healthy after {timeout:.0f}s ({health})")
        sleep(0.5)
