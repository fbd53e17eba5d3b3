"""Fixtures for the runtime's functional tests: real awslambdaric processes under CPython 3.12."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.endpoint.runtime import FunctionConfig, InterpreterFinder, LambdaRuntime
from lambda_harness.settings import default_cache_dir


def make_zip(files: dict[str, str | bytes]) -> bytes:
    """A deployment package (or layer) holding ``files``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def make_fn(files: dict[str, str | bytes], handler: str = "app.handler", **changes: Any) -> FunctionConfig:
    """A python3.12 function config around a zip built from ``files``."""
    code = make_zip(files)
    fn = FunctionConfig(
        name="fn_under_test",
        version="$LATEST",
        handler=handler,
        runtime="python3.12",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=3.0,
        environment={},
        code_sha256=code_sha256(code),
        code_zip=code,
        layers=(),
        region="eu-west-1",
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/fn-under-test-role",
        reserved_concurrency=None,
        endpoint_url="http://127.0.0.1:4599",
    )
    return replace(fn, **changes)


@pytest.fixture(scope="session")
def runtime_cache() -> Path:
    """The shared cache (runtime folders are installed once per machine, like the real CLI does)."""
    override = os.environ.get("LAMBDA_HARNESS_TEST_CACHE")
    return Path(override) if override else default_cache_dir(os.environ)


@pytest.fixture(scope="session")
def require_py312() -> None:
    if InterpreterFinder.from_environ(os.environ).find((3, 12)) is None:
        pytest.skip("CPython 3.12 is not installed (pyenv install 3.12)")


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


@pytest.fixture
def runtime_factory(
    runtime_cache: Path, tmp_path: Path, require_py312: None
) -> Iterator[Callable[..., LambdaRuntime]]:
    """Build runtimes that are shut down after the test, also when it fails."""
    made: list[LambdaRuntime] = []

    def factory(**kwargs: Any) -> LambdaRuntime:
        kwargs.setdefault("cache_dir", runtime_cache)
        kwargs.setdefault("work_dir", tmp_path / f"work{len(made)}")
        rt = LambdaRuntime(**kwargs)
        made.append(rt)
        return rt

    yield factory
    for rt in made:
        rt.shutdown()


@pytest.fixture
def runtime(runtime_factory: Callable[..., LambdaRuntime]) -> LambdaRuntime:
    return runtime_factory()


@pytest.fixture
def fn_maker() -> Callable[..., FunctionConfig]:
    """``make_fn(files, handler, **changes)`` as a fixture (test modules share no imports)."""
    return make_fn


@pytest.fixture
def zip_maker() -> Callable[[dict[str, str | bytes]], bytes]:
    return make_zip


@pytest.fixture
def process_gone() -> Callable[[int], bool]:
    """True once a pid no longer runs (absent or a zombie)."""
    return _gone
