"""boto3 clients and resources, created on first use and reused by later invocations.

Created lazily so that importing a handler module costs nothing (unit tests import them without
AWS), and cached so a warm Lambda process does not pay for client creation on every call.
The region comes from the environment; the endpoint from ``AWS_ENDPOINT_URL`` when it is set,
which boto3 honours by itself (the harness points it at its emulator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from worker_lib import config

_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}


def client(service: str) -> Any:
    """Return the cached low-level client for ``service`` (e.g. ``"s3"``)."""
    if service not in _clients:
        import boto3  # noqa: PLC0415 - provided by Lambda; deferred so importing a handler is cheap

        make: Callable[..., Any] = boto3.client  # typed loosely: the service name is a variable
        _clients[service] = make(service, region_name=config.region())
    return _clients[service]


def resource(service: str) -> Any:
    """Return the cached boto3 resource for ``service`` (only ``"dynamodb"`` is used)."""
    if service not in _resources:
        import boto3  # noqa: PLC0415 - see client()

        make: Callable[..., Any] = boto3.resource
        _resources[service] = make(service, region_name=config.region())
    return _resources[service]


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for any other exception)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
