"""What the runtime is given (``FunctionConfig``) and what it answers (``InvokeResult``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from lambda_harness.endpoint.runtime.output import LogEvent
from lambda_harness.errors import EndpointError

#: Lambda's Python runtimes the embedded endpoint runs (identifier -> CPython version).
SUPPORTED_RUNTIMES: dict[str, tuple[int, int]] = {f"python3.{minor}": (3, minor) for minor in range(9, 15)}

#: Lambda gives the init phase 10 s (on-demand functions) before it gives up on it.
INIT_LIMIT_S = 10.0

#: Lambda refuses a synchronous response larger than this (bytes) with Function.ResponseSizeTooLarge.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


@dataclass(frozen=True)
class FunctionConfig:
    """One function version as the runtime needs it (agreed in INTERFACES.md)."""

    name: str
    version: str
    handler: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_s: float
    environment: Mapping[str, str]
    code_sha256: str
    code_zip: bytes
    layers: tuple[bytes, ...]
    region: str
    account_id: str
    role_arn: str
    reserved_concurrency: int | None
    endpoint_url: str
    ephemeral_mb: int = 512  # EphemeralStorage: the size of the function's private /tmp

    @property
    def arn(self) -> str:
        """The invoked function ARN (qualified unless ``$LATEST``)."""
        base = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"
        return base if self.version == "$LATEST" else f"{base}:{self.version}"


@dataclass(frozen=True)
class InvokeResult:
    """The outcome of one invocation; a handler's failure is a result, not an exception.

    ``events`` are the CloudWatch Logs events the invocation added to its environment's
    stream ``log_stream`` (``log`` is their text, what ``LogType=Tail`` shows the end of).
    """

    request_id: str
    payload: bytes
    function_error: str | None
    error_type: str | None
    log: str
    duration_ms: float
    billed_ms: int
    init_ms: float | None
    max_memory_mb: int
    cold: bool
    events: tuple[LogEvent, ...] = ()
    log_stream: str = ""


class ExecutionEnvironment(Protocol):
    """What a credential source may ask of an execution environment (a worker)."""

    @property
    def environment_id(self) -> str:
        """Unique for the life of the endpoint."""
        ...

    @property
    def current_request_id(self) -> str | None:
        """The invocation it runs now, or ran last (None before its first)."""
        ...


class CredentialSource(Protocol):
    """Issues each execution environment its function's credentials, as Lambda does.

    The endpoint's IAM layer implements it (``endpoint.iam.credentials``): one role
    session per environment, forgotten when the environment closes.
    """

    def issue(self, fn: FunctionConfig, environment: ExecutionEnvironment) -> Mapping[str, str]:
        """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` for ``fn``."""
        ...

    def forget(self, environment: ExecutionEnvironment) -> None:
        """The environment is gone: its session ends."""
        ...


class ThrottledError(EndpointError):
    """No execution environment may take the invocation (AWS: 429 TooManyRequestsException).

    ``reason`` is AWS's ``Reason`` field: ``ReservedFunctionConcurrentInvocationLimitExceeded``
    or ``ConcurrentInvocationLimitExceeded``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InterpreterNotFound(EndpointError):
    """No CPython matching the function's runtime is installed (and fallback is off)."""


def python_version_of(fn_name: str, runtime: str) -> tuple[int, int]:
    """``python3.12`` -> ``(3, 12)``, or an error naming the function and the supported runtimes."""
    try:
        return SUPPORTED_RUNTIMES[runtime]
    except KeyError:
        raise EndpointError(
            f"function {fn_name} declares runtime {runtime!r}, which lambda-harness cannot run; "
            f"supported: {', '.join(SUPPORTED_RUNTIMES)}"
        ) from None


def fingerprint(fn: FunctionConfig, layer_digests: tuple[str, ...]) -> str:
    """Everything that makes an execution environment reusable; a change retires old ones."""
    # repr of a tuple of plain values, not json.dumps: this runs on every invocation (a profile of
    # the warm path had json.dumps at 7% of the endpoint's CPU); it is compared in this process only.
    data = (
        fn.name,
        fn.version,
        fn.handler,
        fn.runtime,
        fn.architecture,
        fn.memory_mb,
        fn.timeout_s,
        tuple(sorted(fn.environment.items())),
        fn.code_sha256,
        layer_digests,
        fn.region,
        fn.account_id,
        fn.role_arn,
        fn.endpoint_url,
        fn.ephemeral_mb,
    )
    return hashlib.sha256(repr(data).encode()).hexdigest()[:24]
