"""LocalStack for ``--backend localstack``: use the one that answers, else start the repo's compose service.

``localstack_endpoint`` is the endpoint stage for ``run`` and ``smoke``: when
``<endpoint>/_localstack/health`` already answers, that LocalStack is used and left
running; otherwise ``<compose> --file <project>/docker-compose.yml up --detach localstack`` starts
it (``docker compose`` when the Docker CLI has the plugin, else ``docker-compose``), the
health path is polled until it answers, and on the way out (failures and Ctrl-C too)
``stop localstack`` stops only what this module started. ``start_localstack`` is the
first half alone, for ``apply``, which leaves the endpoint running.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Protocol, TypedDict, Unpack

from lambda_harness import net
from lambda_harness.endpoint.compose import COMPOSE_FILE, Compose, find_program
from lambda_harness.errors import ContainerError
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

logger = logging.getLogger(__name__)

SERVICE = "localstack"
HEALTH_PATH = net.LOCALSTACK_HEALTH
LAST_TOKENLESS_TAG = "4.14.0"
LOG_TAIL_LINES = 50
POLL_S = 0.5
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ComposeCommand(Protocol):
    """The compose operations this module needs (``Compose`` has them; tests pass fakes)."""

    def describe(self) -> str:
        """The command prefix as a user would type it (for messages)."""
        ...

    def services(self) -> list[str]: ...

    def up(self, services: Sequence[str], *, build: bool = True) -> None: ...

    def stop(self, services: Sequence[str]) -> None: ...

    def logs_tail(self, service: str, lines: int) -> str: ...


def needs_compose_message(settings: Settings) -> str:
    """What ``--backend localstack`` needs when nothing answers (the one wording every error uses)."""
    return (
        f"--backend localstack needs Docker with compose to start the {SERVICE} service from "
        f"{settings.project_dir / COMPOSE_FILE} (or start LocalStack yourself on {settings.endpoint_url})"
    )


def compose_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment (LOCALSTACK_AUTH_TOKEN passes through) plus the port compose reads."""
    return {**environ, "LAMBDA_HARNESS_PORT": str(settings.port)}


def find_compose(settings: Settings, env: Mapping[str, str]) -> Compose:
    """The repo's compose project, run by ``docker compose`` or else ``docker-compose`` on env's PATH."""
    program = find_program(env, why=needs_compose_message(settings))
    return Compose(settings.project_dir, env, program=program)


