"""The proof that ``docker compose up`` works (``nox -s compose``).

Steps, each timed through the ui: install docker.io/docker-compose/debootstrap
if missing -> copy the project to a temp folder -> build dists.zip on the host
-> start a private dockerd -> base image (debootstrap, cached) -> compose build
-> ``compose --profile embedded up -d builder endpoint`` -> the builder exits 0
and its zip is byte-identical to the host's -> the endpoint is healthy -> host
checks against it -> ``compose down``. Whatever happens, the daemon is stopped
by PID, its mounts are unmounted and the temp folder is removed (``keep``
keeps the folder for a post-mortem, never the daemon).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from compose_proof import apt, compose
from compose_proof.baseimage import BaseSpec, ensure_image
from compose_proof.checks import HostTests, copy_project, pipeline_tests, sha256_of, smoke
from compose_proof.engine import Engine, mounts_under
from lambda_harness import proc
from lambda_harness.errors import ContainerError, HarnessError
from lambda_harness.settings import load_settings
from lambda_harness.ui import UI, make_ui

logger = logging.getLogger(__name__)

PROJECT_NAME = "lhproof"
BUILD_TIMEOUT_S = 600.0
HEALTH_TIMEOUT_S = 180.0
ENGINE_TMPFS_SIZE = "8g"  # images (~0.6 GB here) and containers live in memory; pages only as used


@dataclass
class StepTimes:
    """Each step's wall time, in order, for the closing table."""

    ui: UI
    times: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            with self.ui.step(title):
                yield
        finally:
            self.times.append((title, time.monotonic() - start))

    def show(self) -> None:
        rows = [(title, f"{secs:.1f}s") for title, secs in self.times]
        rows.append(("total", f"{sum(s for _t, s in self.times):.1f}s"))
        self.ui.table("docker compose proof: step times", ["step", "time"], rows)


