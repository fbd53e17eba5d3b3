"""Concurrency, throttling, idle reclaim, interpreters and shutdown with real workers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambda_harness import net
from lambda_harness.endpoint.runtime import (
    FunctionConfig,
    InterpreterFinder,
    InterpreterNotFound,
    LambdaRuntime,
    ThrottledError,
)

MakeFn = Callable[..., FunctionConfig]

SRC = """
import os, time
def handler(event, context):
    deadline = time.monotonic() + 60
    while event.get("gate") and not os.path.exists(event["gate"]) and time.monotonic() < deadline:
        time.sleep(0.01)  # held until the test opens the gate
    time.sleep(event.get("sleep", 0))
    return {"n": event["n"], "pid": os.getpid()}
"""


@pytest.mark.slow
def test_fifty_parallel_invocations_are_all_answered(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": SRC})

    def call(n: int) -> dict[str, int]:
        result = runtime.invoke(fn, json.dumps({"n": n, "sleep": 0.2}).encode())
        assert result.function_error is None, result.payload
        body: dict[str, int] = json.loads(result.payload)
        return body

    with ThreadPoolExecutor(max_workers=50) as pool:
        bodies = list(pool.map(call, range(50)))
    assert [b["n"] for b in bodies] == list(range(50))
    assert len({b["pid"] for b in bodies}) > 1  # parallel calls got their own environments
    assert runtime.pool.size <= 50


def test_reserved_concurrency_throttles_like_aws(
    runtime: LambdaRuntime, fn_maker: MakeFn, tmp_path: Path
) -> None:
    fn = fn_maker({"app.py": SRC}, reserved_concurrency=1)
    runtime.prepare(fn)
    gate = tmp_path / "gate"
    results: list[object] = []

    def held() -> None:
        results.append(runtime.invoke(fn, json.dumps({"n": 1, "gate": str(gate)}).encode()))

    worker = threading.Thread(target=held)
    worker.start()
    try:
        net.wait_until(lambda: runtime.pool.size == 1, 30, what="the held call to take the only slot")
        with pytest.raises(ThrottledError) as info:
            runtime.invoke(fn, b'{"n": 2}')
        assert info.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        gate.touch()
        worker.join()
    assert len(results) == 1
    zero = fn_maker({"app.py": SRC}, reserved_concurrency=0)
    with pytest.raises(ThrottledError):
        runtime.invoke(zero, b'{"n": 3}')


def test_idle_environments_are_reclaimed_after_the_idle_timeout(
    runtime_factory: Callable[..., LambdaRuntime], fn_maker: MakeFn, process_gone: Callable[[int], bool]
) -> None:
    now = [1000.0]
    rt = runtime_factory(idle_timeout_s=60.0, clock=lambda: now[0])
    fn = fn_maker({"app.py": SRC})
    pid = json.loads(rt.invoke(fn, b'{"n": 1}').payload)["pid"]
    now[0] += 59
    assert rt.reap_idle() == 0
    now[0] += 2
    assert rt.reap_idle() == 1
    assert process_gone(pid)
    assert rt.invoke(fn, b'{"n": 2}').cold


def test_shutdown_leaves_no_process_behind(
    runtime: LambdaRuntime, fn_maker: MakeFn, process_gone: Callable[[int], bool]
) -> None:
    fn = fn_maker({"app.py": SRC})
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda n: runtime.invoke(fn, json.dumps({"n": n, "sleep": 0.3}).encode()), range(4))
        )
    pids = {json.loads(r.payload)["pid"] for r in results}
    assert pids and not any(process_gone(p) for p in pids)
    runtime.shutdown()
    runtime.shutdown()  # idempotent
    assert all(process_gone(p) for p in pids)


def test_missing_interpreter_names_the_function_and_the_fix(
    runtime_factory: Callable[..., LambdaRuntime], fn_maker: MakeFn, tmp_path: Path
) -> None:
    empty = InterpreterFinder(path_env=str(tmp_path), pyenv_root=tmp_path / "nopyenv", system_dirs=())
    rt = runtime_factory(interpreters=empty)
    fn = fn_maker({"app.py": SRC}, name="risk_ingest")
    with pytest.raises(InterpreterNotFound) as info:
        rt.invoke(fn, b'{"n": 1}')
    text = str(info.value)
    assert "function risk_ingest declares runtime python3.12 but no CPython 3.12 was found" in text
    assert "pyenv install 3.12" in text


@pytest.mark.slow
def test_runtime_fallback_runs_under_the_nearest_version_with_a_warning(
    runtime_factory: Callable[..., LambdaRuntime], fn_maker: MakeFn, tmp_path: Path
) -> None:
    pyenv_root = Path(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))
    finder = InterpreterFinder(path_env="", pyenv_root=pyenv_root, system_dirs=())
    if finder.find((3, 13)) is None or finder.find((3, 14)) is not None:
        pytest.skip("needs CPython 3.13 and no 3.14 in pyenv")
    src = "import sys\ndef handler(e, c):\n    return list(sys.version_info[:2])\n"
    fn = fn_maker({"app.py": src}, runtime="python3.14")
    strict = runtime_factory(interpreters=finder)
    with pytest.raises(
        InterpreterNotFound, match=r"LAMBDA_HARNESS_ALLOW_RUNTIME_FALLBACK=1 to run it under 3\.13"
    ):
        strict.invoke(fn, b"{}")
    lenient = runtime_factory(interpreters=finder, allow_runtime_fallback=True)
    result = lenient.invoke(fn, b"{}")
    assert json.loads(result.payload) == [3, 13]
    assert result.log.startswith("INIT_START Runtime Version: python:3.13.")
    assert "running it under CPython 3.13" in result.log.splitlines()[1]
