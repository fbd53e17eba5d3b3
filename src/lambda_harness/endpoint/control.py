"""Running the endpoint: in the foreground, detached in the background, and poking it.

``lambda-harness up`` -> ``serve_foreground``; ``up --detach`` -> ``start_detached``
(a ``python -m lambda_harness up`` child, recorded with its start time by ``pidfile``,
logging to ``.harness/endpoint.log``); ``down`` -> ``stop_detached`` (signals that
process only); ``trigger`` -> ``trigger``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lambda_harness import net, proc
from lambda_harness.endpoint import pidfile
from lambda_harness.endpoint.ports import bind
from lambda_harness.errors import EndpointError
from lambda_harness.fsutil import open_private_log
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

#: Endpoints this process started: kept so they are reaped (and not reported as leaked) when stopped.
_children: dict[int, subprocess.Popen[bytes]] = {}


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt in the main thread, however we were started."""
    # `down` sends SIGINT first, a service manager SIGTERM: both shut down cleanly.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    # A shell's `cmd &` starts us with SIGINT ignored; `down` and Ctrl-C must still work.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def serve_foreground(settings: Settings, ui: UI, *, stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM, or ``stop`` set); then stop the server and every worker."""
    from lambda_harness.endpoint.runtime import make_runtime
    from lambda_harness.endpoint.server import EmbeddedEndpoint

    stop = stop or threading.Event()
    runtime = make_runtime(settings, ui)
    try:
        with signals_as_interrupt(), EmbeddedEndpoint(settings, runtime, ui) as endpoint:
            ui.info(
                f"AWS endpoint on {endpoint.url}  (AWS_ENDPOINT_URL={endpoint.url}; "
                f"function roles: iam = {settings.iam}; Ctrl-C stops it)"
            )
            ui.info(api_urls_hint(endpoint.url))
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                ui.info("stopping the endpoint ...")
    finally:
        runtime.shutdown()


def api_urls_hint(url: str) -> str:
    """Where the endpoint serves API Gateway APIs (printed by ``up``)."""
    port = url.rsplit(":", 1)[-1]
    return (
        f"API Gateway APIs: {url}/_harness/apigw/<api-id>/<stage>/... or "
        f"http://<api-id>.execute-api.localhost:{port}/<stage>/... (list: {url}/_harness/apigw)"
    )


def wait_healthy(
    url: str,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    alive: Callable[[], bool] = lambda: True,
    probe: Callable[[str], str | None] = net.harness_health,
) -> None:
    """Return once the endpoint at ``url`` is healthy; EndpointError after ``timeout`` seconds."""
    problem: list[str | None] = [None]

    def healthy() -> bool:
        problem[0] = probe(url)
        if problem[0] is None:
            return True
        if not alive():
            raise EndpointError(f"the endpoint process exited before {url} became healthy")
        return False

    net.wait_until(
        healthy,
        timeout,
        what=f"{url} to become healthy",
        clock=clock,
        sleep=sleep,
        on_timeout=lambda: EndpointError(
            f"the endpoint at {url} was not healthy after {timeout:.0f}s ({problem[0]})"
        ),
    )


def down_command(settings: Settings, cwd: Path | None = None) -> str:
    """The ``lambda-harness down`` line that finds this endpoint's pid file from where the user is."""
    here = (cwd or Path.cwd()).resolve()
    if settings.project_dir == here:
        return "lambda-harness down"
    return f"lambda-harness down --project {settings.project_dir}"