@dataclass
class ProofState:
    """What the proof made, so cleanup knows what to undo."""

    root: Path
    engine: Engine | None = None
    compose: compose.Compose | None = None
    host_sha: str = ""
    container_sha: str = ""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the endpoint binds it a few seconds later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP raise KeyboardInterrupt, so ``finally`` blocks clean up (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def compose_env(engine: Engine, base_image: str, port: int, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment docker-compose runs with: our engine, our base image, our port."""
    env = engine.env(environ)
    env["HARNESS_BASE_IMAGE"] = base_image
    env["LAMBDA_HARNESS_PORT"] = str(port)
    env.setdefault("LAMBDA_HARNESS_PYENV_ROOT", env.get("PYENV_ROOT") or str(Path.home() / ".pyenv"))
    # compose 1.29 builds through whatever `docker` CLI is first on PATH (28.x here, which warns
    # that its legacy builder is deprecated) and that child outlives an interrupted compose;
    # docker-py's build API, in compose's own process, does the same build.
    env["COMPOSE_DOCKER_CLI_BUILD"] = "0"
    env["DOCKER_BUILDKIT"] = "0"
    env.pop("COMPOSE_FILE", None)  # the proof's copy of docker-compose.yml, nothing else
    env.pop("COMPOSE_PROFILES", None)
    return env


def host_ca_bundle(environ: Mapping[str, str]) -> Path | None:
    """The CA bundle the host's own TLS clients use (pip and requests read these variables)."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if environ.get(name) and Path(environ[name]).is_file():
            return Path(environ[name])
    default = Path("/etc/ssl/certs/ca-certificates.crt")
    return default if default.is_file() else None


def host_build(project: Path, out: Path) -> str:
    """``lambda-harness build`` on the host, zip moved to ``out``; its sha256."""
    proc.run(
        [sys.executable, "-m", "lambda_harness", "build", "--project", str(project)],
        cwd=project,
        timeout=BUILD_TIMEOUT_S,
    )
    built = project / "dists.zip"
    if not built.is_file():
        raise ContainerError(f"{project}: lambda-harness build wrote no dists.zip at the top level")
    out.parent.mkdir(parents=True, exist_ok=True)
    built.replace(out)
    (project / "dists.zip.json").unlink(missing_ok=True)
    return sha256_of(out)


def run_proof(
    project_dir: Path,
    ui: UI,
    *,
    keep: bool = False,
    host_tests: HostTests | None = None,
    base_image: str | None = None,
    port: int | None = None,
    environ: Mapping[str, str] | None = None,
    work_parent: Path | None = None,
) -> int:
    """Prove the compose flow end to end; 0 when every step passed, else 1 (the error is reported).

    ``host_tests(endpoint_url, project)`` runs the real checks (apply + pytest)
    against the containerized endpoint; without it a smoke check runs.
    ``base_image`` skips debootstrap (e.g. a registry mirror of the SAM build image).
    ``work_parent`` is where the temp folder goes (default: the system's temp folder).
    """
    env = dict(os.environ if environ is None else environ)
    times = StepTimes(ui)
    state = ProofState(Path(tempfile.mkdtemp(prefix="lh-proof-", dir=work_parent)))
    code = 1
    with terminate_as_interrupt():
        try:
            _prove(
                project_dir.resolve(),
                state,
                times,
                environ=env,
                host_tests=host_tests,
                base_image=base_image,
                port=port,
            )
            code = 0
        except HarnessError as exc:
            ui.warn(f"docker compose proof failed: {exc}")
        except Exception as exc:  # a host check's own failure (botocore, pytest): still clean up
            logger.debug("docker compose proof failed", exc_info=True)
            ui.warn(f"docker compose proof failed: {type(exc).__name__}: {exc}")
        except KeyboardInterrupt:
            ui.warn("docker compose proof interrupted; cleaning up")
            code = 130
        finally:
            if not _cleanup(state, times, keep) and code == 0:
                code = 1
            times.show()
    return code


def _prove(
    project_dir: Path,
    state: ProofState,
    times: StepTimes,
    *,
    environ: Mapping[str, str],
    host_tests: HostTests | None,
    base_image: str | None,
    port: int | None,
) -> None:
    ui = times.ui
    with times.step("install docker.io, docker-compose, debootstrap (if missing)"):
        apt.ensure(apt.DOCKER_NEEDS, ui)
    project = state.root / "project"
    with times.step("copy the project"):
        copy_project(project_dir, project)
    with times.step("host: lambda-harness build"):
        state.host_sha = host_build(project, state.root / "host" / "dists.zip")
    with times.step("start a private dockerd"):
        state.engine = Engine(state.root / "engine", ui, tmpfs_size=ENGINE_TMPFS_SIZE)
        state.engine.start()
    if base_image is None:
        with times.step("base image (debootstrap bookworm, cached)"):
            cache_dir = load_settings(project_dir, environ=environ).cache_dir
            base_image = ensure_image(
                state.engine.client, BaseSpec(), cache_dir, ui, host_ca_bundle=host_ca_bundle(environ)
            )
    port = port or free_port()
    state.compose = compose.Compose(
        project,
        compose_env(state.engine, base_image, port, environ),
        PROJECT_NAME,
        profiles=(compose.EMBEDDED_PROFILE,),
        on_line=_appender(state.root / "compose.log"),
    )
    _compose_flow(state, times, port, host_tests)


def _appender(path: Path) -> Callable[[str], None]:
    """A line sink for compose output (the post-mortem log that ``--keep`` keeps)."""

    def append(line: str) -> None:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    return append


def _compose_flow(state: ProofState, times: StepTimes, port: int, host_tests: HostTests | None) -> None:
    assert state.compose is not None and state.engine is not None  # set by _prove
    ui, flow, client = times.ui, state.compose, state.engine.client
    services = [compose.BUILDER, compose.ENDPOINT]
    with times.step("compose build builder endpoint"):
        flow.build(services)
    with times.step(f"compose --profile embedded up -d builder endpoint (port {port})"):
        flow.up(services, build=False)  # built just above, timed on its own
    with times.step("builder: lambda-harness build in the container"):
        builder = flow.container(client, compose.BUILDER)
        status = compose.wait_exit(builder, BUILD_TIMEOUT_S)
        if status != 0:
            logs = builder.logs(tail=40).decode("utf-8", "replace")
            raise ContainerError(f"the builder service exited with {status}:\n{logs}")
    state.container_sha = sha256_of(flow.project_dir / "dists.zip")
    same = state.container_sha == state.host_sha
    ui.info(
        f"dists.zip sha256: container {state.container_sha}, host {state.host_sha}: "
        f"{'byte-identical' if same else 'DIFFERENT'}"
    )
    if not same:
        raise ContainerError(
            "the container-built dists.zip differs from the host build; "
            "compare the two dists.zip.json manifests (pip versions, zlib)"
        )
    with times.step("endpoint container healthy"):
        compose.wait_healthy(flow.container(client, compose.ENDPOINT), HEALTH_TIMEOUT_S)
    url = f"http://127.0.0.1:{port}"
    with times.step(f"host checks against {url}"):
        if host_tests is not None:
            host_tests(url, flow.project_dir)
        else:
            result = smoke(url, flow.project_dir)
            ui.info(
                f"smoke: buckets {', '.join(result.buckets)}; {result.function} ({result.handler}, "
                f"{result.runtime}) ran: {result.error_type or 'no error'}"
            )
    with times.step("compose down"):
        flow.down()
    state.compose = None  # down done: cleanup need not repeat it


def _cleanup(state: ProofState, times: StepTimes, keep: bool) -> bool:
    """Undo everything; True when nothing was left behind."""
    ui, clean = times.ui, True
    if state.compose is not None and state.engine is not None:
        try:
            with times.step("cleanup: compose down"):
                state.compose.down(timeout_s=5)
        except HarnessError as exc:
            ui.warn(f"compose down failed ({exc}); stopping the engine removes the containers")
    if state.engine is not None:
        with times.step("stop dockerd"):
            unmounted = state.engine.stop()
        if unmounted:
            ui.info(f"unmounted what dockerd left: {', '.join(map(str, unmounted))}")
    remaining = mounts_under(state.root, Path("/proc/self/mountinfo").read_text(encoding="utf-8"))
    if state.engine is not None:
        remaining += [m for m in state.engine.remaining_mounts() if m not in remaining]
    if remaining:
        clean = False
        ui.warn(f"still mounted, {state.root} left in place: {', '.join(map(str, remaining))}")
    elif keep:
        ui.info(f"kept {state.root} (project copy, dockerd.log)")
    else:
        shutil.rmtree(state.root, ignore_errors=True)
    if clean:
        ui.info("left behind: no daemon, no container, no mount")
    return clean


def main(argv: list[str] | None = None) -> int:
    """``python -m compose_proof.proof [--project DIR] [--keep] [--base-image IMG]``."""
    parser = argparse.ArgumentParser(prog="python -m compose_proof.proof", description=__doc__)
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="worker repo (default: cwd)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (never the daemon)")
    parser.add_argument("--base-image", help="skip debootstrap: a base image the engine can pull")
    parser.add_argument("--port", type=int, help="endpoint port (default: a free one)")
    parser.add_argument(
        "--smoke-only",
        action="store_true",
        help="host check: S3 + one function invoked, instead of apply + every event case",
    )
    args = parser.parse_args(argv)
    ui = make_ui()
    tests = None if args.smoke_only else pipeline_tests(ui)
    return run_proof(
        args.project, ui, keep=args.keep, base_image=args.base_image, port=args.port, host_tests=tests
    )


if __name__ == "__main__":
    sys.exit(main())
