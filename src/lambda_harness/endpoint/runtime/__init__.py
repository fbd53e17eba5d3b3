"""The Lambda execution half of the emulator: handlers in real processes under awslambdaric.

Public API (see INTERFACES.md "EmbeddedEndpoint runtime"): ``LambdaRuntime``, ``FunctionConfig``,
``InvokeResult``, ``ThrottledError``, ``InterpreterNotFound``.
"""

from lambda_harness.endpoint.runtime.interpreters import Interpreter, InterpreterFinder
from lambda_harness.endpoint.runtime.model import (
    SUPPORTED_RUNTIMES,
    FunctionConfig,
    InterpreterNotFound,
    InvokeResult,
    ThrottledError,
)
from lambda_harness.endpoint.runtime.service import LambdaRuntime

__all__ = [
    "SUPPORTED_RUNTIMES",
    "FunctionConfig",
    "Interpreter",
    "InterpreterFinder",
    "InterpreterNotFound",
    "InvokeResult",
    "LambdaRuntime",
    "ThrottledError",
]
