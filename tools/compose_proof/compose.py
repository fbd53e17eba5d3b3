"""The repo's compose project for the proof: the library's wrapper on Debian's docker-compose v1.

The compose flow is what a user types, so the proof runs the compose CLI itself
(``lambda_harness.endpoint.compose.Compose``, the one wrapper, also behind
``--backend localstack``) rather than re-creating services through the SDK; the SDK
is used to *observe* (exit codes, health) where the CLI has no wait command (v1 has
no ``docker compose wait``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambda_harness.endpoint import compose
from lambda_harness.errors import ContainerError

if TYPE_CHECKING:
    import docker

DOCKER_COMPOSE = "/usr/bin/docker-compose"
COMPOSE_FILE = compose.COMPOSE_FILE
# The services of docker-compose.yml (tests read the file to keep these in step).
BUILDER = "builder"
ENDPOINT = "endpoint"
LOCALSTACK = "localstack"
EMBEDDED_PROFILE = "embedded"
TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Compose(compose.Compose):
    """The library's ``Compose`` run by Debian's docker-compose, plus finding a service's
    container through the SDK (the proof's only addition)."""

    program: tuple[str, ...] = (DOCKER_COMPOSE,)
    timeout_s: float = TIMEOUT_S
    up_timeout_s: float = TIMEOUT_S

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
                f"was it started? ({self.compose_file})"
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
