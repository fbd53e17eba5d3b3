"""From moto's Lambda model to what our runtime runs: lookup and ``FunctionConfig``.

``resolve`` turns what a caller named (a name, a partial or full ARN, with or
without a qualifier) into a ``Target``: the version moto runs and the ARN the
caller invoked, which is what ``context.invoked_function_arn`` shows on AWS
(``...:function:fn:live`` for an alias, ``...:fn:$LATEST`` when asked for, the
bare ARN when unqualified), while ``X-Amz-Executed-Version`` names the version.

moto keeps a function's package bytes in ``code_bytes`` for both ``ZipFile`` and
S3 uploads (read from the bucket when the function is created or updated), and a
layer version's bytes in its own ``code_bytes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, UnknownFunctionException
from moto.awslambda.models import lambda_backends

from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.errors import EndpointError

#: moto's model class; typed loosely because moto ships no type information we check against.
MotoFunction = Any

_FULL_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:(?P<rest>.+)$"
)
_PARTIAL_ARN = re.compile(r"^(?P<account>\d{12}):function:(?P<rest>.+)$")
#: AWS's answer when ``name:q`` (or an ARN with ``:q``) and ``Qualifier`` disagree.
QUALIFIER_MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."


@dataclass(frozen=True)
class FunctionRef:
    """What a caller named: account and region (when an ARN said so), name and qualifier."""

    name: str
    qualifier: str | None = None
    account_id: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Target:
    """The version to run and the ARN the caller invoked it by (``context.invoked_function_arn``)."""

    fn: MotoFunction
    invoked_arn: str

    @classmethod
    def of(cls, fn: MotoFunction) -> Target:
        """A version invoked by its own ARN (unqualified for ``$LATEST``), e.g. by moto's own callers."""
        return cls(fn, str(fn.function_arn))

    @property
    def qualifier(self) -> str | None:
        """The qualifier the caller used (alias, version or ``$LATEST``), None when unqualified."""
        rest = self.invoked_arn.split(":function:", 1)[-1]
        return rest.split(":", 1)[1] if ":" in rest else None


def parse_ref(name_or_arn: str, qualifier: str | None = None) -> FunctionRef:
    """Split a FunctionName (name, ``name:q``, partial or full ARN) and an optional ``Qualifier``.

    Raises moto's ``InvalidParameterValueException`` when both carry a qualifier and they differ.
    """
    account = region = None
    rest = name_or_arn
    full = _FULL_ARN.match(name_or_arn)
    partial = None if full else _PARTIAL_ARN.match(name_or_arn)
    if full:
        account, region, rest = full["account"], full["region"], full["rest"]
    elif partial:
        account, rest = partial["account"], partial["rest"]
    name, _, derived = rest.partition(":")
    if derived and qualifier and derived != qualifier:
        raise InvalidParameterValueException(QUALIFIER_MISMATCH)
    return FunctionRef(name, derived or qualifier or None, account, region)


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    """``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]``."""
    base = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def resolve(account_id: str, region: str, name_or_arn: str, qualifier: str | None = None) -> Target:
    """The version to run for an invocation, and the ARN it was invoked by.

    An ARN names its own account and region, which win over the caller's. Raises
    moto's AWS-shaped errors: ``ResourceNotFoundException`` (404; an unqualified miss
    names ``...:$LATEST``, as Invoke does on AWS; ``$latest`` in any other spelling
    than ``$LATEST`` is a miss too) or ``InvalidParameterValueException``.
    """
    ref = parse_ref(name_or_arn, qualifier)
    account_id, region = ref.account_id or account_id, ref.region or region
    backend = lambda_backend(account_id, region)
    q = ref.qualifier
    if q is not None and q.lower() == "$latest" and q != "$LATEST":
        raise UnknownFunctionException(function_arn(region, account_id, ref.name, q))
    try:
        fn = backend.get_function(ref.name, q)
    except UnknownFunctionException:
        raise UnknownFunctionException(function_arn(region, account_id, ref.name, q or "$LATEST")) from None
    return Target(fn, function_arn(region, account_id, ref.name, q))


def lambda_backend(account_id: str, region: str) -> Any:
    """moto's Lambda backend for one account and region."""
    return lambda_backends[account_id][region]


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
        ephemeral_mb=int(fn.ephemeral_storage or 512),
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
