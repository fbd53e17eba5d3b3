"""The Lambda execution half of the embedded endpoint: handlers in real processes under awslambdaric.

Public API: ``make_runtime`` (the one way to build the runtime from a run's settings),
``LambdaRuntime``, ``FunctionConfig``, ``InvokeResult``, ``ThrottledError``,
``InterpreterNotFound``. Knows nothing of moto or of AWS's invocation types
(``endpoint.invoke`` adds those).

May import: core modules only (not the rest of ``endpoint``).
"""

from lambda_harness.endpoint.runtime.interpreters import Interpreter, InterpreterFinder
from lambda_harness.endpoint.runtime.model import (
    SUPPORTED_RUNTIMES,
    FunctionConfig,
    InterpreterNotFound,
    InvokeResult,
    ThrottledError,
)
from lambda_harness.endpoint.runtime.service import LambdaRuntime, make_runtime

__all__ = [
    "SUPPORTED_RUNTIMES",
    "FunctionConfig",
    "Interpreter",
    "InterpreterFinder",
    "InterpreterNotFound",
    "InvokeResult",
    "LambdaRuntime",
    "ThrottledError",
    "make_runtime",
]
