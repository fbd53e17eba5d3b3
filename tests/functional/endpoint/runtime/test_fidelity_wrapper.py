"""Fidelity 2: ``AWS_LAMBDA_EXEC_WRAPPER`` runs as AWS's bootstrap runs it (real workers).

Oracle: AWS's python bootstrap (runtimes-modify page: the wrapper gets the interpreter and
AWS's original arguments) and the recorded test_lambda_runtime_wrapper_not_found (python3.12):
a missing wrapper is ``Runtime.ExitError`` ``... exit status 127``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime

MakeFn = Callable[..., FunctionConfig]

APP = """
import os, sys
def handler(event, context):
    private = [k for k in os.environ if k.startswith("_LAMBDA")]
    return {"wrapped": os.environ.get("WRAPPED"), "private": private}
"""
#: A wrapper as layers write them: export something, then run what AWS passed ("$@").
WRAPPER = '#!/bin/sh\nexport WRAPPED="yes-$#"\nexec "$@"\n'


def zip_with_modes(files: dict[str, tuple[str, int]]) -> bytes:
    """A zip whose entries carry Unix modes (Lambda keeps them when it extracts)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, text)
    return buf.getvalue()


def function(
    fn_maker: MakeFn, wrapper: str, files: dict[str, tuple[str, int]], **changes: Any
) -> FunctionConfig:
    fn = fn_maker({"app.py": APP}, environment={"AWS_LAMBDA_EXEC_WRAPPER": wrapper}, **changes)
    code = zip_with_modes({"app.py": (APP, 0o644), **files})
    return replace(fn, code_zip=code, code_sha256=base64.b64encode(hashlib.sha256(code).digest()).decode())


def test_wrapper_in_the_package_runs_with_awss_two_arguments(
    runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    fn = function(fn_maker, "/var/task/wrap.sh", {"wrap.sh": (WRAPPER, 0o755)})
    result = runtime.invoke(fn, b"{}")
    assert result.function_error is None, result.payload
    # "$#" is 2: the interpreter and the bootstrap, nothing else; no private variable leaks.
    assert json.loads(result.payload) == {"wrapped": "yes-2", "private": []}


def test_wrapper_in_a_layer_at_opt(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    layer = zip_with_modes({"wrapper": (WRAPPER, 0o755)})
    fn = function(fn_maker, "/opt/wrapper", {}, layers=(layer,))
    result = runtime.invoke(fn, b"{}")
    assert json.loads(result.payload)["wrapped"] == "yes-2"


def test_missing_wrapper_is_exit_status_127(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = function(fn_maker, "/idontexist.sh", {})
    result = runtime.invoke(fn, b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 127",
    }
    lines = result.log.splitlines()
    assert "/idontexist.sh: does not exist" in lines
    init_report = next(line for line in lines if line.startswith("INIT_REPORT"))
    assert init_report.endswith("Phase: init\tStatus: error\tError Type: Runtime.ExitError")
    assert lines.index(init_report) < next(i for i, line in enumerate(lines) if line.startswith("START"))


def test_wrapper_without_the_execute_bit_is_exit_status_126(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    layer = zip_with_modes({"wrapper": (WRAPPER, 0o644)})  # zipped without +x, as happens
    fn = function(fn_maker, "/opt/wrapper", {}, layers=(layer,))
    result = runtime.invoke(fn, b"{}")
    assert json.loads(result.payload)["errorMessage"].endswith("Runtime exited with error: exit status 126")
    assert "/opt/wrapper: is not an executable" in result.log.splitlines()
