"""``POST /_harness/retire``: loopback callers only, POST only, and only where the runtime can."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

from lambda_harness.endpoint.front import retire_route
from lambda_harness.endpoint.runtime.service import LambdaRuntime
from lambda_harness.endpoint.wsgi import Request
from lambda_harness.net import HARNESS_RETIRE


class FakeRuntime:
    def __init__(self) -> None:
        self.retired = 0

    def retire_all(self) -> int:
        self.retired += 1
        return 3


class FakeService:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime


def request(method: str = "POST", remote: str = "127.0.0.1") -> Request:
    environ = EnvironBuilder(path=HARNESS_RETIRE, method=method).get_environ()
    environ["REMOTE_ADDR"] = remote
    return Request(environ)


def call(req: Request, runtime: Any) -> tuple[int, dict[str, Any]]:
    response = retire_route(req, FakeService(runtime))  # type: ignore[arg-type]
    return response.status_code, json.loads(response.get_data())


def test_loopback_post_retires_every_environment() -> None:
    runtime = FakeRuntime()
    assert call(request(), runtime) == (200, {"retired": 3})
    assert call(request(remote="::1"), runtime)[0] == 200
    assert runtime.retired == 2


def test_another_host_is_refused_and_nothing_is_retired() -> None:
    runtime = FakeRuntime()
    status, body = call(request(remote="192.0.2.7"), runtime)
    assert status == 403 and "loopback callers only" in body["message"]
    assert runtime.retired == 0


def test_get_is_refused() -> None:
    runtime = FakeRuntime()
    assert call(request("GET"), runtime)[0] == 405 and runtime.retired == 0


def test_a_runtime_that_cannot_retire_says_so() -> None:
    assert call(request(), object())[0] == 501


class FakeEnv:
    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.last_used = 0.0
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed

    def start(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_runtime_retire_all_closes_idle_environments_and_never_reuses_busy_ones(tmp_path: Path) -> None:
    runtime = LambdaRuntime(cache_dir=tmp_path / "cache", work_dir=tmp_path / "work")
    key = ("f", "$LATEST")
    idle, _ = runtime.pool.lease(key, "fp", None, lambda: FakeEnv("fp"))
    busy, _ = runtime.pool.lease(key, "fp", None, lambda: FakeEnv("fp"))
    runtime.pool.release(key, idle, True)

    assert runtime.retire_all() == 1
    assert isinstance(idle, FakeEnv) and idle.closed
    runtime.pool.release(key, busy, True)  # its invocation ends after the retirement
    # The next lease comes with the new generation's fingerprint: the old environment is dropped.
    fresh, cold = runtime.pool.lease(key, "fp-g1", None, lambda: FakeEnv("fp-g1"))
    assert cold and fresh is not busy
    assert isinstance(busy, FakeEnv) and busy.closed
    runtime.shutdown()