def localstack_healthy(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers ``/_localstack/health``: 200 and LocalStack's JSON (a ``services`` map)."""
    return net.localstack_health(url, timeout) is None


def port_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class StartOptions(TypedDict, total=False):
    """``start_localstack``'s keyword options (its signature holds the defaults)."""

    compose: ComposeCommand | None
    environ: Mapping[str, str] | None
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    timeout_s: float
    healthy: Callable[[str], bool]
    listening: Callable[[str, int], bool]


@contextmanager
def localstack_endpoint(settings: Settings, ui: UI, **options: Unpack[StartOptions]) -> Iterator[str]:
    """The LocalStack endpoint's URL: the one already answering (left running), else one started
    from the repo's compose file and stopped again when the block ends (on errors too)."""
    started = start_localstack(settings, ui, **options)
    try:
        yield settings.endpoint_url
    finally:
        if started is not None:
            stop_localstack(started, ui)


def start_localstack(
    settings: Settings,
    ui: UI,
    *,
    compose: ComposeCommand | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 180.0,
    healthy: Callable[[str], bool] = localstack_healthy,
    listening: Callable[[str, int], bool] = port_listening,
) -> ComposeCommand | None:
    """Make LocalStack answer on the endpoint; the compose command that started it, or None
    when one was already running (then the caller must not stop it)."""
    url = settings.endpoint_url
    if healthy(url):
        ui.info(f"using the endpoint already answering {url}{HEALTH_PATH} (left running)")
        return None
    _check_can_start(settings, listening)
    compose_file = settings.project_dir / COMPOSE_FILE
    if not compose_file.is_file():
        raise ContainerError(f"{needs_compose_message(settings)}: {compose_file} does not exist")
    env = compose_environment(settings, os.environ if environ is None else environ)
    compose = compose or find_compose(settings, env)
    if SERVICE not in compose.services():
        raise ContainerError(
            f"{needs_compose_message(settings)}: {settings.project_dir / COMPOSE_FILE} has no "
            f"{SERVICE!r} service; add one (see the README's containers section)"
        )
    with ui.step(f"start LocalStack on {url}: {compose.describe()} up --detach {SERVICE}"):
        _up(settings, compose, ui)
        try:
            _wait_healthy(
                settings, compose, env, healthy=healthy, clock=clock, sleep=sleep, timeout_s=timeout_s
            )
        except BaseException:
            stop_localstack(compose, ui)
            raise
    return compose


def stop_localstack(compose: ComposeCommand, ui: UI, *, quiet: bool = False) -> None:
    """``stop localstack``; a failure is a warning (it must not hide the error that got us here),
    or only a log record when ``quiet`` (after a failed ``up``, when stop fails the same way)."""
    try:
        with ui.step(f"stop LocalStack: {compose.describe()} stop {SERVICE}"):
            compose.stop([SERVICE])
    except Exception as exc:  # ContainerError, OSError: report, do not mask
        logger.debug("stopping LocalStack failed", exc_info=True)
        if not quiet:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            ui.warn(f"could not stop LocalStack ({first}); run: {compose.describe()} stop {SERVICE}")


def _up(settings: Settings, compose: ComposeCommand, ui: UI) -> None:
    try:
        compose.up([SERVICE])
    except BaseException as exc:
        # Even a failed or interrupted `up` may have started the container: stop it, quietly,
        # since a compose that cannot reach Docker fails the stop the same way.
        stop_localstack(compose, ui, quiet=True)
        if isinstance(exc, ContainerError):
            raise ContainerError(
                f"{needs_compose_message(settings)}: `{compose.describe()} up --detach {SERVICE}` failed "
                f"(is the Docker daemon running and DOCKER_HOST right?)\n{exc}"
            ) from exc
        raise


def down_localstack(
    settings: Settings,
    ui: UI,
    *,
    compose: ComposeCommand | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """``lambda-harness down --backend localstack``: stop the repo's compose ``localstack`` service
    (what ``apply`` left running)."""
    if compose is None:
        env = compose_environment(settings, os.environ if environ is None else environ)
        compose = find_compose(settings, env)
    with ui.step(f"stop LocalStack: {compose.describe()} stop {SERVICE}"):
        compose.stop([SERVICE])


def _check_can_start(settings: Settings, listening: Callable[[str, int], bool]) -> None:
    if settings.host not in LOOPBACK:
        raise ContainerError(
            f"LocalStack does not answer at {settings.endpoint_url}{HEALTH_PATH}, and the harness only "
            f"starts it on 127.0.0.1; start it on {settings.host} yourself or use --host 127.0.0.1"
        )
    if listening(settings.host, settings.port):
        raise ContainerError(
            f"something listens on {settings.host}:{settings.port} but does not answer "
            f"{HEALTH_PATH} as LocalStack does, so LocalStack cannot start there; stop that program, "
            "wait for a LocalStack that is still starting, or choose another --port"
        )


def _wait_healthy(
    settings: Settings,
    compose: ComposeCommand,
    env: Mapping[str, str],
    *,
    healthy: Callable[[str], bool],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout_s: float,
) -> None:
    net.wait_until(
        lambda: healthy(settings.endpoint_url),
        timeout_s,
        what=f"LocalStack at {settings.endpoint_url}",
        interval=POLL_S,
        on_timeout=lambda: ContainerError(_timeout_message(settings, compose, env, timeout_s)),
        clock=clock,
        sleep=sleep,
    )


def _timeout_message(
    settings: Settings, compose: ComposeCommand, env: Mapping[str, str], timeout_s: float
) -> str:
    try:
        logs = compose.logs_tail(SERVICE, LOG_TAIL_LINES).strip() or "(no output)"
    except Exception as exc:  # the logs are a courtesy: keep the timeout as the error
        logs = f"(could not read the logs: {exc})"
    token = "is set" if env.get("LOCALSTACK_AUTH_TOKEN") else "is not set"
    return (
        f"LocalStack did not answer {settings.endpoint_url}{HEALTH_PATH} within {timeout_s:.0f}s after "
        f"`{compose.describe()} up --detach {SERVICE}`. LocalStack images after {LAST_TOKENLESS_TAG} exit 55 "
        f"without LOCALSTACK_AUTH_TOKEN (it {token}): export it, or set "
        f"LOCALSTACK_IMAGE=localstack/localstack:{LAST_TOKENLESS_TAG}.\n"
        f"--- `{compose.describe()} logs --tail {LOG_TAIL_LINES} {SERVICE}` ---\n{logs}"
    )
