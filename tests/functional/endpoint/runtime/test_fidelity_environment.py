"""Fidelity 5: what a real handler sees in ``os.environ`` and ``sys.path``, against AWS's recording."""

from __future__ import annotations

import json
from collections.abc import Callable

from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime
from support.recorded import LAYOUT, PER_FUNCTION, PYTHON312_ENVIRONMENT

MakeFn = Callable[..., FunctionConfig]

DUMP = """
import os, sys
def handler(event, context):
    return {"env": dict(os.environ), "path": sys.path, "cwd": os.getcwd()}
"""


def test_environment_matches_awss_recording(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"handler.py": DUMP}, handler="handler.handler", environment={"TEST_KEY": "TEST_VAL"})
    result = runtime.invoke(fn, b"{}")
    seen = json.loads(result.payload)
    env = seen["env"]
    assert set(env) == set(PYTHON312_ENVIRONMENT) | {"AWS_ENDPOINT_URL"}
    same = set(PYTHON312_ENVIRONMENT) - PER_FUNCTION - LAYOUT
    assert {k: env[k] for k in same} == {k: PYTHON312_ENVIRONMENT[k] for k in same}
    # The layout-dependent values keep AWS's relations whatever the filesystem mode.
    assert env["PWD"] == env["LAMBDA_TASK_ROOT"] == seen["cwd"] == seen["path"][0]
    assert env["PYTHONPATH"] == env["LAMBDA_RUNTIME_DIR"] in seen["path"]
    assert env["PATH"].split(":")[1:4] == ["/usr/local/bin", "/usr/bin/", "/bin"]


def test_a_functions_own_pythonpath_is_kept_verbatim(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"handler.py": DUMP}, handler="handler.handler", environment={"PYTHONPATH": "/x/vendor"})
    seen = json.loads(runtime.invoke(fn, b"{}").payload)
    assert seen["env"]["PYTHONPATH"] == "/x/vendor"
    assert "/x/vendor" in seen["path"]
