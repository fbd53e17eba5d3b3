"""From moto's Lambda model to what our runtime runs: lookup and ``FunctionConfig``.

moto keeps a function's package bytes in ``code_bytes`` for both ``ZipFile`` and
S3 uploads (read from the bucket when the function is created or updated), and a
layer version's bytes in its own ``code_bytes``.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import lambda_backends

from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.errors import EndpointError

#: moto's model class; typed loosely because moto ships no type information we check against.
MotoFunction = Any


def lambda_backend(account_id: str, region: str) -> Any:
    """moto's Lambda backend for one account and region."""
    return lambda_backends[account_id][region]


def find_function(
    account_id: str, region: str, name_or_arn: str, qualifier: str | None = None
) -> MotoFunction:
    """The function version to run; raises moto's ResourceNotFoundException (an AWS-shaped error).

    An ARN names its own account and region, which win over the caller's.
    """
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) >= 7:
            region, account_id = parts[3], parts[4]
    if qualifier and ":" not in name_or_arn.rsplit("function:", maxsplit=1)[-1]:
        name_or_arn = f"{name_or_arn}:{qualifier}"
    return lambda_backend(account_id, region).get_function(name_or_arn)


def function_config(fn: MotoFunction, endpoint_url: str) -> FunctionConfig:
    """Snapshot of one moto function version for the runtime."""
    name = fn.function_name
    code = bytes(fn.code_bytes or b"")
    if not code:
        raise EndpointError(
            f"function {name}: the endpoint holds no code for it (package type {fn.package_type!r}); "
            "upload a zip (filename or s3_bucket/s3_key): container images are not run by lambda-harness"
        )
    backend = lambda_backend(fn.account_id, fn.region)
    return FunctionConfig(
        name=name,
        version=str(fn.version),
        handler=str(fn.handler),
        runtime=str(fn.run_time),
        architecture=fn.architectures[0] if fn.architectures else "x86_64",
        memory_mb=int(fn.memory_size),
        timeout_s=float(fn.timeout),
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        code_sha256=str(fn.code_sha_256),
        code_zip=code,
        layers=tuple(_layer_bytes(backend, name, layer["Arn"]) for layer in fn.layers or ()),
        region=fn.region,
        account_id=fn.account_id,
        role_arn=str(fn.role),
        reserved_concurrency=_reserved_concurrency(backend, name),
        endpoint_url=endpoint_url,
    )


def _layer_bytes(backend: Any, function_name: str, arn: str) -> bytes:
    layer = backend.layers_versions_by_arn(arn)
    data = getattr(layer, "code_bytes", b"") if layer is not None else b""
    if not data:
        raise EndpointError(
            f"function {function_name}: layer {arn} has no content on the endpoint; publish it again"
        )
    return bytes(data)


def _reserved_concurrency(backend: Any, name: str) -> int | None:
    # Reserved concurrency belongs to the function, not a version: read it from $LATEST.
    value = backend.get_function(name).reserved_concurrency
    return None if value in (None, "") else int(value)