def start_detached(settings: Settings, *, timeout: float = 60.0) -> int:
    """Start ``python -m lambda_harness up`` in the background; its pid once it is healthy."""
    running = pidfile.read(settings.paths)
    if running is not None and running.stamp is not None and pidfile.is_running(running.stamp):
        where = f"pid {running.pid}, {running.info.get('url')}"
        raise EndpointError(
            f"an endpoint is already running in the background ({where}); "
            f"stop it with: {down_command(settings)}"
        )
    net.require_loopback(
        settings.host, source=settings.source_of("host"), allowed=settings.allow_non_loopback
    )
    bind(settings.host, settings.port).close()  # fail here, with the clear message, if the port is taken
    settings.paths.ensure()
    log_path = settings.paths.endpoint_log
    argv = [
        sys.executable,
        "-m",
        "lambda_harness",
        "up",
        "--project",
        str(settings.project_dir),
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--iam",
        settings.iam,
        "--filesystem",
        settings.filesystem,
    ]
    if settings.allow_non_loopback:  # the user's opt-in, passed on as a flag (never via a file)
        argv.append(net.ALLOW_FLAG)
    # Never the host's AWS identity (moto's session would trip over a profile), never the proxy.
    env = {**proc.without_aws(os.environ), "PYTHONUNBUFFERED": "1", **net.no_proxy_env(os.environ)}
    log = open_private_log(log_path)
    try:
        child = proc.spawn(argv, cwd=settings.project_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        os.close(log)
    _children[child.pid] = child
    # Our child, not reaped yet: its pid cannot belong to another process while we read its stamp.
    stamp = pidfile.stamp_of(child.pid)
    pidfile.write(settings.paths, stamp, child.pid, url=settings.endpoint_url, log=str(log_path))
    try:
        wait_healthy(settings.endpoint_url, timeout, alive=lambda: child.poll() is None)
    except EndpointError as exc:
        proc.stop(child)
        _children.pop(child.pid, None)
        pidfile.forget(settings.paths)
        raise EndpointError(f"{exc}\n--- {log_path} ---\n{_tail(log_path)}") from None
    return child.pid


#: Where settings.source_of("port") says the port came from when it is the recorded endpoint's.
RECORDED_SOURCE = "this project's detached endpoint (.harness/endpoint.json)"


def project_endpoint(settings: Settings) -> Settings | None:
    """The settings pointed at this project's detached endpoint (``up --detach``), or None.

    Only when no port was chosen (no ``--port``, ``LAMBDA_HARNESS_PORT`` or pyproject ``port``:
    an explicit port always wins), the backend is the embedded endpoint, the record names a
    process that still runs (pid, boot and start time all match) and the endpoint it recorded
    answers its health route on the same host. A stale record is ignored (``down`` removes it).
    """
    if settings.source_of("port") != "the default" or settings.backend != "embedded":
        return None
    record = pidfile.read(settings.paths)
    if record is None or record.stamp is None or not pidfile.is_running(record.stamp):
        return None
    parts = urllib.parse.urlsplit(str(record.info.get("url") or ""))
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None or parts.hostname != settings.host or port == settings.port:
        return None
    if net.harness_health(f"http://{settings.host}:{port}") is not None:
        return None
    return settings.with_(port=port, sources={**settings.sources, "port": RECORDED_SOURCE})


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_gone(stamp: pidfile.ProcessStamp, timeout: float) -> bool:
    def gone() -> bool:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(stamp.pid, os.WNOHANG)  # reap it when it is our own child (tests, scripts)
        return not pidfile.is_running(stamp)

    try:
        net.wait_until(gone, timeout, what=f"process {stamp.pid} to exit", interval=0.05)
    except net.WaitTimeout:
        return False
    return True


def stop_detached(settings: Settings, *, grace: float = 10.0) -> bool:
    """Stop the endpoint the pid file names (SIGINT, then TERM, then KILL); False if none ran.

    Only the very process ``start_detached`` started is signalled: the record's pid,
    boot and start time must all match a running process (``pidfile``). A stale or
    unverifiable record names no one; it is removed and nothing is signalled.
    """
    record = pidfile.read(settings.paths)
    if record is None:
        return False
    stamp = record.stamp
    running = stamp is not None and pidfile.is_running(stamp)
    child = _children.pop(stamp.pid, None) if stamp is not None else None
    if child is not None:  # started by this process and not reaped: the pid is still its
        proc.stop(child, grace=grace)
    elif running and stamp is not None:
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if not pidfile.send_signal(stamp, sig) or _wait_gone(stamp, wait):
                break
    pidfile.forget(settings.paths)
    return running


def trigger(settings: Settings, rule: str, *, bus: str | None = None) -> list[str]:
    """Fire EventBridge rule ``rule`` on the running endpoint; the functions it delivered to."""
    url = f"{settings.endpoint_url}/_harness/trigger/{urllib.parse.quote(rule, safe='')}"
    if bus:
        url += f"?bus={urllib.parse.quote(bus)}"
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - loopback URL
    try:
        with net.open_url(request, timeout=30) as resp:
            answer = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise EndpointError(
                f"rule {rule} does not exist on {settings.endpoint_url}; list rules with "
                f"`aws --endpoint-url {settings.endpoint_url} events list-rules`"
            ) from None
        raise EndpointError(f"trigger {rule}: {settings.endpoint_url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise EndpointError(
            f"no endpoint answers at {settings.endpoint_url} ({getattr(exc, 'reason', exc)}); "
            "start it with: lambda-harness up"
        ) from None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise EndpointError(
            f"trigger {rule}: {settings.endpoint_url} did not answer like a lambda-harness endpoint "
            "(LocalStack has no /_harness/trigger); fire the rule there with `aws events put-events` "
            "or point --port at `lambda-harness up`"
        )
    return [str(name) for name in answer.get("delivered", [])]


def _coverage_call(settings_url: str, method: str, body: dict[str, Any] | None, timeout: float) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback URL
        f"{settings_url}/_harness/coverage",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with net.open_url(request, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 501):
            raise EndpointError(
                f"the endpoint at {settings_url} cannot measure coverage (HTTP {exc.code}): coverage runs "
                "inside the embedded endpoint's execution environments; LocalStack's are Docker "
                "containers. Run with --backend embedded, or without --coverage"
            ) from None
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise EndpointError(f"{method} {settings_url}/_harness/coverage: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EndpointError(
            f"{method} {settings_url}/_harness/coverage failed ({getattr(exc, 'reason', exc)})"
        ) from None


def start_coverage(endpoint_url: str, data_dir: Path, sources: list[str], *, branch: bool = False) -> Path:
    """Measure coverage of ``sources`` (zip-root names) in the endpoint's new environments; the code root.

    ``branch``: line and branch coverage (coverage.py's C tracer before Python 3.14), else
    line coverage only (sys.monitoring on Python 3.12+, several times cheaper).
    """
    body = {"data_dir": str(data_dir), "sources": sources, "branch": branch}
    answer = _coverage_call(endpoint_url, "POST", body, 60)
    return Path(str(answer["code_root"]))


def stop_coverage(endpoint_url: str) -> dict[str, Any]:
    """Stop measuring once every environment has saved its data: ``{"saved", "unsaved"}``."""
    answer = _coverage_call(endpoint_url, "DELETE", None, 90)
    return dict(answer) if isinstance(answer, dict) else {}
