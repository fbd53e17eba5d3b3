"""Fidelity 5: the worker's environment is the one AWS gives a python3.12 function.

Oracle: support.recorded.PYTHON312_ENVIRONMENT (recorded on AWS, 2026-01-12). The harness
adds exactly one variable, AWS_ENDPOINT_URL; _X_AMZN_TRACE_ID is set per invocation by
awslambdaric from the Runtime API's trace header, so ``build_env`` does not hold it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lambda_harness.endpoint.runtime.env import Paths, build_env
from lambda_harness.endpoint.runtime.model import FunctionConfig
from support.recorded import LAYOUT, PER_FUNCTION, PYTHON312_ENVIRONMENT

FN = FunctionConfig(
    name="fn",
    version="$LATEST",
    handler="handler.handler",
    runtime="python3.12",
    architecture="x86_64",
    memory_mb=1024,
    timeout_s=3.0,
    environment={"TEST_KEY": "TEST_VAL"},
    code_sha256="x",
    code_zip=b"",
    layers=(),
    region="us-east-1",
    account_id="111111111111",
    role_arn="arn:aws:iam::111111111111:role/r",
    reserved_concurrency=None,
    endpoint_url="http://127.0.0.1:4566",
)
HOST = Paths(
    task_root=Path("/w/code/abc"),
    opt_dir=Path("/w/opt/def"),
    runtime_dir=Path("/c/runtimes/python3.12-x86_64"),
    interpreter=Path("/py/3.12.1/bin/python3.12"),
    python_version=(3, 12),
)
AWS = replace(HOST, view="aws")


def env_of(paths: Paths, **variables: str) -> dict[str, str]:
    fn = replace(FN, environment={"TEST_KEY": "TEST_VAL", **variables})
    return build_env(fn, paths, api_address="127.0.0.1:40001", log_stream="2026/01/12/[$LATEST]ab")


@pytest.mark.parametrize("paths", [AWS, HOST], ids=["aws", "host"])
def test_the_key_set_is_awss_plus_the_endpoint_url(paths: Paths) -> None:
    expected = set(PYTHON312_ENVIRONMENT) - {"_X_AMZN_TRACE_ID"} | {"AWS_ENDPOINT_URL"}
    assert set(env_of(paths)) == expected


@pytest.mark.parametrize("paths", [AWS, HOST], ids=["aws", "host"])
def test_values_that_do_not_depend_on_the_layout_are_awss(paths: Paths) -> None:
    env = env_of(paths)
    same = set(PYTHON312_ENVIRONMENT) - PER_FUNCTION - LAYOUT
    assert {k: env[k] for k in same} == {k: PYTHON312_ENVIRONMENT[k] for k in same}


def test_with_awss_layout_the_paths_are_awss_strings() -> None:
    env = env_of(AWS)
    # PYTHONPATH starts as the runtime folder's real path; bootstrap.py leaves it as AWS's.
    for key in LAYOUT - {"PYTHONPATH"}:
        assert env[key] == PYTHON312_ENVIRONMENT[key], key


def test_with_host_paths_the_shape_is_kept() -> None:
    env = env_of(HOST)
    assert env["PATH"] == "/py/3.12.1/bin:/usr/local/bin:/usr/bin/:/bin:/w/opt/def/bin"
    assert env["LD_LIBRARY_PATH"] == (
        "/py/3.12.1/lib:/lib64:/usr/lib64:/c/runtimes/python3.12-x86_64:/c/runtimes/python3.12-x86_64/lib"
        ":/w/code/abc:/w/code/abc/lib:/w/opt/def/lib"
    )
    assert env["PWD"] == env["LAMBDA_TASK_ROOT"] == "/w/code/abc"


def test_unreserved_defaults_yield_to_the_function() -> None:
    env = env_of(AWS, AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR", LANG="C.UTF-8")
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "IGNORE_ERROR" and env["LANG"] == "C.UTF-8"
    assert env_of(AWS, PYTHONPATH="/var/task/vendor")["PYTHONPATH"].startswith("/var/task/vendor:")
